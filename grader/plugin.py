"""The dlgrade pytest plugin: points, the gpu marker, profiles, whose code, and the score table.

Registered through the ``pytest11`` entry point, so ``pytest assignments/`` loads it. It adds

* markers ``points(n)`` (a test's worth, default 1) and ``gpu`` (skipped without CUDA);
* fixtures ``student`` (``student("activations.py")`` -> the student's module), ``reference``
  (the oracle, for hidden tests), ``helper`` (a course module run beside the student's code)
  and ``rng`` (a ``numpy.random.Generator`` seeded per test);
* options ``--profile``, ``--submission``, ``--against-reference``, ``--isolation``,
  ``--dlgrade-seed``, ``--dlgrade-timeout``, ``--dlgrade-results``, ``--sandbox`` (see
  ``grader.settings``; the sandbox is ``grader.sandbox``);
* a report header with the profile, seed, isolation, whose code and device, and a score table
  per assignment at the end of the run (optionally also written as JSON).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from grader import scoring, settings as settings_module
from grader.course import Course
from grader.loader import load_module_from_path
from grader.remote import StudentCodeError, Worker
from grader.sandbox import Sandbox, SandboxError, probe
from grader.settings import SETTINGS_KEY, Settings
from grader.submission import CodeLoader, CodeSource, StudentFile, assignment_of

LOADER_KEY = pytest.StashKey[CodeLoader]()
SANDBOX_KEY = pytest.StashKey[Sandbox]()
SCOREBOOK_KEY = pytest.StashKey[scoring.Scorebook]()


def pytest_addoption(parser: pytest.Parser) -> None:
    settings_module.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): the test is worth n points (default 1)")
    config.addinivalue_line("markers", "gpu: the test needs a CUDA device; skipped when there is none")
    settings = settings_module.resolve(config)
    _refuse_instructor_runs_in_a_release(config, settings)
    config.stash[SETTINGS_KEY] = settings
    config.stash[SCOREBOOK_KEY] = scoring.Scorebook()
    _load_hypothesis_profile(settings)
    if settings.deterministic and getattr(config.option, "timeout", None) is None:
        config.option.timeout = settings.timeout  # read by pytest-timeout's own pytest_configure
        config.option.timeout_method = "signal"


STUDENT_RELEASE = "dlgrade: this is a student release: "


def _refuse_instructor_runs_in_a_release(config: pytest.Config, settings: Settings) -> None:
    """``--against-reference`` or a ``hidden/`` folder asked for in a student release (no
    ``reference/``): say what this copy is, instead of failing on a missing oracle or path."""
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        course = Course.containing(path) or Course(path)  # a test path, or a course's root
        if not course.assignments_dir.is_dir() or not course.is_student_release:
            continue
        if settings.against_reference:
            raise pytest.UsageError(STUDENT_RELEASE + "it has no reference/ oracles to test against; the instructor runs --against-reference in the course repository")
        if "hidden" in path.parts:
            raise pytest.UsageError(STUDENT_RELEASE + "it has no hidden tests; they run when the instructor grades your submission")


def _load_hypothesis_profile(settings: Settings) -> None:
    """Register and load the run's hypothesis profile.

    ``function_scoped_fixture`` is not a hazard here: ``student``, ``reference`` and ``helper``
    hold no per-example state, so tests may combine them with ``@given``.
    """
    from hypothesis import HealthCheck, Phase
    from hypothesis import settings as hypothesis_settings

    name = f"dlgrade-{settings.profile}"
    # The explain phase only annotates a report; shrinking can be skipped (--dlgrade-shrink off)
    # without changing any verdict: a derandomized run generates the same examples either way.
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target] + ([Phase.shrink] if settings.shrink else [])
    if settings.deterministic:
        hypothesis_settings.register_profile(
            name,
            max_examples=settings.max_examples,
            derandomize=True,
            database=None,
            phases=phases,
            deadline=None,
            print_blob=False,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
        )
    else:
        hypothesis_settings.register_profile(
            name,
            max_examples=settings.max_examples,
            deadline=None,
            phases=phases,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
    hypothesis_settings.load_profile(name)


def _device() -> str:
    """``cuda`` when an NVIDIA driver is present, else ``cpu``; asks no torch (it costs 2 s)."""
    return "cuda (NVIDIA driver present)" if Path("/proc/driver/nvidia/version").exists() else "cpu"


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[SETTINGS_KEY]
    whose = "reference" if s.against_reference else (f"submission {s.submission}" if s.submission else "the files in the tree")
    box = f" sandbox={probe()}" if s.sandbox else ""
    return f"dlgrade: profile={s.profile} seed={s.seed} isolation={s.isolation} code={whose} device={_device()}{box}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU; torch.cuda.is_available() is False here")
        for item in gpu_items:
            item.add_marker(skip)


def _cuda_available() -> bool:
    import torch  # only when a gpu-marked test was collected

    return bool(torch.cuda.is_available())


def _loader(config: pytest.Config, course_assignments: Path) -> CodeLoader:
    if LOADER_KEY not in config.stash:
        s = config.stash[SETTINGS_KEY]
        source = CodeSource.for_run(course_assignments, s.submission, s.against_reference)
        helpers = course_assignments
        worker = None
        if s.isolation == "worker":
            options: dict[str, Any] = {"env": _worker_environment()}
            if s.sandbox:  # the worker gets private copies of student files and helpers
                box = config.stash[SANDBOX_KEY] = Sandbox(course_assignments.parent, keep_reference=s.against_reference)
                helpers = box.add_files(course_assignments, "course/assignments")
                if s.submission is not None:
                    source = CodeSource(box.add_files(source.assignments_root, "assignments"), source.label)
                elif not s.against_reference:
                    source = CodeSource(helpers, source.label)
                try:
                    options = box.worker_options(options["env"])
                except SandboxError as error:  # never grade unconfined: stop the whole run
                    pytest.exit(f"dlgrade: {error}", returncode=pytest.ExitCode.INTERNAL_ERROR)
            # The worker's own deadlines come before the test's (pytest-timeout), so that code that
            # never ends is stopped by the worker and named in the message, and not run again.
            worker = Worker(timeout=min(60.0, 0.5 * s.timeout), load_timeout=0.8 * s.timeout, **options)
        config.stash[LOADER_KEY] = CodeLoader(source, worker, helpers)
    return config.stash[LOADER_KEY]


def _worker_environment() -> dict[str, str]:
    """A clean environment for the worker: no inherited secrets, one thread per library."""
    keep = {"PATH", "LANG", "LC_ALL", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    return env


def _test_assignment(request: pytest.FixtureRequest) -> tuple[str, Path]:
    __tracebackhide__ = True
    path = Path(request.node.path)
    assignment = assignment_of(path)
    if assignment is None:
        pytest.fail(f"{path} is not inside an assignments/<name>/ folder: say which assignment", pytrace=False)
    parts = path.resolve().parts
    root = Path(*parts[: parts.index("assignments") + 1])
    return assignment, root


@pytest.fixture
def student(request: pytest.FixtureRequest) -> Any:
    """``student(file, assignment=None)``: the student's module for this run's code source.

    ``file`` is a name in the assignment's folder (``"activations.py"``, ``"init.ipynb"``;
    without a suffix ``.py`` is meant); ``assignment`` defaults to the test file's assignment.
    """

    def get(file: str, assignment: str | None = None) -> StudentFile:
        __tracebackhide__ = True
        own, root = _test_assignment(request)
        return _loader(request.config, root).get(assignment or own, file)

    return get


@pytest.fixture
def helper(request: pytest.FixtureRequest) -> Any:
    """``helper(file, assignment=None)``: a course module run where the student's code runs.

    For tests that must build or inspect objects that cannot cross the process boundary (torch
    models, data loaders): the helper's functions take student objects (handles) and return
    plain data. It comes from the course tree, never from the submission.
    """

    def get(file: str, assignment: str | None = None) -> StudentFile:
        __tracebackhide__ = True
        own, root = _test_assignment(request)
        return _loader(request.config, root).helper(assignment or own, file)

    return get


@pytest.fixture(scope="session")
def _reference_modules() -> dict[Path, Any]:
    return {}


@pytest.fixture
def reference(request: pytest.FixtureRequest, _reference_modules: dict[Path, Any]) -> Any:
    """``reference(file, assignment=None)``: the oracle module, loaded in this process (trusted)."""

    def get(file: str, assignment: str | None = None) -> Any:
        __tracebackhide__ = True
        own, root = _test_assignment(request)
        if Course(root.parent).is_student_release:
            pytest.fail(STUDENT_RELEASE + "it has no reference/ oracles; tests that use them run only in the instructor's course", pytrace=False)
        path = CodeSource.for_run(root, None, True).path_for(assignment or own, file)
        if path not in _reference_modules:
            _reference_modules[path] = load_module_from_path(path)
        return _reference_modules[path]

    return get


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the run's seed and the test's id: reproducible, distinct per test."""
    seed = request.config.stash[SETTINGS_KEY].seed
    return np.random.default_rng([seed, zlib.crc32(request.node.nodeid.encode())])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(StudentCodeError):
        report.longrepr = str(call.excinfo.value)
    book = item.config.stash[SCOREBOOK_KEY]
    book.record(item, report)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    book = config.stash[SCOREBOOK_KEY]
    if book.results:
        scoring.print_table(book, terminalreporter)
    s = config.stash[SETTINGS_KEY]
    if s.results_file is not None:
        book.write_json(s.results_file, settings=s)


def pytest_unconfigure(config: pytest.Config) -> None:
    if LOADER_KEY in config.stash:
        config.stash[LOADER_KEY].close()
    if SANDBOX_KEY in config.stash:
        config.stash[SANDBOX_KEY].close()
