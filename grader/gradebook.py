"""Gradebooks of shards, and their merge into the roster's gradebook.

Every ``batch`` run writes ``shard.json`` (``Manifest``) beside its gradebook: which shard of how
many, the students it holds (and why any has no results), and what the grades depend on (the
course's content hash, the assignments, the seed, the isolation level, the per-test time limit
and the budget of student code). ``merge`` takes the
folders of all ``N`` shards of one roster and writes the gradebook, summary and per-student
files that one ``batch`` over the whole roster writes; it refuses, saying why, shards that
overlap, that are missing, or that were graded differently.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course import CourseError
from grader.fingerprint import Conditions
from grader.results import from_json
from grader.shards import WHOLE_ROSTER, Shard

if TYPE_CHECKING:
    from grader.batch import StudentGrade

MANIFEST = "shard.json"


class MergeError(CourseError):
    """Shard folders that cannot be merged into one gradebook."""


@dataclass(frozen=True)
class Manifest:
    """What one ``batch`` run graded, and how. Written as one flat JSON object."""

    shard: str
    conditions: Conditions
    students: tuple[str, ...]
    errors: dict[str, str] = field(default_factory=dict)  # student -> why there is no report

    @classmethod
    def of(cls, grades: list[StudentGrade], *, shard: Shard, conditions: Conditions) -> Manifest:
        ordered = sorted(grades, key=lambda g: g.name)
        errors = {g.name: g.error for g in ordered if g.report is None}
        return cls(str(shard), conditions, tuple(g.name for g in ordered), errors)

    def write(self, folder: Path) -> None:
        document = {"shard": self.shard, **self.conditions.as_json(), "students": list(self.students), "errors": self.errors}
        (folder / MANIFEST).write_text(json.dumps(document, indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not path.is_file():
            raise MergeError(f"{folder} is not a batch output: it has no {MANIFEST} (run `python -m grader batch ... --out {folder}`)")
        try:
            document = json.loads(path.read_text())
            return cls(document["shard"], Conditions.from_json(document), tuple(document["students"]), document.get("errors", {}))
        except (ValueError, TypeError, KeyError) as error:
            raise MergeError(f"{path} is not a dlgrade shard manifest: {error}") from error


def check_shards(manifests: dict[Path, Manifest]) -> None:
    """Raise ``MergeError`` unless the manifests are the N distinct shards of one grading."""
    shards = {folder: Shard.parse(m.shard) for folder, m in manifests.items()}
    counts = sorted({s.count for s in shards.values()})
    if len(counts) != 1:
        raise MergeError("the shards split the roster differently: " + ", ".join(f"{f} is {s}" for f, s in shards.items()))
    for key, what in Conditions.NAMES.items():
        values = {folder: getattr(m.conditions, key) for folder, m in manifests.items()}
        if len(set(values.values())) > 1:
            shown = ", ".join(f"{f}: {v if key != 'course' else str(v)[:12]}" for f, v in values.items())
            raise MergeError(f"the shards were graded with a different {what}: {shown}; grade them again the same way")
    seen: dict[int, Path] = {}
    for folder, shard in shards.items():
        if shard.index in seen:
            raise MergeError(f"{seen[shard.index]} and {folder} are both shard {shard}")
        seen[shard.index] = folder
    missing = [f"{k}/{counts[0]}" for k in range(1, counts[0] + 1) if k not in seen]
    if missing:
        raise MergeError(f"shard(s) {', '.join(missing)} missing: give all {counts[0]} shard folders")
    owner: dict[str, Path] = {}
    for folder, manifest in manifests.items():
        for student in manifest.students:
            if student in owner:
                raise MergeError(f"{student} is in two shards: {owner[student]} and {folder}")
            owner[student] = folder
            if not Shard.parse(manifest.shard).holds(student):
                raise MergeError(f"{folder} holds {student}, who belongs to another shard than {manifest.shard}")


def merge(folders: list[Path], out: Path) -> list[StudentGrade]:
    """Merge the shard folders' gradebooks into ``out``; return the roster's grades."""
    from grader.batch import StudentGrade, gradebook_csv, write_summary

    if not folders:
        raise MergeError("give the shard folders to merge")
    for folder in folders:
        if not folder.is_dir():
            raise MergeError(f"{folder} is not a folder")
    if out.resolve() in {f.resolve() for f in folders}:
        raise MergeError(f"--out {out} is one of the shards: merge into a new folder")
    manifests = {folder: Manifest.read(folder) for folder in folders}
    check_shards(manifests)
    grades: list[StudentGrade] = []
    for folder, manifest in manifests.items():
        for student in manifest.students:
            source = folder / "students" / student
            if student in manifest.errors:
                grades.append(StudentGrade(student, None, manifest.errors[student]))
                if source.is_dir():
                    shutil.copytree(source, out / "students" / student, dirs_exist_ok=True)
                continue
            try:
                report = from_json((source / "results.json").read_text())
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise MergeError(f"{source / 'results.json'} cannot be read ({error}): the shard folder is incomplete") from error
            shutil.copytree(source, out / "students" / student, dirs_exist_ok=True)
            grades.append(StudentGrade(student, report))
    first = next(iter(manifests.values()))
    out.mkdir(parents=True, exist_ok=True)
    (out / "gradebook.csv").write_text(gradebook_csv(grades, list(first.conditions.assignments)))
    write_summary(out, grades, first.conditions.sandbox)
    Manifest.of(grades, shard=WHOLE_ROSTER, conditions=first.conditions).write(out)
    return grades
