"""Fixtures for the grading tests: the tiny course, and the ``dlgrade`` command run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.grading.course import write_course

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_CAP_SYS_ADMIN = ["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$0" "$@"']
"""A command prefix: run as root without CAP_SYS_ADMIN (Docker's defaults): the ``user`` sandbox level."""
FAST = ["--timeout", "6"]  # per test; the worker's own limits are 3 s per call, 4.8 s per load


def dlgrade(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m grader ARGS`` from the project root."""
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_course(tmp_path_factory.mktemp("course"))
