"""``junit``: JUnit XML, one ``<testsuite>`` per assignment, a ``<failure>`` per failed test.

Points and the isolation level are ``<property>`` elements (``earned``/``possible``/``sandbox``
per suite, ``points`` per case), so a
CI system shows the grade beside the usual pass/fail counts.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.formats.disclosure import shows_hidden_details, without_hidden_details
from grader.formats.failures import failure_summary, number
from grader.results import Report


def render(report: Report, *, hidden_visibility: str) -> str:
    if not shows_hidden_details(hidden_visibility):
        report = without_hidden_details(report)
    suites = ET.Element("testsuites", name="dlgrade", tests=str(len(report.tests())))
    for assignment in report.assignments:
        failures = sum(t.outcome == "failed" for t in assignment.tests)
        skipped = sum(t.outcome == "skipped" for t in assignment.tests)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=assignment.name,
            tests=str(len(assignment.tests)),
            failures=str(failures),
            errors="1" if assignment.error else "0",
            skipped=str(skipped),
            time=f"{sum(t.duration for t in assignment.tests):.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="earned", value=number(assignment.earned))
        ET.SubElement(properties, "property", name="possible", value=number(assignment.possible))
        ET.SubElement(properties, "property", name="sandbox", value=report.sandbox)
        if assignment.error:
            ET.SubElement(suite, "error", message="could not be graded").text = assignment.error
        for test in assignment.tests:
            module, _, _ = test.nodeid.partition("::")
            classname = module.removesuffix(".py").replace("/", ".")
            case = ET.SubElement(suite, "testcase", classname=classname, name=test.name, time=f"{test.duration:.3f}")
            case_properties = ET.SubElement(case, "properties")
            ET.SubElement(case_properties, "property", name="points", value=number(test.points))
            if test.outcome == "failed":
                summary = failure_summary(test.message)
                first = summary.splitlines()[0] if summary else "failed"
                ET.SubElement(case, "failure", message=first[:200], type="AssertionError").text = test.message
            elif test.outcome == "skipped":
                ET.SubElement(case, "skipped", message=test.message or "skipped")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
