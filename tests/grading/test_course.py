"""The real course end to end, as users run it: README.md's first command on the bundled example,
and ``batch`` on a small roster of the real course (the reference, the released stubs, a planted
bug), graded with two jobs."""

from __future__ import annotations

import csv
import json
import re
import shlex
import shutil

from tests.grading.conftest import ROOT, dlgrade
from tests.planted import COURSE, Variant, build_submission, changed_units

A1, A5 = "a1_foundations", "a5_regularization"
README = (ROOT / "README.md").read_text()


def readme_grade_command() -> list[str]:
    """The ``grade`` part of README.md's first command (after the set-up), as arguments."""
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)  # type: ignore[union-attr]
    command = block.strip().split("&&")[-1]
    words = shlex.split(command)
    assert words[:3] == [".venv/bin/python", "-m", "grader"], f"README.md's first command no longer ends with a grade: {command}"
    return words[3:]


def test_readme_first_command_grades_the_example_as_documented() -> None:
    """The example earns the score README.md states, and loses points only where its two bugs are."""
    args = readme_grade_command()
    assert args[:2] == ["grade", "examples/submission"]
    stated = re.search(r"The example earns (\d+) / (\d+) points: (\d+) / (\d+) on a1_foundations and (\d+) / (\d+) on a5_regularization", README)
    assert stated, "README.md no longer states the example's score"
    run = dlgrade(*args)
    assert run.returncode == 0, run.stderr
    total, a1, a5 = stated.groups()[:2], stated.groups()[2:4], stated.groups()[4:]
    assert re.search(rf"^# Feedback: {total[0]} / {total[1]} points$", run.stdout, re.M), run.stdout[:2000]
    assert f"| {A1} | " in run.stdout and re.search(rf"\| {A1} \| \d+/\d+ \| {a1[0]} / {a1[1]} \|", run.stdout), run.stdout[:2000]
    assert re.search(rf"\| {A5} \| \d+/\d+ \| {a5[0]} / {a5[1]} \|", run.stdout), run.stdout[:2000]
    failed = dict.fromkeys(re.findall(r"^### (test_\w+)", run.stdout, re.M))
    dropout = COURSE.tests_of(A5, frozenset({"dropout_forward", "dropout_backward"}))
    assert failed and all("softmax" in name or name in dropout for name in failed), sorted(failed)
    for mistake in ("softmax without the max shift", "dropout without the inverted scale"):  # README.md names them
        assert f": {mistake}. " in run.stdout, f"the feedback does not name the mistake {mistake!r}:\n{run.stdout[:3000]}"


def test_batch_grades_a_roster_of_the_real_course(tmp_path) -> None:
    """The reference as a submission gets full marks, the released stubs 0, a planted bug loses
    marks on the tests of what it breaks and nothing else."""
    roster = tmp_path / "roster"
    bug = next(v for v in __import__("tests.assignments.test_a5_regularization", fromlist=["BUGGY"]).BUGGY if v.name == "es-patience-off-by-one")
    build_submission(A5, Variant("reference"), roster / "reference")
    shutil.copytree(ROOT / "assignments" / A5, roster / "stubs" / "assignments" / A5, ignore=shutil.ignore_patterns("hidden", "test_*", "__pycache__"))
    build_submission(A5, bug, roster / "buggy")
    out = tmp_path / "out"
    run = dlgrade("batch", roster, "--out", out, "--jobs", "2", "--assignment", A5, "--no-progress")
    assert run.returncode == 0, run.stderr
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert {name: row["status"] for name, row in rows.items()} == {"reference": "ok", "stubs": "ok", "buggy": "ok"}
    possible = float(rows["reference"]["possible"])
    assert possible > 0 and float(rows["reference"]["total"]) == possible
    assert float(rows["stubs"]["total"]) == 0
    assert 0 < float(rows["buggy"]["total"]) < possible
    failed = [t["name"].split("[")[0] for t in json.loads((out / "students" / "buggy" / "results.json").read_text())["assignments"][A5]["tests"] if t["outcome"] == "failed"]
    assert failed and set(failed) <= COURSE.tests_of(A5, changed_units(A5, bug))
