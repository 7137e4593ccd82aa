"""Unimplemented functions, reported once: a student's run on the stubs fits on a screen.

A test that fails because a student's function still raises ``NotImplementedError`` (the released
stub) gets a one-line report, and pytest's failure sections leave such tests out: the run ends
with one list of the functions still to implement, each with the number of tests waiting on it,
instead of a traceback per test. Every other failure is reported as usual.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

STUB = "dlgrade_stub"  # the user property naming the stub a test hit: "file: function"


def mark_stub(report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """Shorten the report of a test whose call hit a stub, and note which stub."""
    if report.when != "call" or not report.failed or call.excinfo is None or not call.excinfo.errisinstance(NotImplementedError):
        return
    entry = call.excinfo.traceback[-1]
    where = f"{Path(str(entry.path)).name}: {entry.name}"
    report.longrepr = f"NotImplementedError: {call.excinfo.value} ({where} is still the stub)"
    report.user_properties.append((STUB, where))


def _stub_of(report: Any) -> str | None:
    return dict(getattr(report, "user_properties", [])).get(STUB)


class StubSummary:
    """Lists the stubs once, and keeps the tests that hit one out of pytest's failure sections."""

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None, None, None]:
        failed = terminalreporter.stats.get("failed", [])
        waiting: dict[str, int] = {}
        for report in failed:
            if (where := _stub_of(report)) is not None:
                waiting[where] = waiting.get(where, 0) + 1
        if waiting:
            terminalreporter.stats["failed"] = [r for r in failed if _stub_of(r) is None]
            terminalreporter.write_sep("=", "not implemented yet")
            for where, count in waiting.items():
                terminalreporter.write_line(f"{where} ({count} test{'s' if count != 1 else ''})")
        try:
            return (yield)
        finally:
            if waiting:  # the final counts include every failed test
                terminalreporter.stats["failed"] = failed
