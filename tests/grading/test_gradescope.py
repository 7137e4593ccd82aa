"""Gradescope's autograder bundle end to end on the tiny course: ``package gradescope`` builds it,
it is unpacked into a folder laid out like ``/autograder``, ``setup.sh --skip-install`` locks the
private files and checks the environment (this project's, installed from the same constraints),
and ``run_autograder`` grades a nested and a flat upload into a results.json that Gradescope's
schema accepts; a run that cannot finish still leaves one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from tests.grading.conftest import dlgrade
from tests.grading.course import CALC_REFERENCE, OPS_REFERENCE, notebook, solution, submission
from tests.grading.test_grade import GRADESCOPE_SCHEMA

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs the autograder as root; so must this test")


def unpack(bundle: Path, root: Path) -> Path:
    """Lay ``bundle`` out as Gradescope does: unpacked in ``root/source``, ``run_autograder`` in ``root``."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def environment(root: Path) -> dict[str, str]:
    return {**os.environ, "DLGRADE_AUTOGRADER_ROOT": str(root), "DLGRADE_PYTHON": sys.executable}


def run_autograder(root: Path, upload: Path) -> dict:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    shutil.copytree(upload, root / "submission")
    run = subprocess.run([str(root / "run_autograder")], env=environment(root), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    return results


@pytest.fixture(scope="module")
def autograder(course, tmp_path_factory) -> Iterator[Path]:
    bundle = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    built = dlgrade("package", "gradescope", "--course", course, "--out", bundle, "--timeout", "6")
    assert built.returncode == 0, built.stderr
    root = Path(tempfile.mkdtemp(prefix="dlgrade-autograder-"))  # under /tmp, which anyone may enter, as /autograder
    root.chmod(0o755)
    try:
        unpack(bundle, root)
        setup = subprocess.run(["bash", str(root / "source" / "setup.sh"), "--skip-install"], env=environment(root), capture_output=True, text=True, timeout=120)
        assert setup.returncode == 0, setup.stderr
        assert "the autograder is ready" in setup.stdout
        yield root
    finally:
        shutil.rmtree(root)


@pytest.fixture(scope="module")
def correct(tmp_path_factory) -> Path:
    return submission(tmp_path_factory.mktemp("nested"), ops=solution(OPS_REFERENCE), calc=notebook(solution(CALC_REFERENCE)))


def test_the_bundle_holds_the_harness_and_the_course_and_nothing_else(course, autograder):
    names = {p.relative_to(autograder / "source").as_posix() for p in (autograder / "source").rglob("*") if p.is_file()}
    assert {"setup.sh", "run_autograder", "dlgrade.json", "course/pyproject.toml", "course/constraints.txt", "course/grader/gradescope.py"} <= names
    assert {"course/assignments/t1_ops/hidden/test_ops_hidden.py", "course/reference/t1_ops/ops.py", "course/assignments/t2_notebook/calc.ipynb"} <= names
    assert not [n for n in names if n.startswith("course/tests/") or "__pycache__" in n or "/." in n]


def test_only_root_can_read_the_oracles_and_hidden_tests(autograder):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    course = autograder / "source" / "course"

    def read_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", str(path)], capture_output=True, text=True)

    for private in (course / "reference" / "t1_ops" / "ops.py", course / "assignments" / "t1_ops" / "hidden" / "test_ops_hidden.py"):
        run = read_as_nobody(private)
        assert run.returncode != 0 and "Permission denied" in run.stderr, private
    assert read_as_nobody(course / "assignments" / "t1_ops" / "test_ops.py").returncode == 0  # public tests stay readable


def test_a_nested_upload_gets_full_marks(autograder, correct):
    results = run_autograder(autograder, correct)
    assert results["score"] == 7
    assert [t["status"] for t in results["tests"]] == ["passed"] * 4


def test_a_flat_upload_is_mapped_to_its_assignments_by_file_name(autograder, correct, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(correct / "assignments" / "t1_ops" / "ops.py", flat / "ops.py")
    shutil.copy(correct / "assignments" / "t2_notebook" / "calc.ipynb", flat / "calc.ipynb")
    results = run_autograder(autograder, flat)
    assert results["score"] == 7
    assert "is missing" not in json.dumps(results)


def test_a_run_over_budget_still_writes_what_it_graded(course, tmp_path):
    bundle = tmp_path / "autograder.zip"
    assert dlgrade("package", "gradescope", "--course", course, "--out", bundle, "--budget", "12", "--timeout", "3").returncode == 0
    root = unpack(bundle, tmp_path / "autograder")
    hangs = submission(tmp_path / "hangs", ops="def square(x):\n    while True:\n        pass\n", calc=notebook(solution(CALC_REFERENCE)))
    results = run_autograder(root, hangs)
    assert results["score"] == 0
    assert "t2_notebook: 0 / 0 points; could not be graded: the autograder's time budget (12 s) was spent" in results["output"]
    assert results["execution_time"] < 12 + 10


@pytest.mark.skipif(not os.environ.get("DLGRADE_COURSE_TESTS"), reason="a minute on two cores: set DLGRADE_COURSE_TESTS=1")
def test_the_real_course_flat_upload_of_correct_a5_files_gets_full_marks(tmp_path):
    from tests.planted import Variant, build_submission

    a5 = "a5_regularization"
    bundle = tmp_path / "autograder.zip"
    built = dlgrade("package", "gradescope", "--assignment", a5, "--out", bundle)
    assert built.returncode == 0, built.stderr
    root = unpack(bundle, tmp_path / "autograder")
    assert not list((root / "source" / "course" / "assignments").glob("a[!5]*"))  # the a5 bundle holds a5 alone
    nested = build_submission(a5, Variant("reference"), tmp_path / "nested") / "assignments" / a5
    flat = tmp_path / "flat"
    flat.mkdir()
    for file in nested.iterdir():
        shutil.copy(file, flat / file.name)
    results = run_autograder(root, flat)
    possible = sum(t["max_score"] for t in results["tests"])
    assert possible > 0 and results["score"] == possible, results["output"]
