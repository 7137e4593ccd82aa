"""A roster file: each student's repository and the commit to grade, fetched into one folder.

The file is a CSV with a header. GitHub Classroom's names are understood as well as short ones:

* the student: ``student``, ``github_username`` or ``roster_identifier``;
* the repository (a URL or a path ``git clone`` accepts): ``repository`` or
  ``student_repository_url``;
* the commit at the deadline (optional; empty means the default branch): ``commit`` or ``sha``.

``fetch`` clones the repositories of one shard into ``DIR/<student>/`` (the folder ``batch``
grades). A repository that cannot be fetched costs only its student: the reason is kept in
``DIR/.unfetched.json`` and ``batch`` lists the student as not graded, with that reason.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader.course import CourseError
from grader.shards import Shard

UNFETCHED = ".unfetched.json"
_COLUMNS = {
    "student": ("student", "github_username", "roster_identifier"),
    "repository": ("repository", "student_repository_url"),
    "commit": ("commit", "sha"),
}
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]*")


class RosterError(CourseError):
    """A roster file that cannot be read."""


@dataclass(frozen=True)
class Entry:
    student: str
    repository: str
    commit: str = ""


def read_roster(path: Path) -> list[Entry]:
    """The roster's entries, in file order."""
    try:
        rows = list(csv.DictReader(path.read_text().splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"roster {path} cannot be read: {error}") from error
    header = {name.strip().lower(): name for name in (rows[0].keys() if rows else [])}
    found = {key: next((header[n] for n in names if n in header), None) for key, names in _COLUMNS.items()}
    for key in ("student", "repository"):
        if found[key] is None:
            raise RosterError(f"roster {path} has no {key} column (one of: {', '.join(_COLUMNS[key])})")
    entries = []
    for row in rows:
        student = (row[found["student"]] or "").strip()
        repository = (row[found["repository"]] or "").strip()
        commit = (row[found["commit"]] or "").strip() if found["commit"] else ""
        if student or repository:
            entries.append(Entry(student, repository, commit))
    return entries


def _clone(entry: Entry, destination: Path) -> str:
    """Clone ``entry`` at its commit into ``destination``; the reason when that fails."""
    if not _SAFE_NAME.fullmatch(entry.student):
        return f"the roster's student name {entry.student!r} cannot be a folder name"
    if not entry.repository:
        return "the roster gives no repository"
    shutil.rmtree(destination, ignore_errors=True)
    steps = [["git", "clone", "--quiet", "--no-checkout", "--", entry.repository, str(destination)]]
    steps.append(["git", "-C", str(destination), "checkout", "--quiet", "--detach", entry.commit or "HEAD"])
    for command in steps:
        run = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            shutil.rmtree(destination, ignore_errors=True)
            lines = run.stderr.strip().splitlines()
            return f"could not fetch {entry.repository}" + (f" at {entry.commit}" if entry.commit else "") + f": {lines[-1] if lines else run.returncode}"
    return ""


def fetch(roster: Path, into: Path, shard: Shard) -> tuple[int, dict[str, str]]:
    """Clone the shard's repositories into ``into``; (how many were fetched, student -> why not)."""
    entries = [e for e in read_roster(roster) if shard.holds(e.student)]
    into.mkdir(parents=True, exist_ok=True)
    failed: dict[str, str] = {}
    seen: set[str] = set()
    for entry in entries:
        if entry.student in seen:
            shutil.rmtree(into / entry.student, ignore_errors=True)
            failed[entry.student] = "the student is listed twice in the roster"
            continue
        seen.add(entry.student)
        reason = _clone(entry, into / entry.student)
        if reason:
            failed[entry.student] = reason
    (into / UNFETCHED).write_text(json.dumps(failed, indent=2, sort_keys=True) + "\n")
    return len(seen) - len(failed), failed


def unfetched(folder: Path) -> dict[str, str]:
    """Students of a fetched roster folder whose repository could not be fetched, and why."""
    try:
        return dict(json.loads((folder / UNFETCHED).read_text()))
    except (OSError, ValueError):
        return {}
