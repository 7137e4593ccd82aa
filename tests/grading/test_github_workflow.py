"""``ci/github/grade-roster.yml`` run locally (``tests/grading/workflow.py``): its three shard
jobs fetch the six students' repositories and grade them, its merge job merges the shards; the
merged gradebook equals one ``batch`` over the whole roster, timings aside."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.grading.conftest import ROOT
from tests.grading.workflow import LocalRunner

WORKFLOW = ROOT / "ci" / "github" / "grade-roster.yml"
TIMING_KEYS = {"execution_time", "duration"}

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("sudo") is None, reason="the workflow grades as root through sudo: run as root with sudo installed"),
]


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def test_three_shards_through_the_workflow_merge_to_one_batch_over_the_roster(course, roster_csv, whole_roster, tmp_path):
    def checkout(workspace: Path) -> None:  # the instructor's course repository, its environment cached
        shutil.copytree(course, workspace, dirs_exist_ok=True)
        shutil.copy(roster_csv, workspace / "roster.csv")
        (workspace / ".venv").symlink_to(Path(sys.prefix))

    runner = LocalRunner.load(WORKFLOW, checkout=checkout, inputs={"roster": "roster.csv", "assignment": "", "gpu-assignments": ""}, root=tmp_path)
    shards = runner.run_job("grade")
    assert len(shards) == 3
    assert sorted(p.name for p in (tmp_path / "artifacts").iterdir()) == ["shard-1", "shard-2", "shard-3"]
    [merge] = runner.run_job("merge")
    merged = merge / "gradebook"

    assert (merged / "gradebook.csv").read_text() == (whole_roster / "gradebook.csv").read_text()
    assert (merged / "summary.md").read_text() == (whole_roster / "summary.md").read_text()
    students = sorted(p.name for p in (whole_roster / "students").iterdir())
    assert students == sorted(p.name for p in (merged / "students").iterdir()) == ["alice", "bob", "dave", "erin", "heidi"]
    for student in students:
        for name in ("results.json", "gradescope.json"):
            ours, theirs = (json.loads((folder / "students" / student / name).read_text()) for folder in (merged, whole_roster))
            assert without_timing(ours) == without_timing(theirs), (student, name)
        assert (merged / "students" / student / "feedback.md").read_text() == (whole_roster / "students" / student / "feedback.md").read_text()
    for k, pair in enumerate((["erin", "judy"], ["dave", "heidi"], ["alice", "bob"]), 1):  # each shard graded only its own students
        assert json.loads((tmp_path / "artifacts" / f"shard-{k}" / "shard.json").read_text())["students"] == pair
