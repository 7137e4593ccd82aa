"""Where a run's student code runs, decided once: in this process, or in worker processes that the
sandbox confines (``grader.sandbox``), with their own read-only copies of the code under test and
the course's public helper modules.

A run (a plan's run: each planned submission, ``grader.plan``) has one place where its workers
start: a sandbox and a fork server in it (``grader.forkserver``) that has numpy imported, and
each assignment's tests get a ``CodeLoader`` with a worker of their own, forked from it, closed
when the run moves on to the next assignment. So assignments graded in one run share no worker
process, yet a start or a restart costs a fork, not an interpreter.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.calls import CallLog
from grader.course import Course
from grader.forkserver import ForkServer
from grader.imports import imported_modules
from grader.launch import Launch
from grader.plan import Planned
from grader.remote import Worker
from grader.sandbox import Sandbox, SandboxError, isolation_level
from grader.settings import SETTINGS_KEY
from grader.submission import CodeLoader, CodeSource, InProcess, Runner


@dataclass
class Place:
    """Where one (planned) submission's workers start: its sandbox (None: unconfined), the fork
    server, and the worker's copies of the judge's folders."""

    server: ForkServer
    box: Sandbox | None = None
    copies: dict[Path, Path] = field(default_factory=dict)

    def close(self) -> None:
        self.server.close()
        if self.box is not None:
            self.box.close()


LOADER_KEY = pytest.StashKey[dict[tuple[Any, str | None], CodeLoader]]()  # by (planned submission key or None, assignment)
SANDBOX_KEY = pytest.StashKey[dict[Any, Place]]()  # by planned submission key (None: no plan)
NOTES_KEY = pytest.StashKey[list[str]]()  # notes of the closed loaders of the run (not of a plan's)
LEVEL_KEY = pytest.StashKey[str]()  # the sandbox level student code ran at (grader.sandbox)
PLAN_KEY = pytest.StashKey[dict[str, Planned]]()
CALLS_KEY = pytest.StashKey[CallLog]()  # the current test's calls to student functions (grader.calls)


def loader(config: pytest.Config, course: Course, key: str | None = None, assignment: str | None = None) -> CodeLoader:
    """The ``CodeLoader`` of ``assignment``'s tests (of planned submission ``key``), made on first
    use: where the student's code runs is decided here, once per run."""
    loaders = config.stash[LOADER_KEY]
    if (key, assignment) not in loaders:
        s = config.stash[SETTINGS_KEY]
        submission = config.stash[PLAN_KEY][key].submission if key is not None else s.submission
        source = CodeSource.for_run(course, submission, s.against_reference)
        runner: Runner = InProcess()
        copies: dict[Path, Path] = {}
        if s.isolation == "worker":
            place = _place(config, course, key, source)
            copies = place.copies
            # The worker's own deadlines come before the test's (pytest-timeout), so that code that
            # never ends is stopped by the worker and named in the message, and not run again; the
            # budget bounds them all together.
            spawner = place.server.spawner(preload=_preload(course, assignment) if assignment else ())
            runner = Worker(timeout=min(60.0, 0.5 * s.timeout), load_timeout=0.8 * s.timeout, budget=s.budget, spawner=spawner)
        calls = None if course.is_student_release else config.stash[CALLS_KEY]  # a release has no catalogue to diagnose with
        loaders[(key, assignment)] = CodeLoader(source, runner, course.assignments_dir, copies, calls)
    return loaders[(key, assignment)]


def _place(config: pytest.Config, course: Course, key: str | None, source: CodeSource) -> Place:
    """The place where planned submission ``key``'s workers start, made on first use."""
    places = config.stash[SANDBOX_KEY]
    if key not in places:
        env = _worker_environment()
        if not config.stash[SETTINGS_KEY].sandbox:
            places[key] = Place(ForkServer(Launch(env=env)))
            return places[key]
        box = None
        try:  # the worker gets read-only copies of the code it runs, and nothing else
            box = Sandbox(private=[course.root])
            copies = _copy_for_worker(box, course, source.assignments_root)
            places[key] = Place(ForkServer(box.launch(env), sweep=True), box, copies)
            config.stash[LEVEL_KEY] = box.level
        except SandboxError as error:  # never grade unconfined: stop the whole run
            if box is not None:
                box.close()
            pytest.exit(f"dlgrade: {error}", returncode=pytest.ExitCode.INTERNAL_ERROR)
    return places[key]


def _preload(course: Course, assignment: str) -> list[str]:
    """The installed libraries the course's helper modules of ``assignment`` import (torch for
    a torch assignment): the fork server imports them once, before forking its workers."""
    folder = course.assignments_dir / assignment
    names: set[str] = set()
    for helper in course.helper_files(assignment):
        try:
            names |= imported_modules(folder / helper)
        except (SyntaxError, UnicodeDecodeError):
            continue
    found = {name: importlib.util.find_spec(name) for name in sorted(names)}
    return [name for name, spec in found.items() if spec is not None and spec.origin and not Path(spec.origin).is_relative_to(course.root)]


def close_assignment(config: pytest.Config, key: str | None, assignment: str | None) -> float:
    """Stop the worker of ``assignment``'s tests (of planned submission ``key``), keeping its
    notes; the seconds its student code ran without answering (``Worker.spent``)."""
    loader = config.stash[LOADER_KEY].pop((key, assignment), None)
    if loader is None:
        return 0.0
    if key is None:
        config.stash[NOTES_KEY].extend(n for n in loader.notes if n not in config.stash[NOTES_KEY])
    loader.close()
    return loader.runner.spent if isinstance(loader.runner, Worker) else 0.0


def close(config: pytest.Config, key: str | None) -> None:
    """Stop the workers, the fork server and the sandbox of planned submission ``key`` (None: the run's)."""
    for k, assignment in [k for k in config.stash[LOADER_KEY] if k[0] == key]:
        close_assignment(config, k, assignment)
    place = config.stash[SANDBOX_KEY].pop(key, None)
    if place is not None:
        place.close()


def notes(config: pytest.Config) -> tuple[str, ...]:
    """The run's notes for the student (a plan's close with their submission)."""
    found = list(config.stash.get(NOTES_KEY, []))
    for (key, _), open_loader in config.stash.get(LOADER_KEY, {}).items():
        found += [n for n in open_loader.notes if key is None and n not in found]
    return tuple(found)


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
