"""``ci/slurm/`` on a real single-node Slurm (``tests/grading/slurm.py``): ``submit.sh`` submits
the three-shard job array and the merge that depends on it; the merged gradebook equals one
``batch`` over the whole roster, timings aside. Skipped, with the reason, where Slurm cannot start."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.grading.conftest import ROOT
from tests.grading.roster import assert_same_gradebook, environment_in
from tests.grading.slurm import LocalSlurm


@pytest.fixture
def slurm():
    root = Path(tempfile.mkdtemp(prefix="dlgrade-slurm-"))  # short: munge's socket path has a length limit
    cluster = LocalSlurm(root)
    reason = cluster.start()
    try:
        if reason:
            pytest.skip(f"Slurm cannot start here: {reason}")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_job_array_and_a_dependent_merge_give_the_gradebook_of_one_batch(slurm, course, roster_csv, whole_roster, tmp_path):
    checkout = shutil.copytree(course, tmp_path / "course")  # the course checkout on the cluster, with its environment
    environment_in(checkout)
    env = {**slurm.env, "DLGRADE_COURSE": str(checkout)}
    submitted = subprocess.run([str(ROOT / "ci" / "slurm" / "submit.sh"), str(roster_csv), str(tmp_path / "grades"), "3"], env=env, capture_output=True, text=True, timeout=60)
    assert submitted.returncode == 0, submitted.stderr
    array, merge = re.search(r"job array (\d+) .* merge: job (\d+)", submitted.stdout).groups()
    assert slurm.wait(merge, timeout=900) == "COMPLETED", (tmp_path / "grades" / "logs" / "merge.log").read_text()
    for k in (1, 2, 3):
        assert (tmp_path / "grades" / f"shard-{k}" / "shard.json").is_file(), (tmp_path / "grades" / "logs" / f"shard-{k}.log").read_text()
    assert array != merge
    assert_same_gradebook(tmp_path / "grades" / "gradebook", whole_roster)
