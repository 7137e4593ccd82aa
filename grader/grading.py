"""Grade one submission with the course's own tests: stage it, judge it in parallel pytest runs, collect.

1. **Stage.** Only the student files the course knows (``Course.student_files``: the ``.py`` and
   ``.ipynb`` files of ``assignments/<a>/`` that are not tests) are copied from the submission,
   as regular files (never through a symbolic link), into a fresh folder. They are looked for in
   ``<a>/`` (under the submission or its ``assignments/``), else at its top level: a flat upload
   (``Course.flat_files``). Nothing else from the submission is ever seen again: no
   ``conftest.py``, ``pytest.ini``, ``pyproject.toml``, ``sitecustomize.py`` or test file.
2. **Run.** The assignments' public and hidden tests run in pytest subprocesses, the *judges*:
   up to ``Settings.jobs`` at once, each judging a group of assignments of about equal expected
   cost (``spread``) in one run; when there are fewer assignments than judges, the costliest
   are cut into parts between their test files (``divide``), so that one assignment graded
   alone still uses every judge. The grader's ``Settings`` reach each judge in a file
   (``--dlgrade-settings``): the grade profile (derandomized, seed 0, per-test timeout, student
   code in sandboxed workers forked from one warm fork server per judge, a worker of its own per
   assignment or part), with the course's ini file, the course as ``rootdir``, no cache, and an
   environment without ``PYTEST_*``, ``PYTHON*`` or ``DLGRADE_*`` variables, and a limit on its
   address space (``Settings.judge_memory_bytes``): the judge reads at most one message of
   ``grader.wire.MAX_MESSAGE_BYTES`` at a time, so a submission cannot make it take the
   machine. Each assignment (or part) has ``Settings.assignment_timeout`` seconds: a judge
   that has not finished its current one that long after the previous one finished (or it
   started) is stopped.
3. **Collect.** The verdicts come only from the results file the plugin writes in a folder the
   student's code cannot reach. A judge that ends without it, or with an exit status other than
   "tests passed" (0) or "some tests failed" (1), did not grade the assignments it had not
   finished (the plugin records the finished ones as it goes, ``finished_results``): the one it
   was running is graded again alone (when it ran out of time, ``AssignmentGrade.error`` says
   so), the ones after it again in one run; an assignment that cannot be graded alone gets its
   own ``AssignmentGrade.error``, and no points are assumed. One broken assignment never costs
   another its grade. The parts of an assignment make one grade again (``merged``).
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from grader.course import PROJECT_ROOT, Course, CourseError
from grader.plan import Planned, write_plan
from grader.progress import LogProgress
from grader.results import AssignmentGrade, Report, finished_results, from_json, normalize
from grader.sandbox import Limits, copy_regular_files, isolation_level
from grader.settings import Settings


K = TypeVar("K", bound=Hashable)


class GradingError(CourseError):
    """The grader itself cannot run: a bad argument, a missing course, broken course tests."""


def stage(course: Course, submission: Path, assignments: list[str] | None, destination: Path) -> tuple[list[str], list[str]]:
    """Copy the student files of ``submission`` to ``destination/assignments/<a>/``.

    Returns the assignments to grade and notes for the student (files that were not taken).
    """
    known = course.assignments()
    for name in assignments or []:
        if name not in known:
            raise GradingError(f"assignment {name!r} is not in the course (it has: {', '.join(known) or 'none'})")
    notes: list[str] = []
    if submission.is_file():
        if not assignments or len(assignments) != 1:
            raise GradingError(f"{submission.name} is a single file: say which assignment it belongs to with --assignment NAME")
        assignment = assignments[0]
        name = _match_file(course, assignment, submission.name)
        copy_regular_files(submission.parent, destination / "assignments" / assignment, names=[submission.name])
        if name != submission.name:
            (destination / "assignments" / assignment / submission.name).rename(destination / "assignments" / assignment / name)
            notes.append(f"{submission.name} was graded as {assignment}/{name}.")
        return [assignment], notes
    if not submission.is_dir():
        raise GradingError(f"submission {str(submission)!r} is neither a folder nor a file")
    root = Course.submitted_assignments(submission)
    chosen = assignments or known
    flat = course.flat_files(root, chosen)
    for assignment in chosen:
        names = course.student_files(assignment)
        source = root / assignment
        if source.is_dir() and not source.is_symlink():
            skipped = copy_regular_files(source, destination / "assignments" / assignment, names=names)
            notes += [f"{assignment}/{n} was not graded: it is not a regular file (a link?)" for n in skipped]
        elif assignment in flat:
            copy_regular_files(root, destination / "assignments" / assignment, names=flat[assignment])
    return chosen, notes


def _match_file(course: Course, assignment: str, name: str) -> str:
    files = course.student_files(assignment)
    if name in files:
        return name
    same_kind = [f for f in files if Path(f).suffix == Path(name).suffix]
    if len(same_kind) == 1:
        return same_kind[0]
    raise GradingError(f"{name} is not a file of {assignment} (its files: {', '.join(files)}); rename it to the one it is")


def _grading(settings: Settings | None) -> Settings:
    """``settings``, checked to be a grader's (``Settings.grading``); the default ones without."""
    if settings is None:
        return Settings.grading()
    if not settings.deterministic or settings.isolation != "worker":
        raise GradingError(f"grading takes Settings.grading(...): the grade profile with student code in a worker, not profile={settings.profile}, isolation={settings.isolation}")
    return settings


def expected_level(settings: Settings) -> str:
    """The sandbox level every assignment of one grading runs at (``off`` without a sandbox)."""
    return isolation_level(settings.sandbox)


def bytecode_cache() -> Path:
    """Where judges keep their compiled modules between runs (``PYTHONPYCACHEPREFIX``), out of
    the course and of the worker's reach: ``$XDG_CACHE_HOME/dlgrade/bytecode``. pytest rewrites
    the asserts of every module of its plugins (hypothesis's hundred among them) and caches the
    result only where bytecode may be written: without it, each judge spends about 0.7 s of CPU
    compiling them again. A folder that cannot be made or written only costs that time."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlgrade" / "bytecode"
    try:
        cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        pass
    return cache


def _clean_environment() -> dict[str, str]:
    drop = ("PYTEST_", "PYTHON", "DLGRADE_", "HYPOTHESIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(PYTHONPYCACHEPREFIX=str(bytecode_cache()), PYTHONUNBUFFERED="1")  # the log shows how far a run is as it goes
    return env


def _wait(process: subprocess.Popen[bytes], timeout: float, tick: Callable[[], None], progressed: Callable[[], int]) -> int:
    """``process``'s exit status, calling ``tick`` about four times a second while it runs; it
    may run ``timeout`` seconds past the last time ``progressed()`` (assignments finished) grew."""
    deadline, seen = time.monotonic() + timeout, 0
    while True:
        try:
            return process.wait(0.25)  # returns as soon as the process ends
        except subprocess.TimeoutExpired:
            pass
        if (now := progressed()) != seen:
            deadline, seen = time.monotonic() + timeout, now
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(process.args, timeout)
        tick()


@dataclass(frozen=True)
class Unfinished:
    """A judge that ended without its results: why, and what it graded before (``finished``)."""

    reason: str
    finished: Report | None = None
    timed_out: bool = False


_UNUSED_IN_A_JUDGE = ("-p", "no:unraisableexception", "-p", "no:threadexception")
"""pytest plugins a judge does without: they report exceptions raised in ``__del__`` and in
threads of the judge's own process (student code runs in the worker), and collect garbage at
the end to find them, about 0.4 s with torch loaded."""


def _run_pytest(
    course: Course, parts: list[Part], judge: Settings, folder: Path, *, timeout: float, progress: Callable[[str, float], None] | None = None
) -> Report | Unfinished:
    """Run the tests of ``parts`` in one judge with the settings ``judge`` (whose code: its
    ``submission`` or ``plan``), in ``folder`` (out of the worker's reach): the plugin's results,
    or why there are none. Each part may take ``timeout`` seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    results, log = folder / "results.json", folder / "pytest.log"
    settings = replace(judge, results_file=results)
    command = [
        sys.executable, "-m", "pytest", *(path for part in parts for path in part.paths(course)),
        "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *_UNUSED_IN_A_JUDGE, "--rootdir", str(course.root), "-c", str(course.ini_file(folder)),
        "--dlgrade-settings", str(settings.write(folder / "settings.json")),
    ]  # fmt: skip
    finished = finished_results(results)
    with open(log, "wb") as output:
        limit = Limits(cpu_seconds=None, memory_bytes=settings.judge_memory_bytes, tasks=None, open_files=None, file_bytes=None)
        try:
            process = subprocess.Popen(
                command, cwd=folder, env=_clean_environment(), stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=functools.partial(limit.apply, tasks=False),
            )  # fmt: skip
        except OSError as error:  # this machine's fault, not the submission's: nothing is graded
            raise GradingError(f"cannot start the judge ({sys.executable} -m pytest): {error}") from None
        try:
            shown = LogProgress(log)
            progressed = lambda: finished.stat().st_mtime_ns if finished.is_file() else 0  # noqa: E731
            status = _wait(process, timeout, lambda: [progress(*told) for told in shown.fractions().items()] if progress else None, progressed)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return Unfinished(f"grading did not finish within {timeout:g} s", _read_results(finished, course, folder, settings), timed_out=True)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything the run left behind
            except ProcessLookupError:
                pass
    if status not in (0, 1) or not results.is_file():
        tail = log.read_bytes()[-3000:].decode(errors="replace")
        return Unfinished(f"pytest ended with exit status {status} and no results:\n{tail}", _read_results(finished, course, folder, settings))
    run = _read_results(results, course, folder, settings)
    if run is None:
        return Unfinished(f"graded at sandbox level {from_json(results.read_text()).sandbox} instead of {expected_level(settings)}")
    return run


def _read_results(results: Path, course: Course, folder: Path, settings: Settings) -> Report | None:
    """The plugin's results file, its messages naming the course's files from its root; None
    when there is none, it does not parse, or it was graded at another sandbox level."""
    try:
        run = from_json(results.read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if run.sandbox != expected_level(settings):
        return None

    def reproducible(message: str) -> str:
        return _course_relative(normalize(message), course, folder)

    graded = tuple(replace(a, tests=tuple(replace(t, message=reproducible(t.message)) for t in a.tests)) for a in run.assignments)
    return replace(run, assignments=graded, notes=tuple(reproducible(n) for n in run.notes))


def _grade_of(run: Report | Unfinished, assignment: str, submission: str | None = None) -> AssignmentGrade:
    """``assignment``'s grade in a run (of one planned ``submission``), or the run's error."""
    if isinstance(run, Unfinished):
        return AssignmentGrade(assignment, (), run.reason)
    graded = run.assignment(assignment)
    return AssignmentGrade(assignment, tuple(t for t in graded.tests if t.submission == submission), unanswered=graded.unanswered)


@dataclass(frozen=True)
class Part:
    """Test files of one assignment that one judge runs: all of them (``files`` empty), or some,
    relative to the assignment's folder in the order pytest collects them."""

    assignment: str
    files: tuple[str, ...] = ()

    def paths(self, course: Course) -> list[str]:
        """What the judge's pytest is given to collect."""
        folder = course.assignments_dir / self.assignment
        return [str(folder / file) for file in self.files] if self.files else [str(folder)]


def run_assignments(
    course: Course, parts: list[Part], staged: Path, settings: Settings, scratch: Path, *, progress: Callable[[str, float], None] | None = None
) -> tuple[dict[Part, AssignmentGrade], tuple[str, ...]]:
    """Run the tests of ``parts`` (never two of one assignment) on the staged submission in one
    judge: each one's verdicts, or why there are none, and the notes for the student (notebook
    lines that were skipped). When the judge ends without results, the parts it had not
    finished are graded again (the one it was running alone, the rest together). ``progress``
    hears how far each assignment is (0 to 1) while it runs."""
    folder = Path(tempfile.mkdtemp(prefix="judge-", dir=scratch))
    judge = replace(settings, submission=staged)
    run = _run_pytest(course, parts, judge, folder, timeout=settings.assignment_timeout, progress=progress)
    if isinstance(run, Report):
        return {p: _grade_of(run, p.assignment) for p in parts}, run.notes
    finished = run.finished or Report("", ())
    done = {a.name for a in finished.assignments}
    grades = {p: _grade_of(finished, p.assignment) for p in parts if p.assignment in done}
    notes = finished.notes
    rest = [p for p in parts if p not in grades]
    if len(parts) == 1 or not rest:
        return {**grades, **{p: _grade_of(run, p.assignment) for p in rest}}, notes
    current, *after = rest  # the judge was running ``current`` when it ended
    if run.timed_out:
        grades[current] = _grade_of(run, current.assignment)
    else:
        alone, alone_notes = run_assignments(course, [current], staged, settings, scratch)
        grades, notes = {**grades, **alone}, notes + alone_notes
    if after:
        others, other_notes = run_assignments(course, after, staged, settings, scratch)
        grades, notes = {**grades, **others}, notes + other_notes
    return grades, notes


def expected_cost(counts: dict[str, int], files: tuple[str, ...] = ()) -> int:
    """How long an assignment's tests (only those of ``files``, when given) are expected to take,
    in a unit of its own: how many test functions they define (at least 1). ``counts``: test
    functions per test file (``Course.test_counts``)."""
    return max(sum(counts[file] for file in files or counts), 1)


def divide(course: Course, assignments: list[str], jobs: int) -> dict[Part, int]:
    """The parts to judge, in the course's order, and each one's expected cost: each assignment
    whole, unless there are fewer assignments than ``jobs``; then the costliest part is cut in
    two of about equal cost, between its test files, until there is a part per judge or no part
    has two files. (One assignment graded alone thus uses every judge.)"""
    parts = [Part(a) for a in assignments]
    counts = {a: course.test_counts(a) for a in assignments}

    def files_of(part: Part) -> tuple[str, ...]:
        return part.files or tuple(counts[part.assignment])

    def cost(part: Part) -> int:
        return expected_cost(counts[part.assignment], part.files)

    while len(parts) < jobs and (splittable := [p for p in parts if len(files_of(p)) > 1]):
        biggest = max(splittable, key=cost)
        whole, total = files_of(biggest), cost(biggest)
        before = list(itertools.accumulate(counts[biggest.assignment][f] for f in whole[:-1]))  # the cost before each cut
        cut = 1 + min(range(len(before)), key=lambda i: abs(2 * before[i] - total))
        at = parts.index(biggest)
        parts[at : at + 1] = [Part(biggest.assignment, whole[:cut]), Part(biggest.assignment, whole[cut:])]
    return {p: cost(p) for p in parts}


def spread(costs: dict[K, int], jobs: int) -> list[list[K]]:
    """The parts (``costs``: each one's expected cost) in at most ``jobs`` groups of about equal
    total cost: each part, most costly first, joins the group that costs least so far. The
    groups and each group keep the order of ``costs``."""
    groups: list[list[K]] = [[] for _ in range(max(1, min(jobs, len(costs))))]
    totals = [0] * len(groups)
    for name in sorted(costs, key=lambda a: -costs[a]):
        cheapest = totals.index(min(totals))
        groups[cheapest].append(name)
        totals[cheapest] += costs[name]
    order = list(costs)
    return sorted((sorted(g, key=order.index) for g in groups if g), key=lambda g: order.index(g[0]))


def merged(assignment: str, grades: list[AssignmentGrade]) -> AssignmentGrade:
    """One assignment's grade from its parts' grades (in the parts' order): their tests, their
    errors, if any, and the student code's unanswered seconds."""
    errors = dict.fromkeys(g.error for g in grades if g.error)
    return AssignmentGrade(assignment, tuple(t for g in grades for t in g.tests), "\n".join(errors), sum(g.unanswered for g in grades))


@dataclass(frozen=True)
class Request:
    """One submission to grade in :func:`grade_assignment_many`, and how much of it to run.

    ``tests``: the test function names to run (None: all of them); ``first_failure``: stop this
    submission's run at its first failing test (its other tests then count as failed, "not run").
    Both only make sense for checking the course itself (planted submissions), never for a grade.
    """

    submission: Path
    tests: frozenset[str] | None = None
    first_failure: bool = False


def grade_assignment_many(
    assignment: str,
    requests: list[Request],
    *,
    course: Course | None = None,
    settings: Settings | None = None,
) -> list[AssignmentGrade]:
    """Grade one assignment of several submissions in ONE pytest run (start-up paid once).

    Each submission is staged exactly as :func:`grade` stages it and graded by the same pytest
    command (course ini file, clean environment, grade profile, time limits, a sandboxed worker),
    with a plan (``grader.plan``): every test runs once per submission, each
    submission in its own worker and sandbox, one after the other. The grades come back in the
    order of ``requests``; a run that ends without results gives every one of them the error.
    """
    course = course or Course(PROJECT_ROOT)
    settings = _grading(settings)
    if not requests:
        return []
    with tempfile.TemporaryDirectory(prefix="dlgrade-grade-") as scratch_name:
        scratch = Path(scratch_name)
        os.chmod(scratch, 0o700)
        planned = []
        for i, request in enumerate(requests):
            staged = scratch / f"s{i}" / "submission"
            (staged / "assignments").mkdir(parents=True)
            stage(course, request.submission.resolve(), [assignment], staged)
            planned.append(Planned(f"s{i}", staged, request.tests, request.first_failure))
        timeout = settings.assignment_timeout * len(requests)
        run = _run_pytest(course, [Part(assignment)], replace(settings, plan=write_plan(scratch / "plan.json", planned)), scratch, timeout=timeout)
        return [_grade_of(run, assignment, p.key) for p in planned]


def _course_relative(message: str, course: Course, scratch: Path) -> str:
    """``message`` naming the course's files from its root (pytest names them from the run's
    folder): a grade does not depend on where the course lies."""
    for prefix in (f"{course.root}/", f"{os.path.relpath(course.root, scratch)}/"):
        message = message.replace(prefix, "")
    return message


def grade(
    submission: Path,
    *,
    course: Course | None = None,
    assignments: list[str] | None = None,
    settings: Settings | None = None,
    progress: Callable[[str, float], None] | None = None,
    keep_notebooks: Path | None = None,
) -> Report:
    """Grade ``submission`` (a folder laid out like the template, or one file with one assignment).
    ``progress(assignment, fraction)`` hears which assignment is running and how far it is.
    ``keep_notebooks``: a folder where each graded notebook (``Course.student_notebooks``) is
    copied as staged, before any student code ran, to ``<assignment>/<name>.ipynb`` (for the feedback in
    the student's notebook, ``grader.formats.notebook_feedback``)."""
    course = course or Course(PROJECT_ROOT)
    settings = _grading(settings)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dlgrade-grade-") as scratch_name:
        scratch = Path(scratch_name)
        os.chmod(scratch, 0o700)  # the results live here: out of the worker's reach
        staged = scratch / "submission"
        (staged / "assignments").mkdir(parents=True)
        chosen, notes = stage(course, submission.resolve(), assignments, staged)
        if keep_notebooks is not None:
            for assignment in chosen:
                copy_regular_files(staged / "assignments" / assignment, keep_notebooks / assignment, names=course.student_notebooks(assignment))
        parts = divide(course, chosen, settings.jobs)
        fractions: dict[Part, float] = {}

        def heard(part: Part, fraction: float) -> None:
            """An assignment is as far as its parts are on average."""
            fractions[part] = fraction
            own = [fractions.get(p, 0.0) for p in parts if p.assignment == part.assignment]
            progress(part.assignment, sum(own) / len(own))  # type: ignore[misc]

        def judge(group: list[Part]) -> tuple[dict[Part, AssignmentGrade], tuple[str, ...]]:
            """One judge's parts (never two of one assignment), each told how far it is."""
            own = {part.assignment: part for part in group}
            graded = run_assignments(course, group, staged, settings, scratch, progress=(lambda name, f: heard(own[name], f) if name in own else None) if progress else None)
            for part in group if progress else ():
                heard(part, 1.0)
            return graded

        with ThreadPoolExecutor(max_workers=len(parts) or 1) as pool:
            runs = list(pool.map(judge, spread(parts, settings.jobs)))
        by_part = {part: grade for graded, _ in runs for part, grade in graded.items()}
        grades = {a: merged(a, [by_part[p] for p in parts if p.assignment == a]) for a in chosen}
        notes += [note for _, run_notes in runs for note in run_notes]
        # Each part has its own budget: once student code spent any, the verdicts may differ from
        # a whole run's (where one part's hang leaves less for the next), so it is judged whole.
        again = [Part(a) for a in chosen if grades[a].unanswered > 0 and Part(a) not in parts]
        if again:
            whole, whole_notes = run_assignments(course, again, staged, settings, scratch)
            grades.update({part.assignment: grade for part, grade in whole.items()})
            notes += whole_notes
    return Report(
        submission=submission.name,
        assignments=tuple(grades.values()),
        seed=settings.seed,
        sandbox=expected_level(settings),
        execution_time=time.monotonic() - started,
        notes=tuple(dict.fromkeys(notes)),  # parts of one assignment may note the same
    )
