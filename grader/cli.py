"""The ``dlgrade`` command (also ``python -m grader``): grade, batch, gradebook merge, roster fetch, package, release.

``grade SUBMISSION [--assignment NAME ...] [--format NAME] [--out FILE] [--jobs N] [--keep-notebooks DIR]``
    Grade one submission with the course's own tests (``grader.grading``, up to N judges at once)
    and write the result. With ``--format html --out FILE``, also ``<notebook stem>.feedback.html``
    beside FILE for each graded notebook assignment: the student's notebook with feedback after
    each graded function (``grader.formats.notebook_feedback``). ``--keep-notebooks DIR`` copies
    each graded notebook as staged to ``DIR/<assignment>/`` (``batch`` writes the feedback from it).
    Exit status 0 whenever grading finished, whatever the score; 2 when the grader could not run
    (a bad argument, or an assignment it could not grade), with a message on stderr.
``batch ROSTER_DIR --out DIR [--jobs N] [--format NAME ...] [--shard K/N] [--resume]``
    Grade every subfolder of ROSTER_DIR (``grader.batch``), or only shard K of N
    (``grader.shards``); ``--resume`` keeps the results of students whose submission and course
    are unchanged. Exit status 0 when every submission was graded, 3 when any could not be (the
    gradebook is still written and says why per student), 2 when the grader could not run.
``gradebook merge SHARD_DIR... --out DIR``
    Merge the outputs of all shards of one roster into one gradebook (``grader.gradebook``);
    exit 2, saying why, for overlapping, missing or inconsistent shards; 3 as ``batch``.
``roster fetch ROSTER.csv --into DIR [--shard K/N]``
    Clone each student's repository at its commit (``grader.roster``); 3 when any could not be.
``package gradescope --out autograder.zip [--assignment NAME ...]``
    Build Gradescope's autograder bundle for the course (``grader.package``).
``release [--check]``
    Write the student stubs from the reference's solution regions (``grader.release``); with
    ``--check``, write nothing and exit 1 when a committed stub differs.
``release --student OUT``
    Write the students' template repository to the new folder OUT: handouts, stubs, public tests
    and their helpers, the harness as a wheel, pinned requirements, the GitHub Classroom workflow.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grader.batch import DEFAULT_FORMATS
from grader.course import PROJECT_ROOT, Course, CourseError
from grader.formats import FORMATS, VISIBILITIES, notebook_feedback, render
from grader.grading import GradingError, grade
from grader.sandbox import NOT_ROOT, UNAVAILABLE, probe
from grader.settings import Settings, available_cpus, budget_text, parse_budget

if TYPE_CHECKING:
    from grader.batch import StudentGrade

EXIT_OK, EXIT_DIFFERS, EXIT_ERROR, EXIT_INCOMPLETE = 0, 1, 2, 3


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``grade`` and ``batch`` that are ``Settings`` fields; one not given takes
    ``Settings.grading()``'s default (the attribute is then absent: ``_settings``)."""
    defaults = Settings.grading()
    parser.add_argument("--course", type=Path, default=PROJECT_ROOT, help="the course tree (default: this project)")
    parser.add_argument("--timeout", type=float, default=argparse.SUPPRESS, help=f"seconds per test (default {defaults.timeout:g})")
    parser.add_argument(
        "--assignment-timeout", type=float, default=argparse.SUPPRESS,
        help=f"seconds per assignment before it counts as not graded (default {defaults.assignment_timeout:g})",
    )  # fmt: skip
    parser.add_argument(
        "--student-budget", type=_budget, default=argparse.SUPPRESS, metavar="SECONDS", dest="budget",
        help=f"seconds that calls into student code which never answer (hang, crash) may take per assignment, or off; once spent, the tests left fail at once, saying so (default {budget_text(defaults.budget)})",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=argparse.SUPPRESS, help=f"seed of the tests' rng fixture (default {defaults.seed}; every output records it)")
    parser.add_argument("--sandbox", choices=("on", "off"), default=argparse.SUPPRESS, help="confine student code (default on; off: trusted code only, and every output says so)")
    _add_visibility_option(parser)


_SETTING_OPTIONS = {"timeout": "--timeout", "assignment_timeout": "--assignment-timeout", "budget": "--student-budget", "seed": "--seed", "sandbox": "--sandbox", "jobs": "--jobs"}


def _budget(text: str) -> float | None:
    try:
        return parse_budget(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_visibility_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden-visibility", choices=VISIBILITIES, default="after_published", help="when hidden tests' details may be shown (Gradescope's names; default after_published)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlgrade", description="Grade deep-learning coursework with the course's own tests.")
    commands = parser.add_subparsers(dest="command", required=True)

    grade_parser = commands.add_parser("grade", help="grade one submission")
    grade_parser.add_argument("submission", type=Path, help="a folder laid out like the template, or one .py/.ipynb file (with --assignment)")
    grade_parser.add_argument("--assignment", action="append", metavar="NAME", help="grade only this assignment (repeatable)")
    grade_parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    grade_parser.add_argument("--out", type=Path, help="write here instead of stdout (with --format html, also each graded notebook with feedback beside it)")
    grade_parser.add_argument("--keep-notebooks", type=Path, metavar="DIR", help="copy each graded notebook, as graded, to DIR/<assignment>/")
    grade_parser.add_argument("--jobs", type=int, default=argparse.SUPPRESS, help=f"judges at once, each grading a group of assignments; with fewer assignments than judges, the costliest are cut between their test files (default: the CPUs available, {available_cpus()})")
    grade_parser.add_argument("--settings", type=Path, metavar="FILE", help="every setting from this JSON file (grader.settings.Settings.write; how batch hands them over), and none of the options above")
    _add_grading_options(grade_parser)

    batch_parser = commands.add_parser("batch", help="grade a roster: every subfolder is one student's submission")
    batch_parser.add_argument("roster", type=Path)
    batch_parser.add_argument("--out", type=Path, required=True, help="folder for the gradebook, results and feedback")
    batch_parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once, each by one judge (default 1)")
    batch_parser.add_argument("--assignment", action="append", metavar="NAME", help="grade only this assignment (repeatable)")
    batch_parser.add_argument("--format", action="append", choices=FORMATS, dest="formats", help=f"a file per student in this format besides results.json (repeatable; default {' and '.join(DEFAULT_FORMATS)})")
    batch_parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    batch_parser.add_argument("--shard", default="1/1", metavar="K/N", help="grade only shard K of N of the roster (default 1/1: everyone)")
    batch_parser.add_argument("--resume", action="store_true", help="keep the results of students whose submission and course are unchanged")
    _add_grading_options(batch_parser)

    gradebook_parser = commands.add_parser("gradebook", help="merge the gradebooks of a roster's shards")
    gradebook_commands = gradebook_parser.add_subparsers(dest="action", required=True)
    merge_parser = gradebook_commands.add_parser("merge", help="merge all shards' batch outputs into one gradebook")
    merge_parser.add_argument("shards", type=Path, nargs="+", metavar="SHARD_DIR")
    merge_parser.add_argument("--out", type=Path, required=True, help="folder for the merged gradebook")

    roster_parser = commands.add_parser("roster", help="fetch the students' repositories listed in a roster file")
    roster_commands = roster_parser.add_subparsers(dest="action", required=True)
    fetch_parser = roster_commands.add_parser("fetch", help="clone each repository at its commit into DIR/<student>/")
    fetch_parser.add_argument("roster", type=Path, metavar="ROSTER.csv")
    fetch_parser.add_argument("--into", type=Path, required=True, help="the roster folder to fill")
    fetch_parser.add_argument("--shard", default="1/1", metavar="K/N", help="fetch only shard K of N (default 1/1)")

    package_parser = commands.add_parser("package", help="build a deployment bundle")
    package_commands = package_parser.add_subparsers(dest="action", required=True)
    gradescope_parser = package_commands.add_parser("gradescope", help="Gradescope's autograder.zip")
    gradescope_parser.add_argument("--out", type=Path, required=True, help="the zip file to write")
    gradescope_parser.add_argument("--assignment", action="append", metavar="NAME", help="grade only this assignment (repeatable)")
    gradescope_parser.add_argument("--course", type=Path, default=PROJECT_ROOT, help="the course tree (default: this project)")
    gradescope_parser.add_argument("--budget", type=float, default=540.0, help="seconds for a whole run, under Gradescope's timeout (default 540 of its 600)")
    gradescope_parser.add_argument("--timeout", type=float, default=60.0, help="seconds per test (default 60)")
    _add_visibility_option(gradescope_parser)

    release_parser = commands.add_parser("release", help="write the student stubs from the reference")
    release_parser.add_argument("--course", type=Path, default=PROJECT_ROOT, help="the course tree (default: this project)")
    release_mode = release_parser.add_mutually_exclusive_group()
    release_mode.add_argument("--check", action="store_true", help="only check that the committed stubs are up to date")
    release_mode.add_argument("--student", type=Path, metavar="OUT", help="write the students' template repository to the new folder OUT")
    return parser


def _settings(args: argparse.Namespace, **fixed: object) -> Settings:
    """The grading settings: ``Settings.grading()`` changed by the options given (and by
    ``fixed``), or read whole from ``--settings FILE``."""
    given = {name: getattr(args, name) for name in _SETTING_OPTIONS if hasattr(args, name) and name not in fixed}
    if "sandbox" in given:
        given["sandbox"] = given["sandbox"] == "on"
    try:
        if getattr(args, "settings", None) is not None:
            if given:
                raise GradingError(f"--settings gives every setting: do not also give {', '.join(_SETTING_OPTIONS[n] for n in given)}")
            settings = Settings.read(args.settings)
        else:
            settings = Settings.grading(**{**given, **fixed})
    except ValueError as error:
        raise GradingError(str(error)) from None
    if settings.sandbox and probe() is None:
        raise GradingError(f"cannot grade here: {NOT_ROOT if os.geteuid() != 0 else UNAVAILABLE}")
    return settings


def _grade(args: argparse.Namespace) -> int:
    if not args.submission.exists():
        raise GradingError(f"submission {str(args.submission)!r} does not exist")
    course = Course(args.course.resolve())
    with tempfile.TemporaryDirectory(prefix="dlgrade-notebooks-") as scratch:
        notebooks = args.keep_notebooks or Path(scratch)
        with _progress_on_a_terminal() as progress:
            report = grade(args.submission, course=course, assignments=args.assignment, settings=_settings(args), progress=progress, keep_notebooks=notebooks)
        text = render(report, args.format, hidden_visibility=args.hidden_visibility)
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
            if args.format == "html":
                notebook_feedback.write_all(report, notebooks, args.out.parent, course, hidden_visibility=args.hidden_visibility)
    for assignment in report.assignments:
        if assignment.error:
            print(f"dlgrade: could not grade {assignment.name}: {assignment.error}", file=sys.stderr)
    return EXIT_OK if report.complete else EXIT_ERROR


@contextlib.contextmanager
def _progress_on_a_terminal() -> Iterator[Callable[[str, float], None] | None]:
    """A bar per assignment on stderr while ``grade`` runs, only when stderr is a terminal (never
    in a file or a pipe that a machine reads)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

    bars: dict[str, TaskID] = {}
    with Progress(TextColumn("grading {task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=Console(stderr=True)) as shown:

        def update(assignment: str, fraction: float) -> None:
            if assignment not in bars:
                bars[assignment] = shown.add_task(assignment, total=1.0)
            shown.update(bars[assignment], completed=fraction)

        yield update


def _batch(args: argparse.Namespace) -> int:
    from grader.batch import run_batch
    from grader.shards import Shard

    shard = Shard.parse(args.shard)
    if args.jobs < 1:
        raise GradingError(f"jobs={args.jobs!r}: give at least 1")
    if not args.roster.is_dir():
        raise GradingError(f"roster {str(args.roster)!r} is not a folder")
    run = run_batch(
        args.roster,
        args.out,
        course=Course(args.course.resolve()),
        assignments=args.assignment,
        settings=_settings(args, jobs=1),  # each submission by one judge: --jobs submissions at once
        jobs=args.jobs,
        progress=not args.no_progress,
        hidden_visibility=args.hidden_visibility,
        formats=tuple(args.formats or DEFAULT_FORMATS),
        shard=shard,
        resume=args.resume,
    )
    print(run.summary())
    return _roster_status(run.grades)


def _roster_status(grades: list[StudentGrade]) -> int:
    """0 when every student was fully graded; else 3, naming those who were not."""
    missed = sorted((g for g in grades if g.status != "ok"), key=lambda g: g.name)
    for student in missed:
        print(f"dlgrade: {student.name}: {student.status}", file=sys.stderr)
    return EXIT_INCOMPLETE if missed else EXIT_OK


def _gradebook(args: argparse.Namespace) -> int:
    from grader.gradebook import merge

    grades = merge(args.shards, args.out)
    graded = sum(g.status == "ok" for g in grades)
    print(f"dlgrade gradebook merge: {len(args.shards)} shards, {graded} of {len(grades)} submissions fully graded; gradebook {args.out / 'gradebook.csv'}")
    return _roster_status(grades)


def _roster(args: argparse.Namespace) -> int:
    from grader.roster import fetch
    from grader.shards import Shard

    shard = Shard.parse(args.shard)
    fetched, failed = fetch(args.roster, args.into, shard)
    print(f"dlgrade roster fetch: {fetched} repositories of shard {shard} in {args.into}")
    for student, reason in sorted(failed.items()):
        print(f"dlgrade: {student}: {reason}", file=sys.stderr)
    return EXIT_INCOMPLETE if failed else EXIT_OK


def _package(args: argparse.Namespace) -> int:
    from grader.gradescope import BundleSettings
    from grader.package import gradescope_bundle

    settings = BundleSettings(tuple(args.assignment or ()), budget=args.budget, timeout=args.timeout, hidden_visibility=args.hidden_visibility)
    path = gradescope_bundle(Course(args.course.resolve()), args.out, assignments=args.assignment, settings=settings)
    print(f"dlgrade package gradescope: {path} (upload it as the autograder of a Gradescope programming assignment)")
    return EXIT_OK


def _release(args: argparse.Namespace) -> int:
    from grader.release import ReleaseError, release_file, write_student_release

    course = args.course.resolve()
    if args.student is not None:
        try:
            files = write_student_release(Course(course), args.student.resolve())
        except ReleaseError as error:
            raise GradingError(str(error)) from None
        print(f"dlgrade release: wrote the student release to {args.student} ({len(files)} files)")
        return EXIT_OK
    pairs = Course(course).release_pairs()
    if not pairs:
        raise GradingError(f"{course / 'reference'} has no files with solution regions to release")
    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        for source, destination in pairs:
            fresh = Path(scratch) / source.parent.name / source.name
            release_file(source, fresh)
            if not destination.is_file() or destination.read_bytes() != fresh.read_bytes():
                stale.append(destination)
                if not args.check:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    destination.write_bytes(fresh.read_bytes())
    shown = [str(p.relative_to(course)) for p in stale]
    if args.check:
        if stale:
            print("dlgrade release --check: these stubs differ from the reference (run `python -m grader release`):", file=sys.stderr)
            print("\n".join(f"  {s}" for s in shown), file=sys.stderr)
            return EXIT_DIFFERS
        print(f"dlgrade release --check: {len(pairs)} stubs are up to date")
        return EXIT_OK
    print(f"dlgrade release: wrote {len(stale)} of {len(pairs)} stubs" + "".join(f"\n  {s}" for s in shown))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"grade": _grade, "batch": _batch, "gradebook": _gradebook, "roster": _roster, "package": _package, "release": _release}
    try:
        return handlers[args.command](args)
    except CourseError as error:  # GradingError included
        print(f"dlgrade: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dlgrade: interrupted", file=sys.stderr)
        return 130
