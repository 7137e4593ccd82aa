"""What a grade depends on, as content hashes: the course, the submission as graded, the settings.

``batch --resume`` keeps a student's earlier results only when the fingerprint stored beside
them equals the fingerprint of this run; ``gradebook merge`` refuses shards graded under
different ``Conditions`` (everything below but the submission).

* the course: every file of ``assignments/`` and ``reference/`` and its pytest configuration
  (bytecode caches and hidden files aside);
* the submission: the files grading takes from it (``grader.grading.stage``), so a change to a
  file the grader never reads does not cost a re-grade;
* the settings that can change a verdict: the assignments graded, the seed, the isolation level,
  the per-test time limit and the budget of student code (a slow but correct function passes
  under one limit and fails under a shorter one).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from grader.course import Course, CourseError

FILE_NAME = "fingerprint.json"


def tree_hash(root: Path, folders: list[str]) -> str:
    """SHA-256 over the relative path and bytes of every regular file under ``root/<folder>``."""
    digest = hashlib.sha256()
    for folder in folders:
        base = root / folder
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file() and not p.is_symlink()) if base.is_dir() else []
        for path in files:
            relative = path.relative_to(root)
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts) or path.suffix == ".pyc":
                continue
            digest.update(f"{relative.as_posix()}\0{path.stat().st_size}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def course_hash(course: Course) -> str:
    return tree_hash(course.root, ["assignments", "reference", "pyproject.toml", "pytest.ini"])


def submission_hash(course: Course, submission: Path, assignments: list[str] | None) -> str | None:
    """The hash of the files grading takes from ``submission``; None when it cannot be staged."""
    from grader.grading import stage

    with tempfile.TemporaryDirectory(prefix="dlgrade-fingerprint-") as scratch:
        staged = Path(scratch)
        try:
            stage(course, submission.resolve(), assignments, staged)
        except (CourseError, OSError):
            return None
        return tree_hash(staged, ["assignments"])


@dataclass(frozen=True)
class Conditions:
    """What every grade of a run depends on besides the submission: the course's content hash,
    the assignments graded, the seed, the isolation level, the per-test time limit and the
    budget of student code."""

    course: str
    assignments: tuple[str, ...]
    seed: int
    sandbox: str
    timeout: float
    budget: float | None

    NAMES: ClassVar[dict[str, str]] = {
        "course": "course content (hash)", "assignments": "assignments", "seed": "seed",
        "sandbox": "isolation level", "timeout": "per-test time limit", "budget": "student-code budget",
    }  # fmt: skip  (what a message calls each)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Conditions:
        """The conditions among the fields of ``document`` (``KeyError`` when one is missing)."""
        values = {f.name: document[f.name] for f in fields(cls)}
        return cls(**{**values, "assignments": tuple(values["assignments"])})


@dataclass(frozen=True)
class Fingerprint:
    """What one student's stored results were graded from: the submission's hash and the run's
    conditions. Written as one flat JSON object."""

    submission: str | None
    conditions: Conditions

    def write(self, folder: Path) -> None:
        document = {"submission": self.submission, **self.conditions.as_json()}
        (folder / FILE_NAME).write_text(json.dumps(document, indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Fingerprint | None:
        try:
            document = json.loads((folder / FILE_NAME).read_text())
            return cls(document["submission"], Conditions.from_json(document))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    @property
    def known(self) -> bool:
        """The submission could be hashed (only then can a stored result be trusted to match)."""
        return self.submission is not None
