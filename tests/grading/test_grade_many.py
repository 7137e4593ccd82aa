"""``grade_assignment_many``: several submissions in one pytest run give each the grade ``grade``
gives it alone; a planned submission can run some tests only and stop at its first failure."""

from __future__ import annotations

from pathlib import Path

from grader.course import Course
from grader.grading import Request, grade, grade_assignment_many
from grader.plugin import NOT_RUN
from grader.settings import Settings
from tests.grading.course import OPS_REFERENCE, solution, submission

T1 = "t1_ops"
SETTINGS = Settings.grading(timeout=6.0)
BUGGY_OPS = solution(OPS_REFERENCE).replace("** 2", "* 2")


def verdicts(grade) -> list[tuple[str, str, float]]:
    return sorted((t.name, t.outcome, t.points) for t in grade.tests)


def test_each_submission_gets_the_grade_it_gets_alone(course: Path, tmp_path: Path) -> None:
    folders = [
        submission(tmp_path / "honest", ops=solution(OPS_REFERENCE)),
        submission(tmp_path / "buggy", ops=BUGGY_OPS),
        submission(tmp_path / "empty"),
    ]
    together = grade_assignment_many(T1, [Request(f) for f in folders], course=Course(course), settings=SETTINGS)
    alone = [grade(f, course=Course(course), assignments=[T1], settings=SETTINGS).assignments[0] for f in folders]
    assert not any(g.error for g in together)
    assert [verdicts(g) for g in together] == [verdicts(g) for g in alone]
    assert [g.earned for g in together] == [6.0, 2.0, 0.0]


def test_a_planned_submission_runs_the_tests_it_names_and_stops_at_its_first_failure(course: Path, tmp_path: Path) -> None:
    buggy = submission(tmp_path / "buggy", ops=BUGGY_OPS)
    honest = submission(tmp_path / "honest", ops=solution(OPS_REFERENCE))
    tests = frozenset({"test_square_is_x_times_x", "test_square_on_a_secret_matrix"})
    stopped, full = grade_assignment_many(T1, [Request(buggy, tests, first_failure=True), Request(honest, tests)], course=Course(course), settings=SETTINGS)
    assert {t.name for t in stopped.tests} == {t.name for t in full.tests} == tests
    assert full.earned == full.possible == 4.0
    outcomes = sorted((t.outcome, NOT_RUN in t.message) for t in stopped.tests)
    assert outcomes == [("failed", False), ("failed", True)], [(t.name, t.message[:100]) for t in stopped.tests]
