"""A roster split over machines: shard ``K/N`` holds the students whose name hashes to ``K``.

The split depends on a student's name alone (the SHA-256 of the name, modulo ``N``), never on
who else is in the roster: the ``N`` shards are disjoint, their union is the roster, a student
stays in the same shard when the roster grows, and taking a shard of a shard's folder changes
nothing (so fetching a shard's repositories and then grading ``--shard K/N`` agree).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from grader.course import CourseError


class ShardError(CourseError):
    """A shard that is not ``K/N`` with 1 <= K <= N."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as GitHub's matrix and Slurm's array count)."""

    index: int = 1
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ShardError(f"shard={text!r}: write it as K/N, e.g. 2/5 for the second of five shards")
        index, count = int(match.group(1)), int(match.group(2))
        if not 1 <= index <= count:
            raise ShardError(f"shard={text!r}: K must be between 1 and N (K={index}, N={count})")
        return cls(index, count)

    def holds(self, student: str) -> bool:
        digest = hashlib.sha256(student.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE_ROSTER = Shard(1, 1)
