"""``ci/github/grade-roster.yml`` run locally (``tests/grading/workflow.py``): its three shard
jobs fetch the six students' repositories and grade them, its merge job merges the shards; the
merged gradebook equals one ``batch`` over the whole roster, timings aside."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.grading.conftest import ROOT
from tests.grading.roster import assert_same_gradebook, environment_in
from tests.grading.workflow import LocalRunner

WORKFLOW = ROOT / "ci" / "github" / "grade-roster.yml"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("sudo") is None, reason="the workflow grades as root through sudo: run as root with sudo installed"),
]


def test_three_shards_through_the_workflow_merge_to_one_batch_over_the_roster(course, roster_csv, whole_roster, tmp_path):
    def checkout(workspace: Path) -> None:  # the instructor's course repository, its environment cached
        shutil.copytree(course, workspace, dirs_exist_ok=True)
        shutil.copy(roster_csv, workspace / "roster.csv")
        environment_in(workspace)

    runner = LocalRunner.load(WORKFLOW, checkout=checkout, inputs={"roster": "roster.csv", "assignment": "", "gpu-assignments": ""}, root=tmp_path)
    shards = runner.run_job("grade")
    assert len(shards) == 3
    assert sorted(p.name for p in (tmp_path / "artifacts").iterdir()) == ["shard-1", "shard-2", "shard-3"]
    [merge] = runner.run_job("merge")
    assert_same_gradebook(merge / "gradebook", whole_roster)
    for k, pair in enumerate((["erin", "judy"], ["dave", "heidi"], ["alice", "bob"]), 1):  # each shard graded only its own students
        assert json.loads((tmp_path / "artifacts" / f"shard-{k}" / "shard.json").read_text())["students"] == pair
