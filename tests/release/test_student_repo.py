"""The student release works as a new student's repository: installed as its README says, it runs
``pytest assignments/`` (the stubs score 0, the reference's files every public point), refuses
instructor-only runs clearly, and its Classroom workflow reports the same points per test.

One environment for the module: a fresh venv where ``pip install -r requirements.txt`` installs
the release's harness wheel, offline (``--no-index``); the libraries it pins are this
environment's, made visible to the venv (never this checkout's own ``dlgrade``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from .conftest import COURSE, hand_in_the_reference
from .workflow import reporter_points, run_workflow

SETUP = re.compile(r"^(python3 -m venv \.venv && \.venv/bin/python -m pip install -r requirements\.txt)$", re.M)


@pytest.fixture(scope="module")
def student_repo(student_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's clone of the release: the runs below write into it (their results, hypothesis's
    example database), never into the release the export tests read."""
    return Path(shutil.copytree(student_release, tmp_path_factory.mktemp("clone") / "student"))


@pytest.fixture(scope="module")
def venv(student_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv the README's set-up command makes, its ``pip install`` run offline."""
    (command,) = SETUP.findall((student_repo / "README.md").read_text())  # the README's one set-up command
    folder = tmp_path_factory.mktemp("student-venv")
    venv = folder / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    shelf = folder / "installed"  # this environment's libraries (pip included), without its editable dlgrade
    shelf.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not re.match(r"(dlgrade|__editable__|__pycache__)", entry.name) and entry.suffix != ".pth":
            (shelf / entry.name).symlink_to(entry)
    purelib = subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "installed-libraries.pth").write_text(f"{shelf}\n")
    install = command.split("&& ", 1)[1].replace(".venv/bin/python", str(venv / "bin" / "python")).split() + ["--no-index"]
    done = subprocess.run(install, cwd=student_repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully installed dlgrade-0.1.0" in done.stdout, done.stdout
    return venv


def pytest_assignments(venv: Path, repository: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``pytest assignments/`` in ``repository`` with the venv's Python; the results file too."""
    results = repository / "results.json"
    done = subprocess.run(
        [venv / "bin" / "python", "-m", "pytest", "assignments/", "-p", "no:cacheprovider", "--dlgrade-results", str(results), *args],
        cwd=repository, capture_output=True, text=True,
    )
    return done, (json.loads(results.read_text()) if results.is_file() else {})


@pytest.fixture(scope="module")
def with_reference(student_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hand_in_the_reference(student_release, tmp_path_factory.mktemp("handed-in") / "student")


@pytest.fixture(scope="module")
def stub_run(venv: Path, student_repo: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return pytest_assignments(venv, student_repo)


@pytest.fixture(scope="module")
def reference_run(venv: Path, with_reference: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    return pytest_assignments(venv, with_reference)


def test_the_harness_comes_from_the_release_wheel(venv, student_repo):
    where = subprocess.run([venv / "bin" / "python", "-c", "import grader; print(grader.__file__)"], cwd=student_repo, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout


def test_the_stubs_score_nothing(stub_run):
    done, results = stub_run
    assert done.returncode == 1, done.stdout[-3000:]
    assert set(results["assignments"]) == set(COURSE.assignments())
    for assignment, points in results["assignments"].items():
        assert points["earned"] == 0 and points["possible"] > 0, (assignment, points)
        assert re.search(rf"{assignment}\s.*\b0 / {points['possible']:g}\b", done.stdout), f"no score table line for {assignment}"


def test_the_reference_scores_every_public_point(reference_run, stub_run):
    done, results = reference_run
    tests = [t for a in results["assignments"].values() for t in a["tests"]]
    failed = [t["nodeid"] + "\n" + t["message"][:2000] for t in tests if t["outcome"] == "failed"]
    assert not failed, "\n\n".join(failed)
    assert done.returncode == 0, done.stdout[-3000:]
    scores = {a: (p["earned"], p["possible"]) for a, p in results["assignments"].items()}
    assert scores == {a: (p["possible"], p["possible"]) for a, p in stub_run[1]["assignments"].items()}


@pytest.mark.parametrize("args", [["--dlgrade-against-reference"], ["assignments/a1_foundations/hidden"]], ids=["against-reference", "hidden-tests"])
def test_instructor_runs_say_this_is_a_student_release(venv, student_repo, args):
    done = subprocess.run([venv / "bin" / "python", "-m", "pytest", *(args if args[0].startswith("assignments") else ["assignments/", *args])], cwd=student_repo, capture_output=True, text=True)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "this is a student release:" in done.stderr and "Traceback" not in done.stdout + done.stderr, done.stderr


def test_a_hidden_test_copied_into_the_release_says_it_needs_the_instructors_course(venv, student_release, tmp_path):
    repository = hand_in_the_reference(student_release, tmp_path / "student")  # the student's code passes: the oracle is what is missing
    hidden = next(p for p in sorted(COURSE.assignments_dir.glob("a1_foundations/hidden/test_*.py")) if "reference(" in p.read_text())
    shutil.copyfile(hidden, repository / "assignments" / "a1_foundations" / hidden.name)
    done = subprocess.run([venv / "bin" / "python", "-m", "pytest", f"assignments/a1_foundations/{hidden.name}", "-x"], cwd=repository, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout
    assert "dlgrade: this is a student release: it has no reference/ oracles" in done.stdout and "Traceback" not in done.stdout, done.stdout[-3000:]


# The workflow's steps grade each assignment under the grade profile: a few minutes for all nine.
# The project's test run grades a .py and a notebook assignment through them; DLGRADE_FULL=1 all.
WORKFLOW_STEPS = None if os.environ.get("DLGRADE_FULL") == "1" else {"a1_foundations", "a4_initialization"}


@pytest.mark.parametrize("handed_in", ["stubs", "reference"])
def test_the_classroom_workflow_reports_the_public_points(venv, student_repo, with_reference, stub_run, handed_in, tmp_path):
    repository = student_repo if handed_in == "stubs" else with_reference
    workflow = repository / ".github" / "workflows" / "classroom.yml"
    results = run_workflow(workflow, repository, path=[venv / "bin"], scratch=tmp_path, env={"PIP_NO_INDEX": "1"}, only=WORKFLOW_STEPS)
    print(json.dumps({r: {k: v for k, v in d.items() if k != "tests"} | {"tests": len(d["tests"])} for r, d in results.items()}, indent=1))
    possible = {a: p["possible"] for a, p in stub_run[1]["assignments"].items() if WORKFLOW_STEPS is None or a in WORKFLOW_STEPS}
    assert {runner: document["max_score"] for runner, document in results.items()} == possible
    total, maximum = reporter_points(results)
    print(f"reporter: Points {total:g}/{maximum:g}")
    assert maximum == sum(possible.values())
    assert total == (0 if handed_in == "stubs" else maximum)
    assert {d["status"] for d in results.values()} == {"fail" if handed_in == "stubs" else "pass"}
