"""What every format discloses about how a submission was graded, and what it keeps back.

Every format states the isolation level the student's code ran at (``grader.sandbox``). Hidden
tests' details (their messages, docstrings, file names and diagnoses) are shown only where the instructor's
``hidden_visibility`` allows: Gradescope by each test's own visibility, every other format only
when it is ``visible``.
"""

from __future__ import annotations

from dataclasses import replace

from grader.results import Report, TestResult

HIDDEN_DETAILS = "A hidden test failed; its details are shown after grades are published."


def isolation_line(report: Report) -> str:
    """How the student code was confined, for every format's header."""
    if report.sandbox == "off":
        return "Isolation: none (graded with --sandbox off: the student code ran unconfined)"
    return f"Isolation: sandbox level {report.sandbox or 'unknown'}"


def shows_hidden_details(hidden_visibility: str) -> bool:
    """Whether a format without per-test visibility may show hidden tests' details."""
    return hidden_visibility == "visible"


def without_hidden_details(report: Report) -> Report:
    """``report`` with hidden tests' messages, docstrings, file names and diagnoses removed (their
    names and scores stay)."""

    def strip(test: TestResult) -> TestResult:
        if not test.hidden:
            return test
        message = HIDDEN_DETAILS if test.message else ""
        return replace(test, message=message, doc="", diagnosis="", nodeid=f"assignments/{test.assignment}/hidden::{test.name}")

    return replace(report, assignments=tuple(replace(a, tests=tuple(strip(t) for t in a.tests)) for a in report.assignments))
