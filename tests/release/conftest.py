"""The student release as the release tests see it: written once per test run by the instructor's
command, and a copy of it in which a student handed in the reference's files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import PROJECT_ROOT, Course

COURSE = Course(PROJECT_ROOT)


def write_release(out: Path) -> Path:
    """``python -m grader release --student OUT``, exactly as the instructor runs it."""
    done = subprocess.run([sys.executable, "-m", "grader", "release", "--student", str(out)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def hand_in_the_reference(release: Path, destination: Path) -> Path:
    """A copy of ``release`` whose student files are the reference's (solutions included)."""
    shutil.copytree(release, destination)
    for source, student in COURSE.release_pairs():
        shutil.copyfile(source, destination / student.relative_to(COURSE.root))
    return destination


@pytest.fixture(scope="session")
def student_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_release(tmp_path_factory.mktemp("release") / "student")
