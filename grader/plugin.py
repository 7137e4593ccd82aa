"""The dlgrade pytest plugin: points, the gpu marker, profiles, whose code, and the score table.

Registered through the ``pytest11`` entry point, so ``pytest assignments/`` loads it. It adds

* markers ``points(n)`` (a test's worth, default 1) and ``gpu`` (skipped without CUDA);
* fixtures ``student``, ``reference``, ``helper`` and ``rng`` (``grader.fixtures``), student
  code run where ``grader.isolation`` decides, once per run;
* options ``--dlgrade-profile``, ``--dlgrade-submission``, ``--dlgrade-against-reference``,
  ``--dlgrade-isolation``, ``--dlgrade-seed``, ``--dlgrade-timeout``, ``--dlgrade-budget``,
  ``--dlgrade-shrink``, ``--dlgrade-results``, ``--dlgrade-sandbox``, ``--dlgrade-plan``, or all
  of them at once from ``--dlgrade-settings FILE`` (see ``grader.settings``; the sandbox is
  ``grader.sandbox``);
* a report header with the profile, seed, isolation, whose code and device, and a score table
  per assignment at the end of the run (optionally also written as JSON);
* for a failed test, the known mistake it shows, when the course's catalogue recognises one
  (``grader.calls`` records the test's calls to student functions, ``grader.diagnosis`` judges
  them).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader import scoring, settings as settings_module, stubs
from grader.calls import CallLog
from grader.course import STUDENT_RELEASE, Course
from grader.diagnosis import Catalogue
from grader.isolation import CALLS_KEY, LOADER_KEY, NOTES_KEY, PLAN_KEY, SANDBOX_KEY, close, close_assignment, level, notes as run_notes
from grader.plan import SUBMISSION_FIXTURE, param_id, read_plan
from grader.progress import announcement
from grader.remote import StudentCodeError
from grader.results import finished_results
from grader.sandbox import isolation_level
from grader.settings import SETTINGS_KEY, Settings

pytest_plugins = ["grader.fixtures"]  # student, helper, reference, rng (imported by pytest alone, so it may rewrite it)
SCOREBOOK_KEY = pytest.StashKey[scoring.Scorebook]()
FAILED_KEY = pytest.StashKey[set[str]]()  # planned submissions (first_failure) that failed a test
CATALOGUES_KEY = pytest.StashKey[dict[tuple[Path, str], Catalogue | None]]()  # (course root, assignment) -> its mistakes


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
    config.stash[LOADER_KEY] = {}
    config.stash[SANDBOX_KEY] = {}
    config.stash[NOTES_KEY] = []
    config.stash[FAILED_KEY] = set()
    config.stash[CALLS_KEY] = CallLog()
    config.stash[CATALOGUES_KEY] = {}
    if settings.plan is not None:
        try:
            config.stash[PLAN_KEY] = read_plan(settings.plan)
        except (ValueError, KeyError, TypeError) as error:
            raise pytest.UsageError(f"dlgrade: plan {settings.plan}: {error}") from None
    _load_hypothesis_profile(settings)
    config.pluginmanager.register(stubs.StubSummary(), "dlgrade-stubs")
    if settings.deterministic and getattr(config.option, "timeout", None) is None:
        config.option.timeout = settings.timeout  # read by pytest-timeout's own pytest_configure
        config.option.timeout_method = "signal"


def _refuse_instructor_runs_in_a_release(config: pytest.Config, settings: Settings) -> None:
    """``--against-reference`` or a ``hidden/`` folder asked for in a student release (no
    ``reference/``): say what this copy is, instead of failing on a missing oracle or path."""
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        course = _course_of_argument(path)
        if course is None or not course.is_student_release:
            continue
        if settings.against_reference:
            raise pytest.UsageError(STUDENT_RELEASE + "it has no reference/ oracles to test against; the instructor runs --dlgrade-against-reference in the course repository")
        if "hidden" in path.parts and not path.exists():  # a course without oracles may still have hidden tests
            raise pytest.UsageError(STUDENT_RELEASE + "it has no hidden tests; they run when the instructor grades your submission")


def _course_of_argument(path: Path) -> Course | None:
    """The course a command-line path lies in: a course's root, its ``assignments/`` or below."""
    for folder in (path, *path.parents):
        if (folder / "assignments").is_dir() and (path == folder or path.is_relative_to(folder / "assignments")):
            return Course(folder)
    return None


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
    checks = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
    # Grading replays no example database and prints no reproduction blob: the same examples every run.
    reproducible = {"derandomize": True, "database": None, "print_blob": False} if settings.deterministic else {}
    hypothesis_settings.register_profile(
        name,
        max_examples=settings.max_examples,
        deadline=None,
        phases=phases,
        suppress_health_check=checks + ([HealthCheck.filter_too_much] if settings.deterministic else []),
        **reproducible,
    )
    hypothesis_settings.load_profile(name)
    if settings.deterministic:
        _examples_independent_of_loaded_modules()


def _examples_independent_of_loaded_modules() -> None:
    """Stop hypothesis from mixing into its examples the literal constants of every local module
    in ``sys.modules`` (hypothesis >= 6.131; ``internal.conjecture.providers``). In a judge those
    are the harness's, the course helpers' and the references of whichever assignments it loaded,
    so a test's examples, derandomized or not, would change with the assignments graded beside it
    (``--jobs``) and with every edit of any of them."""
    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "_get_local_constants"):  # a version without local constants
        return
    # A private API, patched on purpose (hypothesis has no switch for it); the pinned version's
    # behaviour is checked by tests/test_plugin.py.
    none = providers.Constants()
    providers._get_local_constants = lambda *args: none
    providers.CONSTANTS_CACHE.cache.clear()


def _device() -> str:
    """``cuda`` when an NVIDIA driver is present, else ``cpu``; asks no torch (it costs 2 s)."""
    return "cuda (NVIDIA driver present)" if Path("/proc/driver/nvidia/version").exists() else "cpu"


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[SETTINGS_KEY]
    box = f" sandbox={isolation_level(s.sandbox)}"
    return f"dlgrade: profile={s.profile} seed={s.seed} isolation={s.isolation} code={_whose_code(config)} device={_device()}{box}"


def _whose_code(config: pytest.Config) -> str:
    s = config.stash[SETTINGS_KEY]
    if PLAN_KEY in config.stash:
        return f"{len(config.stash[PLAN_KEY])} planned submissions"
    return "reference" if s.against_reference else (f"submission {s.submission}" if s.submission else "the files in the tree")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With a plan, every test that asks for student code runs once per planned submission."""
    plan = metafunc.config.stash.get(PLAN_KEY, None)
    if plan and SUBMISSION_FIXTURE in metafunc.fixturenames:
        keys = list(plan)
        metafunc.parametrize(SUBMISSION_FIXTURE, keys, ids=[param_id(k) for k in keys], indirect=True, scope="session")


def planned_key(item: pytest.Item) -> str | None:
    """The planned submission a test item runs on, or None."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(SUBMISSION_FIXTURE) if callspec is not None else None


def pytest_collection_finish(session: pytest.Session) -> None:
    """When grading, say how many tests of each assignment will run, in the order they run
    (``a1_foundations=33 a2_backprop=20``): ``grade`` reads it to show how far each is."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if session.config.stash[SETTINGS_KEY].results_file is not None and reporter is not None:
        counts: dict[str, int] = {}
        for item in session.items:
            found = Course.containing(Path(item.path))
            name = found[1] if found else "-"
            counts[name] = counts.get(name, 0) + 1
        reporter.write_line(announcement(counts))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    plan = config.stash.get(PLAN_KEY, None)
    if plan:
        keep, drop = [], []
        for item in items:
            key = planned_key(item)
            tests = plan[key].tests if key is not None else None
            name = getattr(item, "originalname", item.name)
            (keep if tests is None or name in tests else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU; torch.cuda.is_available() is False here")
        for item in gpu_items:
            item.add_marker(skip)


def _cuda_available() -> bool:
    import torch  # only when a gpu-marked test was collected

    return bool(torch.cuda.is_available())


NOT_RUN = "not run: this planned submission already failed a test (first_failure)"


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[CALLS_KEY].clear()  # each test's calls are its own
    key = planned_key(item)
    if key is not None and key in item.config.stash[FAILED_KEY]:
        pytest.skip(NOT_RUN)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    book = item.config.stash[SCOREBOOK_KEY]
    if call.excinfo is not None and call.excinfo.errisinstance(StudentCodeError):
        message = str(call.excinfo.value)
        found = Course.containing(Path(item.path))
        report.longrepr = book.student_text(message, *found) if found else message
    stubs.mark_stub(report, call)
    key = planned_key(item)
    if key is not None and report.failed and item.config.stash[PLAN_KEY][key].first_failure:
        item.config.stash[FAILED_KEY].add(key)
    diagnosis = diagnosis_of(item) if report.failed and call.when == "call" else ""
    book.record(item, report, submission=key, diagnosis=diagnosis)


def diagnosis_of(item: pytest.Item) -> str:
    """The known mistake the failed ``item`` shows (``grader.diagnosis``), or "": judged on the
    calls it made to its own assignment's student functions, by that assignment's catalogue."""
    found = Course.containing(Path(item.path))
    if found is None:
        return ""
    course, assignment = found
    catalogues = item.config.stash[CATALOGUES_KEY]
    if (course.root, assignment) not in catalogues:
        try:
            catalogues[course.root, assignment] = Catalogue.load(course, assignment)
        except Exception as error:  # a broken catalogue means no diagnosis, never a lost grade
            warnings.warn(f"dlgrade: the catalogue of mistakes of {assignment} cannot be used: {type(error).__name__}: {error}", stacklevel=1)
            catalogues[course.root, assignment] = None
    catalogue = catalogues[course.root, assignment]
    if catalogue is None:
        return ""
    calls = [c for c in item.config.stash[CALLS_KEY] if c.assignment == assignment]
    try:
        mistake = catalogue.diagnose(calls)
    except Exception:  # a diagnosis is advice: it never costs a grade or stops a run
        return ""
    return mistake.describe() if mistake is not None else ""


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    book = config.stash[SCOREBOOK_KEY]
    if book.results:
        scoring.print_table(book, terminalreporter)
    for note in run_notes(config):
        terminalreporter.write_line(f"dlgrade: {note}")
    if config.stash[SETTINGS_KEY].results_file is not None:
        _write_results(config, config.stash[SETTINGS_KEY].results_file)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """When the run moves on to another assignment (or ends), stop this assignment's worker and,
    when grading, record what the run has finished (``grader.results.finished_results``)."""
    yield
    found = Course.containing(Path(item.path))
    if found is None or (nextitem is not None and Course.containing(Path(nextitem.path)) == found):
        return
    unanswered = close_assignment(item.config, planned_key(item), found[1])
    book = item.config.stash[SCOREBOOK_KEY]
    book.unanswered[found[1]] = book.unanswered.get(found[1], 0.0) + unanswered
    s = item.config.stash[SETTINGS_KEY]
    if s.results_file is not None:
        _write_results(item.config, finished_results(s.results_file))


def _write_results(config: pytest.Config, path: Path) -> None:
    s = config.stash[SETTINGS_KEY]
    config.stash[SCOREBOOK_KEY].write_json(path, submission=_whose_code(config), seed=s.seed, sandbox=level(config), notes=run_notes(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    for key in {k for k, _ in config.stash.get(LOADER_KEY, {})} | set(config.stash.get(SANDBOX_KEY, {})):
        close(config, key)
