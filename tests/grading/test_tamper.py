"""The tamper corpora, each graded as one roster with ``batch --jobs 2`` beside honest submissions,
at every sandbox level this machine reaches (``allowlist``; ``user``: root without CAP_SYS_ADMIN):
no case gains a mark, every submission is graded, the honest ones keep their grades, nothing a
submission left behind survives, no fake result is read, and no output shows a hidden test.

* ``tests/grading/tamper.py``: attacks on the judge through the worker (exits, loops, floods,
  lying objects, fake results, patched libraries, leftover processes) on the tiny course;
* ``tests/grading/course_attacks.py``: attacks on what surrounds the worker (the course's git
  history, the harness's and the judge's paths, classmates, the banned-import check's file, a
  forged 256 MiB answer, hidden tests quoted in an exception), and on the course helpers that
  run in the worker beside the student's code (an a9 notebook rewriting them through ``gc``,
  graded on the real course).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import nbformat
import pytest

from tests.grading import course_attacks
from tests.grading.conftest import FAST, dlgrade, reachable_levels
from tests.grading.course import HIDDEN_TESTS, OPS_REFERENCE, PUBLIC_TESTS, solution, submission
from tests.grading.tamper import CASES, MARKER, source
from tests.planted import as_notebook

HONEST = {
    "honest": (solution(OPS_REFERENCE), 6.0),
    "mixed": (solution(OPS_REFERENCE).replace("np.mean(np.abs(x))", "np.mean(x)"), 4.0),
    "buggy_flattens": (solution(OPS_REFERENCE).replace("np.asarray(x, dtype=np.float64) ** 2", "np.ravel(x) ** 2"), 1.0 + 2.0),
}
LEVELS = reachable_levels()


def _batch(course: Path, roster: Path, out: Path, prefix: tuple[str, ...]) -> dict[str, dict[str, str]]:
    run = dlgrade("batch", roster, "--out", out, "--jobs", "2", "--assignment", "t1_ops", "--course", course, "--no-progress", *FAST, prefix=prefix)
    assert run.returncode == 0, run.stderr
    with open(out / "gradebook.csv") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module", params=LEVELS)
def graded(request: pytest.FixtureRequest, course: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]], str]:
    roster = tmp_path_factory.mktemp("roster")
    for case in CASES:
        folder = submission(roster / case.name, ops=source(case, str(course)), extra=case.extra)
        if case.link_to_reference:
            target = folder / "assignments" / "t1_ops" / "ops.py"
            target.unlink()
            target.symlink_to(course / "reference" / "t1_ops" / "ops.py")
    for name, (ops, _) in HONEST.items():
        submission(roster / name, ops=ops)
    out = tmp_path_factory.mktemp("out")
    level, prefix = request.param
    return out, _batch(course, roster, out, prefix), level


@pytest.fixture(scope="module", params=LEVELS)
def attacked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]], str]:
    course = course_attacks.attack_course(tmp_path_factory.mktemp("attack-course"))
    roster = tmp_path_factory.mktemp("attack-roster")
    for case in course_attacks.CASES:
        submission(roster / case.name, ops=source(case, str(course)))
    submission(roster / "honest", ops=solution(OPS_REFERENCE))
    submission(roster / "mixed", ops=solution(OPS_REFERENCE).replace("np.mean(np.abs(x))", "np.mean(x)"))
    out = tmp_path_factory.mktemp("attack-out")
    level, prefix = request.param
    return out, _batch(course, roster, out, prefix), level


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tampering_gains_nothing(graded, case):
    out, rows, _ = graded
    row = rows[case.name]
    assert row["status"] == "ok", row  # graded, whatever the submission did
    assert float(row["total"]) == case.points
    assert float(row["possible"]) == 6.0


@pytest.mark.parametrize("case", course_attacks.CASES, ids=[c.name for c in course_attacks.CASES])
def test_attacks_on_the_course_classmates_and_judge_gain_nothing(attacked, case):
    out, rows, _ = attacked
    row = rows[case.name]
    assert row["status"] == "ok", row
    assert (float(row["total"]), float(row["possible"])) == (case.points, 7.0)


def test_honest_submissions_beside_the_attacks_keep_their_grades(attacked):
    _, rows, _ = attacked
    assert {name: float(rows[name]["total"]) for name in course_attacks.HONEST} == course_attacks.HONEST


def test_the_banned_import_check_reads_the_judges_copy(attacked):
    out, _, _ = attacked
    results = (out / "students" / "banned_import_hidden_by_rewriting_the_copy" / "results.json").read_text()
    assert "imports sklearn, which this assignment does not allow" in results


def test_no_output_shows_a_hidden_test_or_the_level_is_missing(attacked):
    """Not its source (even quoted by student code), nor its path; every file names the level."""
    out, _, level = attacked
    secret = {line.strip() for line in HIDDEN_TESTS.splitlines() if len(line.strip()) >= 16} - {line.strip() for line in PUBLIC_TESTS.splitlines()}
    for student in (out / "students").iterdir():
        for path in student.iterdir():
            text = path.read_text()
            assert not [line for line in secret if line in text], path
            assert "hidden/test_ops_hidden.py" not in text, path
            assert level in text, path
    assert f"- isolation: {level}" in (out / "summary.md").read_text()


@pytest.mark.parametrize("name", HONEST)
def test_honest_submissions_in_the_same_roster_keep_their_grades(graded, name):
    _, rows, _ = graded
    assert float(rows[name]["total"]) == HONEST[name][1]


def test_messages_say_what_the_submission_did(graded):
    out, _, _ = graded

    def messages(name: str) -> str:
        return (out / "students" / name / "results.json").read_text()

    assert "exit status 0: student code must not exit the process" in messages("os_exit_at_import")
    assert "did not finish within" in messages("infinite_loops_in_functions")
    assert "MemoryError" in messages("memory_bombs")
    assert "File too large" in messages("output_flood_in_function")  # RLIMIT_FSIZE (Python ignores SIGXFSZ)
    assert "ops.py was not graded: it is not a regular file" in messages("symlink_to_reference")


def test_nothing_survives_and_no_fake_results_reached_the_grader(graded, course):
    out, _, _ = graded
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                survivors.append(pid)
        except OSError:
            pass
    assert survivors == []
    expected = {"gradebook.csv", "shard.json", "summary.md", "summary.html", "scores.png", "pass-rates.png", "students"}
    assert {p.name for p in out.iterdir()} == expected
    for student in (out / "students").iterdir():
        assert {p.name for p in student.iterdir()} - {"fingerprint.json"} == {"results.json", "gradescope.json", "feedback.md"}  # --resume's
    assert not list(course.rglob("results*.json"))


def test_summary_shows_the_distribution(graded):
    out, _, _ = graded
    summary = (out / "summary.md").read_text()
    assert f"- submissions: {len(CASES) + len(HONEST)}" in summary
    assert "| 90-100 | 1 |" in summary  # the honest submission
    assert "![Score distribution](scores.png)" in summary and "## The tests the fewest students pass" in summary
    assert (out / "scores.png").read_bytes().startswith(b"\x89PNG") and (out / "pass-rates.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("level", LEVELS)
def test_rewriting_the_course_helpers_in_the_worker_gains_nothing(tmp_path, level):
    """a9, at each reachable level: a wrong notebook that rewrites the course's helper module in
    the worker (through gc) earns nothing on the tests whose facts that module once measured."""
    name, prefix = level
    folder = tmp_path / "submission" / "assignments" / "a9_torch"
    folder.mkdir(parents=True)
    (folder / "torch_practice.ipynb").write_text(nbformat.writes(as_notebook(course_attacks.HELPER_ATTACK_NOTEBOOK)))
    out = tmp_path / "results.json"
    run = dlgrade("grade", tmp_path / "submission", "--assignment", "a9_torch", "--format", "json", "--out", out, prefix=prefix)
    assert run.returncode == 0, run.stderr
    report = json.loads(out.read_text())
    assert report["sandbox"] == name
    targeted = [t for t in report["assignments"]["a9_torch"]["tests"] if t["name"].split("[")[0] in course_attacks.HELPER_ATTACK_TESTS]
    assert {t["name"].split("[")[0] for t in targeted} == course_attacks.HELPER_ATTACK_TESTS
    gained = [f"{t['name']} ({t['points']:g})" for t in targeted if t["outcome"] == "passed"]
    assert sum(t["points"] for t in targeted if t["outcome"] != "skipped") > 0 and not gained, f"gained {gained}"
