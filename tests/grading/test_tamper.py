"""The tamper corpus (tests/grading/tamper.py), graded as one roster with ``batch --jobs 2`` beside
honest submissions: no case gains a mark, every submission is graded, the honest ones keep their
grades, nothing a submission left behind survives, and no fake result is read."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.grading.conftest import FAST, dlgrade
from tests.grading.course import OPS_REFERENCE, solution, submission
from tests.grading.tamper import CASES, MARKER, source

HONEST = {
    "honest": (solution(OPS_REFERENCE), 6.0),
    "mixed": (solution(OPS_REFERENCE).replace("np.mean(np.abs(x))", "np.mean(x)"), 4.0),
    "buggy_flattens": (solution(OPS_REFERENCE).replace("np.asarray(x, dtype=np.float64) ** 2", "np.ravel(x) ** 2"), 1.0 + 2.0),
}


@pytest.fixture(scope="module")
def graded(course: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]]]:
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
    run = dlgrade("batch", roster, "--out", out, "--jobs", "2", "--assignment", "t1_ops", "--course", course, "--no-progress", *FAST)
    assert run.returncode == 0, run.stderr
    with open(out / "gradebook.csv") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return out, rows


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tampering_gains_nothing(graded, case):
    out, rows = graded
    row = rows[case.name]
    assert row["status"] == "ok", row  # graded, whatever the submission did
    assert float(row["total"]) == case.points
    assert float(row["possible"]) == 6.0


@pytest.mark.parametrize("name", HONEST)
def test_honest_submissions_in_the_same_roster_keep_their_grades(graded, name):
    _, rows = graded
    assert float(rows[name]["total"]) == HONEST[name][1]


def test_messages_say_what_the_submission_did(graded):
    out, _ = graded

    def messages(name: str) -> str:
        return (out / "students" / name / "results.json").read_text()

    assert "exit status 0: student code must not exit the process" in messages("os_exit_at_import")
    assert "did not finish within" in messages("infinite_loops_in_functions")
    assert "MemoryError" in messages("memory_bombs")
    assert "File too large" in messages("output_flood_in_function")  # RLIMIT_FSIZE (Python ignores SIGXFSZ)
    assert "ops.py was not graded: it is not a regular file" in messages("symlink_to_reference")


def test_nothing_survives_and_no_fake_results_reached_the_grader(graded, course):
    out, _ = graded
    survivors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                survivors.append(pid)
        except OSError:
            pass
    assert survivors == []
    expected = {"gradebook.csv", "summary.md", "summary.html", "scores.png", "pass-rates.png", "students"}
    assert {p.name for p in out.iterdir()} == expected
    for student in (out / "students").iterdir():
        assert {p.name for p in student.iterdir()} == {"results.json", "gradescope.json", "feedback.md"}
    assert not list(course.rglob("results*.json"))


def test_summary_shows_the_distribution(graded):
    out, _ = graded
    summary = (out / "summary.md").read_text()
    assert f"- submissions: {len(CASES) + len(HONEST)}" in summary
    assert "| 90-100 | 1 |" in summary  # the honest submission
    assert "![Score distribution](scores.png)" in summary and "## The tests the fewest students pass" in summary
    assert (out / "scores.png").read_bytes().startswith(b"\x89PNG") and (out / "pass-rates.png").read_bytes().startswith(b"\x89PNG")
