"""``batch`` on the real course's first assignment: the reference as a submission gets full
marks, the released stubs get 0, a planted bug loses marks and nothing else. One roster, graded
with two jobs. It takes minutes on two busy cores, so it runs only with DLGRADE_COURSE_TESTS=1."""

from __future__ import annotations

import csv
import json
import os
import shutil

import pytest

from tests.grading.conftest import ROOT, dlgrade
from tests.planted import Edit, Variant, build_submission

A1 = "a1_foundations"
ACTIVATIONS = ROOT / "reference" / A1 / "activations.py"
pytestmark = [
    pytest.mark.skipif(not (ROOT / "assignments" / A1 / "hidden").is_dir() or not ACTIVATIONS.is_file(), reason="a1_foundations is not written yet"),
    pytest.mark.skipif(
        not os.environ.get("DLGRADE_COURSE_TESTS"),
        reason="minutes on two cores: set DLGRADE_COURSE_TESTS=1 (tests/assignments grades planted submissions of every assignment already)",
    ),
]
BUG = Edit("activations.py", "return np.where(x > 0, dout, alpha * dout)", "return np.where(x > 0, dout, 0.01 * dout)")


def test_reference_full_marks_stubs_zero_and_a_planted_bug_in_between(tmp_path):
    roster = tmp_path / "roster"
    build_submission(A1, Variant("reference"), roster / "reference")
    shutil.copytree(ROOT / "assignments" / A1, roster / "stubs" / "assignments" / A1, ignore=shutil.ignore_patterns("hidden", "test_*", "__pycache__"))
    build_submission(A1, Variant("leaky_relu_ignores_alpha", (BUG,)), roster / "buggy")
    out = tmp_path / "out"
    run = dlgrade("batch", roster, "--out", out, "--jobs", "2", "--assignment", A1, "--no-progress")
    assert run.returncode == 0, run.stderr
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert {name: row["status"] for name, row in rows.items()} == {"reference": "ok", "stubs": "ok", "buggy": "ok"}
    possible = float(rows["reference"]["possible"])
    assert possible > 0 and float(rows["reference"]["total"]) == possible
    assert float(rows["stubs"]["total"]) == 0
    assert 0 < float(rows["buggy"]["total"]) < possible
    failed = [t["name"] for t in json.loads((out / "students" / "buggy" / "results.json").read_text())["assignments"][A1]["tests"] if t["outcome"] == "failed"]
    assert failed and all("leaky" in name for name in failed)
