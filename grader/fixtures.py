"""The fixtures a course's tests use: ``student``, ``helper``, ``reference`` and ``rng``.

``student("activations.py")`` is the student's module and ``helper("torch_inputs.py")`` a course
module, both loaded where the run's student code runs (``grader.isolation``); ``reference`` is the
oracle of the course being tested, in this process; ``rng`` a generator seeded per test.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.course import STUDENT_RELEASE, Course
from grader.isolation import close, loader
from grader.loader import load_module_from_path
from grader.settings import SETTINGS_KEY
from grader.submission import StudentFile



def _test_assignment(request: pytest.FixtureRequest) -> tuple[Course, str]:
    """The course and assignment of the requesting test (``Course.containing``)."""
    __tracebackhide__ = True
    path = Path(request.node.path)
    found = Course.containing(path)
    if found is None:
        pytest.fail(f"{path} is not inside an assignments/<name>/ folder: say which assignment", pytrace=False)
    return found


@pytest.fixture(scope="session")
def _dlgrade_submission(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The planned submission whose tests run now (None without a plan). Its worker and sandbox
    are closed as soon as its tests are done, before the next submission's start."""
    key = getattr(request, "param", None)
    yield key
    if key is not None:
        close(request.config, key)


@pytest.fixture
def student(request: pytest.FixtureRequest, _dlgrade_submission: str | None) -> Any:
    """``student(file, assignment=None)``: the student's module for this run's code source.

    ``file`` is a name in the assignment's folder (``"activations.py"``, ``"init.ipynb"``;
    without a suffix ``.py`` is meant); ``assignment`` defaults to the test file's assignment.
    """

    def get(file: str, assignment: str | None = None) -> StudentFile:
        __tracebackhide__ = True
        course, own = _test_assignment(request)
        return loader(request.config, course, _dlgrade_submission, own).get(assignment or own, file)

    return get


@pytest.fixture
def helper(request: pytest.FixtureRequest, _dlgrade_submission: str | None) -> Any:
    """``helper(file, assignment=None)``: a course module run where the student's code runs.

    For tests that must build or inspect objects that cannot cross the process boundary (torch
    models, data loaders): the helper's functions take student objects (handles) and return
    plain data. It comes from the course tree, never from the submission.
    """

    def get(file: str, assignment: str | None = None) -> StudentFile:
        __tracebackhide__ = True
        course, own = _test_assignment(request)
        return loader(request.config, course, _dlgrade_submission, own).helper(assignment or own, file)

    return get


@pytest.fixture(scope="session")
def _reference_modules() -> dict[Path, Any]:
    return {}


@pytest.fixture
def reference(request: pytest.FixtureRequest, _reference_modules: dict[Path, Any]) -> Any:
    """``reference(file, assignment=None)``: the oracle module of the course being tested, loaded
    in this process (trusted)."""

    def get(file: str, assignment: str | None = None) -> Any:
        __tracebackhide__ = True
        course, own = _test_assignment(request)
        if course.is_student_release:
            pytest.fail(STUDENT_RELEASE + "it has no reference/ oracles; tests that use them run only in the instructor's course", pytrace=False)
        path = course.oracle(assignment or own, file)
        if path not in _reference_modules:
            _reference_modules[path] = load_module_from_path(path)
        return _reference_modules[path]

    return get


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the run's seed and the test's id: reproducible, distinct per test."""
    seed = request.config.stash[SETTINGS_KEY].seed
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])
