"""How far a judge's pytest run is, told through its log: the plugin writes one line saying how
many tests of each assignment will run (``announcement``), then pytest writes a character per test,
and ``grade`` reads the log as it grows (``LogProgress``)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS_TO_RUN = "dlgrade: tests to run: "


def announcement(counts: dict[str, int]) -> str:
    """The line announcing ``counts`` (assignment -> tests), in the order they run:
    ``dlgrade: tests to run: a1_foundations=33 a2_backprop=20``."""
    return TESTS_TO_RUN + " ".join(f"{name}={count}" for name, count in counts.items())


_RESULTS = rb"[.FEsxX]+"  # pytest -q: a character per test
_RESULTS_LINE = re.compile(_RESULTS + rb"(?:\s+\[\s*\d+%\])?")
_TESTS_TO_RUN = re.compile(re.escape(TESTS_TO_RUN.encode()) + rb"((?:\S+=\d+ ?)*)")


class LogProgress:
    """How far each assignment of a pytest run is, from its log as it grows: the plugin says how
    many tests of each will run, in the order they run, then pytest writes a character per test
    run. Each call reads only what was written since the last."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.read = 0  # bytes of the log read so far
        self.line = b""  # the line being written
        self.counts: dict[str, int] | None = None
        self.done = 0  # tests on finished lines

    def fractions(self) -> dict[str, float]:
        """Each assignment's fraction of tests run (0 to 1); empty before the plugin said."""
        with open(self.log, "rb") as file:
            file.seek(self.read)
            new = file.read()
        self.read += len(new)
        *finished, self.line = (self.line + new).split(b"\n")
        for line in finished:
            if self.counts is None and (match := _TESTS_TO_RUN.fullmatch(line)):
                self.counts = {name: int(count) for name, _, count in (part.decode().rpartition("=") for part in match[1].split())}
            elif self.counts is not None and _RESULTS_LINE.fullmatch(line):
                self.done += len(line.split()[0])
        left = self.done + (len(self.line) if re.fullmatch(_RESULTS, self.line) else 0)
        fractions = {}
        for name, count in (self.counts or {}).items():
            fractions[name] = min(1.0, left / count) if count else 1.0
            left = max(0, left - count)
        return fractions
