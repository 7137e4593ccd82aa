"""Gradescope's autograder: grade ``/autograder/submission`` into ``/autograder/results/results.json``.

The bundle's ``run_autograder`` (``grader.package``) runs ``python -m grader.gradescope`` as root
for every submission; its ``setup.sh`` runs ``python -m grader.gradescope --check`` once the
environment is installed. The course lies in ``/autograder/source/course``, its settings in
``/autograder/source/dlgrade.json`` (``BundleSettings``).

Gradescope gives a run 10 minutes, 768 MB and half a CPU by default, and when its own timeout
kills a run the student gets 0 and sees nothing. So the run has a budget under that timeout:
each assignment is graded with at most the time left, one the budget does not reach is reported
as not graded, and results.json is written before grading starts and again after each
assignment, so what was graded is always there.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import stat
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.course import Course, CourseError
from grader.formats import VISIBILITIES, render
from grader.grading import grade
from grader.results import AssignmentGrade, Report, write_whole
from grader.sandbox import isolation_level
from grader.settings import Settings

SETTINGS_FILE = "dlgrade.json"
MARGIN = 10.0  # seconds an assignment needs at least to be worth starting
STOPPED = "the autograder stopped before it reached this assignment"


@dataclass(frozen=True)
class BundleSettings:
    """How the bundle grades: which assignments, the whole run's budget, the per-test limit."""

    assignments: tuple[str, ...] = ()  # empty: every assignment of the course
    budget: float = 540.0  # seconds for the whole run; Gradescope's default timeout is 600
    timeout: float = 60.0  # seconds per test
    hidden_visibility: str = "after_published"
    seed: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> BundleSettings:
        document = json.loads(path.read_text())
        return cls(**{**document, "assignments": tuple(document["assignments"])})

    def __post_init__(self) -> None:
        if self.budget <= MARGIN or self.timeout <= 0:
            raise CourseError(f"budget={self.budget!r} must exceed {MARGIN:g} s and timeout={self.timeout!r} be positive")
        if self.hidden_visibility not in VISIBILITIES:
            raise CourseError(f"hidden_visibility={self.hidden_visibility!r} is not one of {', '.join(VISIBILITIES)}")


@dataclass
class Autograder:
    """The folders of one Gradescope run (``root`` is ``/autograder`` there)."""

    root: Path
    settings: BundleSettings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = BundleSettings.read(self.source / SETTINGS_FILE)

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def course(self) -> Course:
        return Course(self.source / "course")

    @property
    def results(self) -> Path:
        return self.root / "results" / "results.json"

    def write(self, report: Report) -> None:
        """Replace results.json at once (never a half-written file)."""
        write_whole(self.results, render(report, "gradescope", hidden_visibility=self.settings.hidden_visibility))

    def run(self) -> Report:
        """Grade the submission assignment by assignment within the budget, writing as it goes."""
        started = time.monotonic()
        submission = self.root / "submission"
        chosen = list(self.settings.assignments) or self.course.assignments()
        graded: list[AssignmentGrade] = []
        notes: list[str] = []

        def report(rest: str) -> Report:
            pending = [AssignmentGrade(a, (), rest) for a in chosen[len(graded) :]]
            return Report(submission.name, (*graded, *pending), self.settings.seed, isolation_level(True), time.monotonic() - started, tuple(notes))

        self.write(report(STOPPED))
        for assignment in chosen:
            left = self.settings.budget - (time.monotonic() - started)
            if left < MARGIN:
                graded.append(AssignmentGrade(assignment, (), f"the autograder's time budget ({self.settings.budget:g} s) was spent on the assignments before it"))
                continue
            settings = Settings.grading(timeout=min(self.settings.timeout, left), assignment_timeout=left, seed=self.settings.seed)
            try:
                one = grade(submission, course=self.course, assignments=[assignment], settings=settings)
            except CourseError as error:
                graded.append(AssignmentGrade(assignment, (), str(error)))
            else:
                graded += one.assignments
                notes += [n for n in one.notes if n not in notes]
            self.write(report(STOPPED))
        return report("")

    def check(self) -> list[str]:
        """What is wrong with the installed autograder (empty when it is ready)."""
        problems = []
        if sys.version_info < (3, 11):
            problems.append(f"Python {sys.version.split()[0]} is too old: the harness needs 3.11 or newer")
        try:
            known = self.course.assignments()
        except CourseError as error:
            return [*problems, str(error)]
        problems += [f"assignment {a!r} is not in the course" for a in self.settings.assignments if a not in known]
        constraints = self.course.root / "constraints.txt"
        for line in constraints.read_text().splitlines() if constraints.is_file() else []:
            name, _, pinned = line.split("#")[0].strip().partition("==")
            if not pinned:
                continue
            try:
                installed = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue  # pinned for the tests only (jsonschema, xdist) or another platform
            if installed.split("+")[0] != pinned.strip():
                problems.append(f"{name} {installed} is installed, the course pins {pinned.strip()}")
        for path in private_paths(self.course):
            for item in [path, *path.rglob("*")]:
                mode = item.lstat().st_mode
                if mode & (stat.S_IRWXG | stat.S_IRWXO) or item.lstat().st_uid != 0:
                    problems.append(f"{item} can be read by others than root (mode {stat.filemode(mode)}, owner uid {item.lstat().st_uid})")
                    break
        return problems


def private_paths(course: Course) -> list[Path]:
    """The course's files a student must never read: the oracles and the hidden tests."""
    return sorted(p for p in [course.root / "reference", *course.assignments_dir.glob("*/hidden")] if p.exists())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/autograder"), help="Gradescope's autograder folder (default /autograder)")
    parser.add_argument("--check", action="store_true", help="check the installed autograder instead of grading")
    args = parser.parse_args(argv)
    try:
        autograder = Autograder(args.root)
    except (OSError, ValueError, TypeError, KeyError, CourseError) as error:
        message = f"{args.root / 'source' / SETTINGS_FILE} cannot be read: {error}"
        print(f"dlgrade: {message}", file=sys.stderr)
        if not args.check:  # Gradescope shows nothing without a results.json
            results = args.root / "results" / "results.json"
            results.parent.mkdir(parents=True, exist_ok=True)
            results.write_text(json.dumps({"score": 0, "output": f"The autograder is misconfigured, tell your instructor: {message}", "tests": []}) + "\n")
        return 2
    if args.check:
        problems = autograder.check()
        for problem in problems:
            print(f"dlgrade: {problem}", file=sys.stderr)
        if not problems:
            print(f"dlgrade: the autograder is ready ({', '.join(autograder.settings.assignments) or 'every assignment'}, a budget of {autograder.settings.budget:g} s)")
        return 1 if problems else 0
    report = autograder.run()
    autograder.write(report)
    print(f"dlgrade: {report.earned:g} / {report.possible:g} points written to {autograder.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
