"""Fixtures for the grading tests: the tiny course, and the ``dlgrade`` command run as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.grading.course import write_course

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_CAP_SYS_ADMIN = ["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$0" "$@"']
"""A command prefix: run as root without CAP_SYS_ADMIN (Docker's defaults): the ``user`` sandbox level."""
# What a result file says of time, which two gradings of the same submission need not share: each
# test's and the run's duration, and the seconds student code spent of the budget by hanging or
# ending its worker.
TIMING_KEYS = frozenset({"execution_time", "duration", "unanswered_s"})
FAST = ["--timeout", "6"]  # per test; the worker's own limits are 3 s per call, 4.8 s per load


def without_timing(value):
    """``value`` (a result file's JSON) without its ``TIMING_KEYS``, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def dlgrade(*args: str | Path, timeout: float = 600, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``python -m grader ARGS`` from the project root (under the command ``prefix``)."""
    return subprocess.run([*prefix, sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def reachable_levels() -> list:
    """The sandbox levels this machine can grade at, as pytest params: (level, command prefix)."""
    from grader import confine
    from grader.sandbox import probe

    allowlist = pytest.mark.skipif(probe() != "allowlist", reason="needs root with CAP_SYS_ADMIN and bubblewrap")
    user = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("capsh") is None or not confine.available(), reason="needs root, capsh and Landlock")
    return [pytest.param(("allowlist", ()), id="allowlist", marks=allowlist), pytest.param(("user", tuple(WITHOUT_CAP_SYS_ADMIN)), id="user", marks=user)]


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def roster_csv(course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six students' repositories and the roster file naming them (``tests/grading/roster.py``)."""
    from tests.grading.roster import write_roster

    return write_roster(course, tmp_path_factory.mktemp("roster"))


@pytest.fixture(scope="session")
def whole_roster(course: Path, roster_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``batch`` over the whole roster, fetched at the deadline: the output folder."""
    folder = tmp_path_factory.mktemp("whole")
    fetched = dlgrade("roster", "fetch", roster_csv, "--into", folder / "roster")
    assert fetched.returncode == 3, fetched.stderr  # judy's repository does not exist
    graded = dlgrade("batch", folder / "roster", "--out", folder / "out", "--course", course, "--jobs", "2", "--no-progress", *FAST)
    assert graded.returncode == 3, graded.stderr  # judy could not be graded
    return folder / "out"
