"""Grade one submission with the course's own tests: stage it, run pytest per assignment, collect.

1. **Stage.** Only the student files the course knows (``Course.student_files``: the ``.py`` and
   ``.ipynb`` files of ``assignments/<a>/`` that are not tests) are copied from the submission,
   as regular files (never through a symbolic link), into a fresh folder. They are looked for in
   ``<a>/`` (under the submission or its ``assignments/``), else at its top level: a flat upload
   (``Course.flat_files``). Nothing else from the submission is ever seen again: no
   ``conftest.py``, ``pytest.ini``, ``pyproject.toml``, ``sitecustomize.py`` or test file.
2. **Run.** Each assignment's public and hidden tests run in a pytest subprocess under the grade
   profile (``--profile grade``: derandomized, seed 0, per-test timeout, student code in a
   sandboxed worker), with the course's ini file, the course as ``rootdir``, no cache, and an
   environment without ``PYTEST_*``, ``PYTHON*`` or ``DLGRADE_*`` variables.
3. **Collect.** The verdicts come only from the results file the plugin writes in a folder the
   student's code cannot reach. A pytest run that ends without it, or with an exit status other
   than "tests passed" (0) or "some tests failed" (1), means the grader could not grade that
   assignment: ``AssignmentGrade.error`` says why, and no points are assumed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.course import PROJECT_ROOT, Course, CourseError
from grader.report import AssignmentGrade, Report, normalize
from grader.sandbox import copy_regular_files, probe
from grader.scoring import TestResult


class GradingError(CourseError):
    """The grader itself cannot run: a bad argument, a missing course, broken course tests."""


@dataclass(frozen=True)
class Options:
    """How to grade: per-test time limit, whole-assignment time limit, sandbox on or off."""

    timeout: float = 120.0
    assignment_timeout: float = 1800.0
    sandbox: bool = True
    seed: int = 0


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
    inner = submission / "assignments"
    root = inner if inner.is_dir() and not inner.is_symlink() else submission
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


def _clean_environment() -> dict[str, str]:
    drop = ("PYTEST_", "PYTHON", "DLGRADE_", "HYPOTHESIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_assignment(course: Course, assignment: str, staged: Path, options: Options, scratch: Path) -> AssignmentGrade:
    """Run one assignment's tests on the staged submission; the verdicts, or why there are none."""
    results = scratch / f"results-{assignment}.json"
    log = scratch / f"pytest-{assignment}.log"
    command = [
        sys.executable, "-m", "pytest", str(course.assignments_dir / assignment),
        "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir", str(course.root), "-c", str(course.ini_file(scratch)),
        "--profile", "grade", "--isolation", "worker", "--sandbox", "on" if options.sandbox else "off",
        "--dlgrade-seed", str(options.seed), "--dlgrade-timeout", str(options.timeout),
        "--submission", str(staged), "--dlgrade-results", str(results),
    ]  # fmt: skip
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=scratch, env=_clean_environment(), stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = process.wait(timeout=options.assignment_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return AssignmentGrade(assignment, (), f"grading did not finish within {options.assignment_timeout:g} s")
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything the run left behind
            except ProcessLookupError:
                pass
    if status not in (0, 1) or not results.is_file():
        tail = log.read_bytes()[-3000:].decode(errors="replace")
        return AssignmentGrade(assignment, (), f"pytest ended with exit status {status} and no results:\n{tail}")
    document = json.loads(results.read_text())
    tests = tuple(
        TestResult(**{**t, "message": _course_relative(normalize(t["message"]), course, scratch)}) for t in document["tests"] if t["assignment"] == assignment
    )
    return AssignmentGrade(assignment, tests)


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
    options: Options | None = None,
) -> Report:
    """Grade ``submission`` (a folder laid out like the template, or one file with one assignment)."""
    course = course or Course(PROJECT_ROOT)
    options = options or Options()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dlgrade-grade-") as scratch_name:
        scratch = Path(scratch_name)
        os.chmod(scratch, 0o700)  # the results live here: out of the worker's reach
        staged = scratch / "submission"
        (staged / "assignments").mkdir(parents=True)
        chosen, notes = stage(course, submission.resolve(), assignments, staged)
        grades = tuple(run_assignment(course, a, staged, options, scratch) for a in chosen)
    return Report(
        submission=submission.name,
        assignments=grades,
        seed=options.seed,
        sandbox=probe() if options.sandbox else "off",
        execution_time=time.monotonic() - started,
        notes=tuple(notes),
    )
