"""``grade``'s judges: several assignments in one judge, several judges at once, and a judge that
ends early costs only the assignment it was running."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from grader.course import Course
from grader.grading import Part, divide, expected_cost, grade, spread
from grader.settings import Settings

STUDENT = "import numpy as np\n\n\ndef double(x):\n    return 2 * np.asarray(x, dtype=np.float64)\n"
TEST = """import numpy as np
import pytest

from grader import assert_close


@pytest.mark.points(2)
def test_double(student):
    assert_close(student("{name}.py").double(np.arange(3.0)), 2 * np.arange(3.0))


@pytest.mark.points(1)
def test_double_again(student):
    assert_close(student("{name}.py").double(np.ones(2)), np.full(2, 2.0))
"""
ENDS_THE_JUDGE = {
    "crash": "import os, signal\n\n\ndef test_the_judge_dies():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
    "hang": "import time\n\n\ndef test_the_judge_hangs():\n    time.sleep(600)\n",
}
NAMES = ["j1_first", "j2_second", "j3_third"]


def write_course(root: Path, second: str | None = None) -> tuple[Path, Path]:
    """A course of three assignments (3 points each) and a correct submission; with ``second``,
    the second assignment's course test ends the judge (``crash``) or never ends (``hang``)."""
    course, student = root / "course", root / "student"
    for name in NAMES:
        folder = course / "assignments" / name
        folder.mkdir(parents=True)
        (folder / f"{name}.py").write_text("def double(x):\n    raise NotImplementedError\n")
        (folder / f"test_{name}.py").write_text(TEST.format(name=name))
        (student / "assignments" / name).mkdir(parents=True)
        (student / "assignments" / name / f"{name}.py").write_text(STUDENT)
    if second is not None:
        (course / "assignments" / NAMES[1] / "test_ends.py").write_text(ENDS_THE_JUDGE[second])
    return course, student


def scores(report) -> dict[str, tuple[float, float, str | None]]:
    return {a.name: (a.earned, a.possible, a.error or None) for a in report.assignments}


def test_spread_gives_each_assignment_to_one_group_of_about_equal_cost():
    costs = {"a": 43, "b": 28, "c": 12, "d": 19, "e": 21, "f": 16, "g": 19, "h": 20, "i": 24}
    groups = spread(costs, 2)
    assert sorted(a for g in groups for a in g) == sorted(costs)
    totals = [sum(costs[a] for a in g) for g in groups]
    assert len(groups) == 2 and sorted(totals) == [99, 103]  # most costly first (in course order, round-robin gives 119 and 83)
    assert all(g == sorted(g, key=list(costs).index) for g in groups)  # course order kept
    assert spread(costs, 20) == [[a] for a in costs]  # never an empty group
    assert spread(costs, 1) == [list(costs)]


def test_the_expected_cost_counts_the_test_functions(tmp_path):
    course, _ = write_course(tmp_path, second="crash")
    assert [expected_cost(Course(course).test_counts(name)) for name in NAMES] == [2, 3, 2]
    assert expected_cost(Course(course).test_counts(NAMES[1]), ("test_ends.py",)) == 1


def test_fewer_assignments_than_judges_are_cut_between_their_test_files(tmp_path):
    course, _ = write_course(tmp_path)
    folder = course / "assignments" / NAMES[0]
    (folder / "hidden").mkdir()
    for name, tests in [("hidden/test_a.py", 3), ("hidden/test_b.py", 1), ("test_c.py", 1)]:
        (folder / name).write_text("".join(f"def test_{i}():\n    pass\n\n\n" for i in range(tests)))
    assert Course(course).test_files(NAMES[0]) == ["hidden/test_a.py", "hidden/test_b.py", "test_c.py", f"test_{NAMES[0]}.py"]  # pytest's order
    assert divide(Course(course), NAMES, 2) == {Part(NAMES[0]): 7, Part(NAMES[1]): 2, Part(NAMES[2]): 2}  # enough assignments: each whole
    assert divide(Course(course), [NAMES[0]], 1) == {Part(NAMES[0]): 7}
    assert divide(Course(course), [NAMES[0]], 2) == {Part(NAMES[0], ("hidden/test_a.py",)): 3, Part(NAMES[0], ("hidden/test_b.py", "test_c.py", f"test_{NAMES[0]}.py")): 4}
    three = divide(Course(course), [NAMES[0], NAMES[1]], 3)  # the costliest is cut
    assert list(three) == [Part(NAMES[0], ("hidden/test_a.py",)), Part(NAMES[0], ("hidden/test_b.py", "test_c.py", f"test_{NAMES[0]}.py")), Part(NAMES[1])]
    assert len(divide(Course(course), [NAMES[1]], 8)) == 1  # one test file cannot be cut


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_the_grades_do_not_depend_on_how_many_judges_run(tmp_path, jobs):
    course, student = write_course(tmp_path)
    report = grade(student, course=Course(course), settings=Settings.grading(sandbox=False, jobs=jobs))
    assert scores(report) == {name: (3.0, 3.0, None) for name in NAMES}
    assert [a.name for a in report.assignments] == NAMES


def test_an_assignment_cut_into_parts_gets_the_grade_it_gets_whole(tmp_path):
    course, student = write_course(tmp_path)
    hidden = course / "assignments" / NAMES[0] / "hidden"
    hidden.mkdir()
    (hidden / f"test_hidden_{NAMES[0]}.py").write_text(TEST.format(name=NAMES[0]).replace("def test_double", "def test_hidden_double").replace("2 * np.arange(3.0)", "np.arange(3.0)"))
    whole, parts = (grade(student, course=Course(course), assignments=[NAMES[0]], settings=Settings.grading(sandbox=False, jobs=jobs)) for jobs in (1, 2))
    assert [t.nodeid for t in parts.assignments[0].tests] == [t.nodeid for t in whole.assignments[0].tests]
    assert [(t.outcome, t.points, t.hidden) for t in parts.assignments[0].tests] == [(t.outcome, t.points, t.hidden) for t in whole.assignments[0].tests]
    assert scores(parts) == scores(whole) == {NAMES[0]: (4.0, 6.0, None)}  # test_hidden_double (2 points) fails: 2 x != x


def test_a_cut_assignment_whose_code_spent_budget_is_judged_whole(tmp_path):
    """Each part has a budget of its own: after a hang, only a whole run gives the verdicts of a
    whole run (there, the hang's part spends the budget the next part's tests needed)."""
    course, student = write_course(tmp_path)
    hidden = course / "assignments" / NAMES[0] / "hidden"
    hidden.mkdir()
    (hidden / "test_hang.py").write_text(f'def test_hangs(student):\n    student("{NAMES[0]}.py").hang()\n')
    with open(student / "assignments" / NAMES[0] / f"{NAMES[0]}.py", "a") as file:
        file.write("\n\ndef hang():\n    while True:\n        pass\n")
    settings = Settings.grading(sandbox=False, budget=1.0, timeout=5.0)
    whole, parts = (grade(student, course=Course(course), assignments=[NAMES[0]], settings=replace(settings, jobs=jobs)) for jobs in (1, 2))
    assert len(divide(Course(course), [NAMES[0]], 2)) == 2  # cut, at first
    assert [(t.name, t.outcome) for t in parts.assignments[0].tests] == [(t.name, t.outcome) for t in whole.assignments[0].tests]
    assert scores(parts) == scores(whole) == {NAMES[0]: (0.0, 4.0, None)}  # the budget is spent by the hang: the rest fail at once
    assert "budget" in whole.assignments[0].tests[-1].message and whole.assignments[0].unanswered >= 1.0


def test_a_part_that_ends_its_judge_costs_only_its_own_tests(tmp_path):
    course, student = write_course(tmp_path, second="crash")
    report = grade(student, course=Course(course), assignments=[NAMES[1]], settings=Settings.grading(sandbox=False, jobs=2))
    [graded] = report.assignments
    assert [t.name for t in graded.tests] == ["test_double", "test_double_again"]  # the other part's
    assert "exit status -9" in graded.error and not report.complete


@pytest.mark.parametrize("how", ["crash", "hang"])
def test_a_judge_that_ends_early_costs_only_the_assignment_it_was_running(tmp_path, how):
    course, student = write_course(tmp_path, second=how)
    settings = Settings.grading(sandbox=False, jobs=1, timeout=600, assignment_timeout=60)
    report = grade(student, course=Course(course), settings=settings)
    graded = scores(report)
    assert graded[NAMES[0]] == (3.0, 3.0, None)  # finished before the judge ended: kept
    assert graded[NAMES[2]] == (3.0, 3.0, None)  # after it: graded again
    earned, possible, error = graded[NAMES[1]]
    assert (earned, possible) == (0.0, 0.0) and error
    assert ("did not finish within 60 s" if how == "hang" else "exit status -9") in error
    assert not report.complete


def test_judges_keep_their_compiled_modules_in_the_graders_cache_not_in_the_course(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # the grader's own setting does not reach its judges
    course, student = write_course(tmp_path)
    report = grade(student, course=Course(course), assignments=[NAMES[0]], settings=Settings.grading(sandbox=False))
    assert scores(report) == {NAMES[0]: (3.0, 3.0, None)}
    cache = tmp_path / "cache" / "dlgrade" / "bytecode"
    assert cache.stat().st_mode & 0o777 == 0o700
    assert list(cache.rglob(f"test_{NAMES[0]}.*-pytest-*.pyc"))  # the course's tests, as pytest rewrote them
    assert list(cache.rglob("hypothesis/core.*-pytest-*.pyc"))  # a plugin's modules, rewritten too
    assert not list(course.rglob("__pycache__"))
