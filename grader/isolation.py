"""Where a run's student code runs, decided once: in this process, or in a worker process that the
sandbox confines (``grader.sandbox``), with its own read-only copies of the code under test and
the course's public helper modules. A run has one ``CodeLoader``; a run of a plan
(``grader.plan``) one per planned submission, closed when that submission's tests are done.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from grader.course import Course
from grader.plan import Planned
from grader.remote import Worker
from grader.sandbox import Sandbox, SandboxError, isolation_level
from grader.settings import SETTINGS_KEY
from grader.submission import CodeLoader, CodeSource, InProcess, Runner

LOADER_KEY = pytest.StashKey[dict[Any, CodeLoader]]()  # by planned submission key (None: no plan)
SANDBOX_KEY = pytest.StashKey[dict[Any, Sandbox]]()
LEVEL_KEY = pytest.StashKey[str]()  # the sandbox level student code ran at (grader.sandbox)
PLAN_KEY = pytest.StashKey[dict[str, Planned]]()


def loader(config: pytest.Config, course: Course, key: str | None = None) -> CodeLoader:
    """The run's ``CodeLoader`` (of planned submission ``key``), made on first use: where the
    student's code runs is decided here, once."""
    loaders = config.stash[LOADER_KEY]
    if key not in loaders:
        s = config.stash[SETTINGS_KEY]
        submission = config.stash[PLAN_KEY][key].submission if key is not None else s.submission
        source = CodeSource.for_run(course, submission, s.against_reference)
        runner: Runner = InProcess()
        copies: dict[Path, Path] = {}
        if s.isolation == "worker":
            options: dict[str, Any] = {"env": _worker_environment()}
            if s.sandbox:  # the worker gets read-only copies of the code it runs, and nothing else
                try:
                    box = config.stash[SANDBOX_KEY][key] = Sandbox(private=[course.root])
                    config.stash[LEVEL_KEY] = box.level
                    copies = _copy_for_worker(box, course, source.assignments_root)
                    options = box.worker_options(options["env"])
                except SandboxError as error:  # never grade unconfined: stop the whole run
                    pytest.exit(f"dlgrade: {error}", returncode=pytest.ExitCode.INTERNAL_ERROR)
            # The worker's own deadlines come before the test's (pytest-timeout), so that code that
            # never ends is stopped by the worker and named in the message, and not run again; the
            # run's budget bounds them all together.
            runner = Worker(timeout=min(60.0, 0.5 * s.timeout), load_timeout=0.8 * s.timeout, budget=s.budget, **options)
        loaders[key] = CodeLoader(source, runner, course.assignments_dir, copies)
    return loaders[key]


def close(config: pytest.Config, key: str | None) -> None:
    """Stop the worker and remove the sandbox of planned submission ``key`` (None: the run's)."""
    loader = config.stash[LOADER_KEY].pop(key, None)
    if loader is not None:
        loader.close()
    box = config.stash[SANDBOX_KEY].pop(key, None)
    if box is not None:
        box.close()


def _copy_for_worker(box: Sandbox, course: Course, code: Path) -> dict[Path, Path]:
    """Copy the code under test (never a ``hidden/`` folder) and the course's public helper
    modules into the sandbox; returns each judge's folder -> the worker's copy."""
    helpers = box.work / "course" / "assignments"
    for assignment in course.assignments():
        box.add_files(course.assignments_dir / assignment, f"course/assignments/{assignment}", names=course.helper_files(assignment))
    return {course.assignments_dir: helpers, code: box.add_files(code, "code")}


def _worker_environment() -> dict[str, str]:
    """A clean environment for the worker: no inherited secrets, one thread per library."""
    keep = {"PATH", "LANG", "LC_ALL", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    return env


def level(config: pytest.Config) -> str:
    """The isolation level of the run: the sandbox's, or ``off``."""
    return config.stash.get(LEVEL_KEY, isolation_level(config.stash[SETTINGS_KEY].sandbox))
