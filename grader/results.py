"""The results schema: a test's verdict, an assignment's grade, a graded submission, and their JSON.

One form everywhere: the plugin writes a ``Report`` (``--dlgrade-results``), ``grade`` reads it
back and adds what staging noticed, ``batch`` reads each student's ``results.json`` with the same
``from_json``. Every output format (``grader.formats``) is a pure function of a ``Report``; this
module imports neither pytest nor the worker.

JSON: ``{"submission", "seed", "sandbox", "execution_time", "earned", "possible", "complete",
"notes": [...], "assignments": {name: {"earned", "possible", "error", "tests": [TestResult...]}}}``;
``earned``, ``possible`` and ``complete`` are derived and ignored when read back.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class TestResult:
    """The verdict on one test, as the score table and the result files see it."""

    __test__ = False  # not a pytest test class

    nodeid: str
    assignment: str
    name: str
    points: float
    outcome: str  # "passed", "failed" or "skipped" (skipped: left out of the total)
    hidden: bool
    message: str = ""
    duration: float = 0.0
    doc: str = ""  # the test's docstring: what it checks, for feedback
    submission: str | None = None  # in a run of several submissions, the planned one's key (grader.plan)
    diagnosis: str = ""  # the known mistake the failure shows (grader.diagnosis), or ""

    @property
    def earned(self) -> float:
        return self.points if self.outcome == "passed" else 0.0

    @property
    def possible(self) -> float:
        return 0.0 if self.outcome == "skipped" else self.points


@dataclass(frozen=True)
class AssignmentGrade:
    """One assignment's tests, in the order pytest ran them; ``error`` when it could not be graded."""

    name: str
    tests: tuple[TestResult, ...]
    error: str = ""
    unanswered: float = 0.0  # seconds its student code ran without answering (stopped, or ending its worker): the budget it spent

    @property
    def earned(self) -> float:
        return sum(t.earned for t in self.tests)

    @property
    def possible(self) -> float:
        return sum(t.possible for t in self.tests)


@dataclass(frozen=True)
class Report:
    """A graded submission."""

    submission: str
    assignments: tuple[AssignmentGrade, ...]
    seed: int = 0
    sandbox: str = ""  # the isolation level student code ran under ("off" when unconfined)
    execution_time: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)  # what staging the submission noticed

    @property
    def earned(self) -> float:
        return sum(a.earned for a in self.assignments)

    @property
    def possible(self) -> float:
        return sum(a.possible for a in self.assignments)

    @property
    def complete(self) -> bool:
        """Every assignment was graded (none hit a grader error)."""
        return not any(a.error for a in self.assignments)

    def tests(self) -> list[TestResult]:
        return [t for a in self.assignments for t in a.tests]

    def assignment(self, name: str) -> AssignmentGrade:
        """The grade of assignment ``name``; an empty one when the report has none."""
        return next((a for a in self.assignments if a.name == name), AssignmentGrade(name, ()))


def to_json(report: Report) -> str:
    document = {
        "submission": report.submission,
        "seed": report.seed,
        "sandbox": report.sandbox,
        "execution_time": round(report.execution_time, 3),
        "earned": report.earned,
        "possible": report.possible,
        "complete": report.complete,
        "notes": list(report.notes),
        "assignments": {
            a.name: {"earned": a.earned, "possible": a.possible, "error": a.error, "unanswered_s": round(a.unanswered, 3), "tests": [asdict(t) for t in a.tests]}
            for a in report.assignments
        },
    }
    return json.dumps(document, indent=2) + "\n"


def finished_results(results: Path) -> Path:
    """Where a run writing its results to ``results`` records the assignments it has finished so
    far (rewritten after each one): what is left of a run that ended early."""
    return results.with_name(results.name + ".finished")


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a reader (a grader polling a run, Gradescope
    reading its results) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(text)
    os.replace(partial, path)


def write_json(report: Report, path: Path) -> None:
    """Write ``report`` to ``path`` as JSON, whole or not at all."""
    write_whole(path, to_json(report))


def from_json(text: str) -> Report:
    """The inverse of ``to_json``."""
    document = json.loads(text)
    return Report(
        submission=document["submission"],
        seed=document["seed"],
        sandbox=document["sandbox"],
        execution_time=document["execution_time"],
        notes=tuple(document["notes"]),
        assignments=tuple(
            AssignmentGrade(name, tuple(TestResult(**t) for t in a["tests"]), a["error"], a.get("unanswered_s", 0.0))
            for name, a in document["assignments"].items()
        ),
    )


_RUN_NOISE = [
    (re.compile(r"/\S*?/dlgrade-sandbox-[^/\s]+/work/"), ""),  # the worker's private copy
    (re.compile(r"/\S*?/dlgrade-grade-[^/\s]+/submission/"), ""),  # the grader's staged copy
    (re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x..."),  # object addresses
]


def normalize(text: str) -> str:
    """``text`` without what differs between two runs of the same submission (temporary paths,
    object addresses)."""
    for pattern, replacement in _RUN_NOISE:
        text = pattern.sub(replacement, text)
    return text
