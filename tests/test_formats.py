"""The output formats: the registry, what each shows of hidden tests, and what rendering imports."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from grader.formats import FORMATS, VISIBILITIES, render
from grader.results import AssignmentGrade, Report, TestResult, from_json

HIDDEN_DETAIL = "expected 3.0, got 4.0"


def _report() -> Report:
    public = TestResult("assignments/a0/test_x.py::test_a", "a0", "test_a", 2.0, "passed", False, doc="Checks a.")
    hidden = TestResult("assignments/a0/hidden/test_y.py::test_b", "a0", "test_b", 3.0, "failed", True, message=f"E   AssertionError: {HIDDEN_DETAIL}")
    return Report("alice", (AssignmentGrade("a0", (public, hidden)),), sandbox="allowlist")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_renders_the_same_bytes_twice(name):
    assert render(_report(), name) == render(_report(), name)


def test_formats_parse_as_what_they_claim():
    report = _report()
    assert from_json(render(report, "json", hidden_visibility="visible")) == report
    assert json.loads(render(report, "gradescope"))["score"] == 2.0
    suite = ET.fromstring(render(report, "junit")).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    assert render(report, "markdown").startswith("# Feedback: 2 / 5 points")


def test_html_is_the_markdown_feedback_as_a_phone_sized_page_with_student_text_escaped():
    hostile = TestResult("assignments/a0/test_x.py::test_c", "a0", "test_c", 1.0, "failed", False, message="E   ValueError: <script>alert(1)</script>")
    report = Report("alice", (AssignmentGrade("a0", (*_report().assignments[0].tests, hostile)),))
    page = render(report, "html", hidden_visibility="visible")
    assert page.startswith("<!DOCTYPE html>") and 'name="viewport"' in page
    assert "<title>Feedback: 2 / 6 points</title>" in page
    assert "<table>" in page and "<td>a0</td>" in page  # the score table is a table
    assert HIDDEN_DETAIL in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_markdown_hides_hidden_details_when_asked():
    assert HIDDEN_DETAIL in render(_report(), "markdown", hidden_visibility="visible")
    hidden = render(_report(), "markdown", hidden_visibility="hidden")
    assert HIDDEN_DETAIL not in hidden and "test_b" in hidden


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="not one of"):
        render(_report(), "pdf")
    with pytest.raises(ValueError, match="not one of"):
        render(_report(), "json", hidden_visibility="sometimes")
    assert VISIBILITIES[-1] == "visible"


def test_rendering_imports_neither_pytest_nor_the_worker():
    code = "import sys, grader.formats; print(sorted(m for m in sys.modules if m == 'pytest' or m.startswith(('grader.remote', 'grader.worker', 'grader.plugin'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_a_file_that_did_not_load_is_one_section_naming_the_tests_it_cost():
    broken = "calc.py (a0) could not be loaded: SyntaxError: invalid syntax (calc.py, line 2)"
    tests = tuple(TestResult(f"assignments/a0/test_x.py::test_{n}", "a0", f"test_{n}", 1.0, "failed", n == "c", message=broken) for n in "abc")
    text = render(Report("bob", (AssignmentGrade("a0", tests),)), "markdown")
    assert text.count("SyntaxError: invalid syntax") == 1
    assert "### calc.py (a0) could not be loaded (3 tests, 3 points)" in text
    assert "**Tests it cost:** test_a, test_b, test_c" in text


def test_public_tests_come_before_hidden_ones():
    hidden_first = tuple(reversed(_report().assignments[0].tests))
    document = json.loads(render(Report("alice", (AssignmentGrade("a0", hidden_first),)), "gradescope"))
    assert [(t["number"], t["visibility"]) for t in document["tests"]] == [("1.1", "visible"), ("1.2", "after_published")]


def test_the_failing_case_shows_inputs_not_the_harness_fixtures():
    message = "E   AssertionError: softmax: nan\nE       Failing test case:\nE       test_softmax(\nE           student=get,\nE           reference=get,\nE           x=array([0., 0.]),\nE       )"
    test = TestResult("assignments/a0/test_x.py::test_softmax", "a0", "test_softmax", 1.0, "failed", False, message=message)
    text = render(Report("bob", (AssignmentGrade("a0", (test,)),)), "markdown")
    assert "x=array([0., 0.])," in text and "=get" not in text


DIAGNOSIS = "This looks like a known mistake in softmax: softmax without the max shift. Subtract the maximum."


def _diagnosed_report() -> Report:
    public = TestResult("assignments/a0/test_x.py::test_s", "a0", "test_s", 1.0, "failed", False, message="E   AssertionError: softmax: contains nan", diagnosis=DIAGNOSIS)
    hidden = TestResult("assignments/a0/hidden/test_y.py::test_h", "a0", "test_h", 1.0, "failed", True, message="E   AssertionError: x", diagnosis=DIAGNOSIS + " (hidden)")
    return Report("alice", (AssignmentGrade("a0", (public, hidden)),), sandbox="allowlist")


@pytest.mark.parametrize("name", ["markdown", "html", "gradescope", "classroom"])
def test_a_diagnosis_replaces_the_generic_hint_in_every_student_format(name):
    text = render(_diagnosed_report(), name, hidden_visibility="hidden")
    assert DIAGNOSIS in text
    assert "use the numerically stable formulation" not in text  # the generic hint for a NaN


@pytest.mark.parametrize("name", ["markdown", "html", "json", "junit", "classroom"])
def test_a_hidden_tests_diagnosis_is_a_hidden_detail(name):
    assert DIAGNOSIS + " (hidden)" not in render(_diagnosed_report(), name, hidden_visibility="hidden")
    if name in ("markdown", "html", "json"):  # Classroom shows public tests only; JUnit no hints
        assert DIAGNOSIS + " (hidden)" in render(_diagnosed_report(), name, hidden_visibility="visible")
