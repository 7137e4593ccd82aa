"""A grading plan: several submissions graded in one pytest run, each test once per submission.

``python -m grader grade`` grades one submission per pytest run. Grading many (a roster, or the
course's own planted submissions) that way pays pytest's start-up, the course's imports and a
worker per submission. With ``--dlgrade-plan FILE`` the plugin instead parametrizes every test
that asks for student code over the plan's submissions (a session-scoped parameter, so the
tests of one submission run together, in their own worker and sandbox, closed before the next
submission starts), and the results file keys every verdict by the submission's ``key``.

A planned submission may also narrow its run: ``tests`` (test function names: only those run;
the others are deselected and appear nowhere), and ``first_failure`` (after its first failing
test, its remaining tests are not run and count as failed with a message saying so).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_KEY = re.compile(r"[A-Za-z0-9_.]+")
SUBMISSION_FIXTURE = "_dlgrade_submission"
"""The session fixture a plan parametrizes with its submissions' keys (``grader.fixtures``)."""


@dataclass(frozen=True)
class Planned:
    """One submission of a plan: its key in the results, its folder, and what to run of it."""

    key: str
    submission: Path
    tests: frozenset[str] | None = None  # test function names to run; None: every test
    first_failure: bool = False

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.key):
            raise ValueError(f"a plan key is letters, digits, '_' and '.': got {self.key!r}")


def write_plan(path: Path, planned: list[Planned]) -> Path:
    """Write ``planned`` to ``path`` (``read_plan`` reads it); returns ``path``."""
    keys = [p.key for p in planned]
    if len(set(keys)) != len(keys):
        raise ValueError("the keys of a plan must be distinct")
    path.write_text(
        json.dumps(
            [
                {"key": p.key, "submission": str(p.submission), "tests": None if p.tests is None else sorted(p.tests), "first_failure": p.first_failure}
                for p in planned
            ],
            indent=1,
        )
    )
    return path


def read_plan(path: Path) -> dict[str, Planned]:
    entries = json.loads(path.read_text())
    plan = {}
    for e in entries:
        tests = e.get("tests")
        p = Planned(str(e["key"]), Path(e["submission"]).resolve(), None if tests is None else frozenset(tests), bool(e.get("first_failure", False)))
        if not p.submission.is_dir():
            raise ValueError(f"planned submission {p.key}: {p.submission} is not a directory")
        plan[p.key] = p
    if not plan:
        raise ValueError("the plan lists no submission")
    return plan


def param_id(key: str) -> str:
    """The id a planned submission's tests carry in pytest (``test_x[@key]``)."""
    return f"@{key}"


def strip_param_id(name: str, key: str) -> str:
    """A test's name without the planned submission's id: ``test_x[3-@k]`` -> ``test_x[3]``."""
    tag = re.escape(param_id(key))
    name = re.sub(rf"\[{tag}\]$", "", name)
    name = re.sub(rf"-{tag}(?=[\]-])", "", name)
    return re.sub(rf"\[{tag}-", "[", name)
