"""A graded submission, and the files written from it: Gradescope, JSON, JUnit XML, Markdown.

``Report`` is built by ``grader.grading`` from the per-test results the plugin writes
(``--dlgrade-results``); every format is a pure function of it, so the same grades always give
the same bytes (apart from the timing fields: ``execution_time``, ``time``, ``duration``).

* ``gradescope``: Gradescope's autograder ``results.json`` (``score``, ``execution_time``,
  ``output``, ``visibility``, ``stdout_visibility``, ``tests[]`` with ``name``, ``number``,
  ``score``, ``max_score``, ``status``, ``output``, ``visibility``). Hidden tests get the
  visibility chosen by the instructor (default ``after_published``); the always-visible summary
  then counts public tests only, so it never gives hidden results away.
* ``json``: everything, for scripts (``grader.batch`` reads it back with ``from_json``).
* ``junit``: one ``<testsuite>`` per assignment, a ``<failure>`` with the message per failed test.
* ``markdown``: feedback a student can act on: per failed test what was checked (its docstring),
  what went wrong (expected vs got, the smallest failing input), and a hint.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from grader.scoring import TestResult

Format = Literal["gradescope", "json", "junit", "markdown"]
FORMATS: tuple[Format, ...] = ("gradescope", "json", "junit", "markdown")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_LIMIT = 3000  # characters of failure text per test in student-facing formats


@dataclass(frozen=True)
class AssignmentGrade:
    name: str
    tests: tuple[TestResult, ...]  # in the order pytest ran them
    error: str = ""  # set when the assignment could not be graded at all

    @property
    def earned(self) -> float:
        return sum(t.earned for t in self.tests)

    @property
    def possible(self) -> float:
        return sum(t.possible for t in self.tests)


@dataclass(frozen=True)
class Report:
    """A graded submission."""

    submission: str
    assignments: tuple[AssignmentGrade, ...]
    seed: int = 0
    sandbox: str = ""
    execution_time: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)  # what staging the submission noticed

    @property
    def earned(self) -> float:
        return sum(a.earned for a in self.assignments)

    @property
    def possible(self) -> float:
        return sum(a.possible for a in self.assignments)

    @property
    def complete(self) -> bool:
        """Every assignment was graded (none hit a grader error)."""
        return not any(a.error for a in self.assignments)

    def tests(self) -> list[TestResult]:
        return [t for a in self.assignments for t in a.tests]


def _number(x: float) -> str:
    return f"{x:g}"


# ------------------------------------------------------------------------ failure text
_PATH_NOISE = [
    (re.compile(r"/\S*?/dlgrade-sandbox-[^/\s]+/work/"), ""),  # the worker's private copy
    (re.compile(r"/\S*?/dlgrade-grade-[^/\s]+/submission/"), ""),  # the grader's staged copy
    (re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x..."),  # object addresses
]


def normalize(text: str) -> str:
    """``text`` without what differs between two runs of the same submission (temporary paths,
    object addresses)."""
    for pattern, replacement in _PATH_NOISE:
        text = pattern.sub(replacement, text)
    return text


def failure_summary(message: str) -> str:
    """The part of a failure a student needs: pytest's ``E`` lines (the assertion message and
    hypothesis's smallest failing case), without the test's source (hidden tests stay hidden)."""
    picked = [line[4:] if line.startswith("E   ") else line[1:].strip() for line in message.splitlines() if line.startswith("E ") or line == "E"]
    explained = [i for i, line in enumerate(picked) if line.strip() == "Explanation:"]  # hypothesis's, about harness lines
    picked = picked[: explained[0]] if explained else picked
    text = "\n".join(picked).strip() if picked else message.strip()
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 40] + "\n[... shortened ...]"


_PROCESS_HINTS = [  # (a pattern of the failure message, the hint): what went wrong around the code
    ("is missing", "The file was not found in the submission: upload it under its original name, at the top level or in a folder named after its assignment."),
    ("could not be loaded", "The file did not load: run it on your machine and fix the error shown (a syntax error, a failing import, code at the top level)."),
    ("did not finish within|Timeout", "Your code ran out of time: look for a loop that never ends, or a Python loop over array entries that numpy could do at once."),
    ("ended unexpectedly", "Your code stopped the Python process (sys.exit, os._exit, a crash, or a resource limit such as memory or output size): never exit from library code, and print little."),
    ("NotImplementedError", "This part is still the stub: implement it as the handout describes."),
    ("does not define", "A required name is missing: check its spelling against the handout."),
]
_RESULT_HINTS = [  # what was wrong with the result
    (r"\b(NaN|nan|inf)\b", "A NaN or inf appeared: use the numerically stable formulation (shift by the maximum before exp, use log1p/expm1, avoid dividing by values that can be 0)."),
    ("expected shape", "The shape is wrong: check which axis you reduce over and keep the batch dimension first."),
    ("expected dtype", "Return float64 arrays: avoid integer arrays and float32."),
    ("expected a", "Return the type the handout asks for (a numpy float64 array, or a float), not a list, a tuple or another object."),
    ("modified its argument", "Do not change the arrays you are given: work on a copy (x.copy()) or build new arrays."),
    ("gradient", "Compare your backward pass with the derivative of your forward pass, one term at a time; the worst entry shown tells you where."),
]


def hint_for(test: TestResult) -> str:
    """A hint for a failed test: first what went wrong around the code (time, exits, missing
    files), then the docstring's ``Hint:`` line if the author wrote one, then one chosen from
    what the failure message says about the result."""
    for pattern, hint in _PROCESS_HINTS:
        if re.search(pattern, test.message):
            return hint
    for line in test.doc.splitlines():
        if line.strip().lower().startswith("hint:"):
            return line.strip()[5:].strip()
    for pattern, hint in _RESULT_HINTS:
        if re.search(pattern, test.message):
            return hint
    return "Read the expected and actual values above, and try the smallest failing input by hand."


def _what_was_checked(test: TestResult) -> str:
    doc = "\n".join(line for line in test.doc.splitlines() if not line.strip().lower().startswith("hint:")).strip()
    return doc or test.name.removeprefix("test_").replace("_", " ")


# ------------------------------------------------------------------------ formats
def to_json(report: Report) -> str:
    document = {
        "submission": report.submission,
        "seed": report.seed,
        "sandbox": report.sandbox,
        "execution_time": round(report.execution_time, 3),
        "earned": report.earned,
        "possible": report.possible,
        "complete": report.complete,
        "notes": list(report.notes),
        "assignments": {
            a.name: {"earned": a.earned, "possible": a.possible, "error": a.error, "tests": [asdict(t) for t in a.tests]}
            for a in report.assignments
        },
    }
    return json.dumps(document, indent=2) + "\n"


def from_json(text: str) -> Report:
    """The inverse of ``to_json``."""
    document = json.loads(text)
    return Report(
        submission=document["submission"],
        seed=document["seed"],
        sandbox=document["sandbox"],
        execution_time=document["execution_time"],
        notes=tuple(document["notes"]),
        assignments=tuple(
            AssignmentGrade(name, tuple(TestResult(**t) for t in a["tests"]), a["error"]) for name, a in document["assignments"].items()
        ),
    )


def to_gradescope(report: Report, *, hidden_visibility: str = "after_published") -> str:
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility={hidden_visibility!r} is not one of {', '.join(VISIBILITIES)}")
    tests: list[dict[str, Any]] = []
    summary: list[str] = []
    skipped = 0
    for a_index, assignment in enumerate(report.assignments, 1):
        counted = [t for t in assignment.tests if t.outcome != "skipped"]
        skipped += len(assignment.tests) - len(counted)
        for t_index, test in enumerate(counted, 1):
            output = _what_was_checked(test)
            if test.outcome == "failed":
                output += f"\n\n{failure_summary(test.message)}\n\nHint: {hint_for(test)}"
            tests.append(
                {
                    "name": f"{assignment.name}: {test.name}" + (" (hidden)" if test.hidden else ""),
                    "number": f"{a_index}.{t_index}",
                    "score": test.earned,
                    "max_score": test.points,
                    "status": "passed" if test.outcome == "passed" else "failed",
                    "output": output,
                    "visibility": hidden_visibility if test.hidden else "visible",
                }
            )
        shown = counted if hidden_visibility == "visible" else [t for t in counted if not t.hidden]
        which = "" if hidden_visibility == "visible" or len(shown) == len(counted) else "public tests "
        line = f"{assignment.name}: {which}{_number(sum(t.earned for t in shown))} / {_number(sum(t.points for t in shown))} points"
        if assignment.error:
            line += f"; could not be graded: {assignment.error}"
        summary.append(line)
    if skipped:
        summary.append(f"{skipped} GPU test(s) were skipped (no GPU on the grading machine) and do not count.")
    summary.extend(report.notes)
    document = {
        "score": report.earned,
        "execution_time": round(report.execution_time, 3),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(document, indent=2) + "\n"


def to_junit(report: Report) -> str:
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
        ET.SubElement(properties, "property", name="earned", value=_number(assignment.earned))
        ET.SubElement(properties, "property", name="possible", value=_number(assignment.possible))
        if assignment.error:
            ET.SubElement(suite, "error", message="could not be graded").text = assignment.error
        for test in assignment.tests:
            module, _, _ = test.nodeid.partition("::")
            classname = module.removesuffix(".py").replace("/", ".")
            case = ET.SubElement(suite, "testcase", classname=classname, name=test.name, time=f"{test.duration:.3f}")
            case_properties = ET.SubElement(case, "properties")
            ET.SubElement(case_properties, "property", name="points", value=_number(test.points))
            if test.outcome == "failed":
                summary = failure_summary(test.message)
                first = summary.splitlines()[0] if summary else "failed"
                ET.SubElement(case, "failure", message=first[:200], type="AssertionError").text = test.message
            elif test.outcome == "skipped":
                ET.SubElement(case, "skipped", message=test.message or "skipped")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def to_markdown(report: Report, *, show_hidden: bool = True) -> str:
    """Feedback for the student; ``show_hidden=False`` gives hidden tests' scores only."""
    out = [f"# Feedback: {_number(report.earned)} / {_number(report.possible)} points", ""]
    out += ["| assignment | passed | points |", "|---|---:|---:|"]
    for a in report.assignments:
        counted = [t for t in a.tests if t.outcome != "skipped"]
        passed = sum(t.outcome == "passed" for t in counted)
        out.append(f"| {a.name} | {passed}/{len(counted)} | {_number(a.earned)} / {_number(a.possible)} |")
    out.append("")
    for note in report.notes:
        out.append(f"> {note}")
    for a in report.assignments:
        failed = [t for t in a.tests if t.outcome == "failed"]
        if a.error:
            out += [f"## {a.name}", "", f"This assignment could not be graded: {a.error}", ""]
            continue
        if not failed:
            continue
        out += [f"## {a.name}", ""]
        for test in failed:
            title = f"### {test.name} ({_number(test.points)} point{'s' if test.points != 1 else ''}{', hidden test' if test.hidden else ''})"
            out += [title, ""]
            if test.hidden and not show_hidden:
                out += ["A hidden test failed; its details are shown after grades are published.", ""]
                continue
            out += [f"**What was checked:** {_what_was_checked(test)}", "", "**What went wrong:**", "", _fence(failure_summary(test.message)), ""]
            out += [f"**Hint:** {hint_for(test)}", ""]
    skipped = [t for t in report.tests() if t.outcome == "skipped"]
    if skipped:
        out += [f"_{len(skipped)} GPU test(s) were skipped (no GPU on the grading machine) and do not count._", ""]
    return "\n".join(out).rstrip() + "\n"


def render(report: Report, fmt: Format, *, hidden_visibility: str = "after_published") -> str:
    if fmt == "gradescope":
        return to_gradescope(report, hidden_visibility=hidden_visibility)
    if fmt == "json":
        return to_json(report)
    if fmt == "junit":
        return to_junit(report)
    if fmt == "markdown":
        return to_markdown(report)
    raise ValueError(f"format={fmt!r} is not one of {', '.join(FORMATS)}")
