"""The Classroom side of the release: the ``classroom`` result document, and the workflows in
``ci/`` (linted by ``tests/test_workflows.py``; the student workflow has one grading step per
assignment and the reporter reads every one of them)."""

from __future__ import annotations

import json

import yaml

from grader.course import PROJECT_ROOT
from grader.formats import render
from grader.results import AssignmentGrade, Report, TestResult

from .conftest import COURSE

WORKFLOW = PROJECT_ROOT / "ci" / "classroom" / "classroom.yml"


def _test(name: str, points: float, outcome: str, *, hidden: bool = False) -> TestResult:
    folder = "hidden/" if hidden else ""
    return TestResult(f"assignments/a1/{folder}test_x.py::{name}", "a1", name, points, outcome, hidden, message="E   AssertionError: off by one" if outcome == "failed" else "")


def test_the_classroom_document_counts_public_tests_only():
    report = Report("s", (AssignmentGrade("a1", (_test("test_a", 2, "passed"), _test("test_b", 3, "failed"), _test("test_gpu", 1, "skipped"), _test("test_h", 5, "passed", hidden=True))),))
    document = json.loads(render(report, "classroom"))
    assert (document["version"], document["status"], document["max_score"]) == (1, "fail", 5)
    assert [(t["name"], t["status"], t["score"]) for t in document["tests"]] == [("a1: test_a", "pass", 2), ("a1: test_b", "fail", 0)]
    assert "off by one" in document["tests"][1]["message"] and document["tests"][1]["filename"] == "assignments/a1/test_x.py"


def test_an_assignment_that_could_not_be_graded_is_an_error():
    document = json.loads(render(Report("s", (AssignmentGrade("a1", (), "pytest ended with exit status 3"),)), "classroom"))
    assert (document["status"], document["max_score"], document["tests"]) == ("error", 0, [])
    assert "a1 could not be graded: pytest ended with exit status 3" in document["message"]


def test_the_workflow_grades_each_assignment_in_a_step_the_reporter_reads():
    document = yaml.safe_load(WORKFLOW.read_text())
    assert document["name"] == "Autograding Tests" and list(document["jobs"]) == ["run-autograding-tests"]  # what Classroom looks for
    steps = document["jobs"]["run-autograding-tests"]["steps"]
    grading = [s for s in steps if "--format classroom" in s.get("run", "")]
    assert [s["id"] for s in grading] == COURSE.assignments()
    assert all(s["env"]["ASSIGNMENT"] == s["id"] for s in grading)
    (reporter,) = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter@")]
    assert reporter["with"]["runners"].split(",") == COURSE.assignments()
    assert reporter["env"] == {f"{a.upper()}_RESULTS": f"${{{{ steps.{a}.outputs.result }}}}" for a in COURSE.assignments()}
