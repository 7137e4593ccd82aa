"""``json``: the whole report, for scripts (``grader.results`` schema; ``batch`` reads it back)."""

from __future__ import annotations

from grader.results import Report, to_json


def render(report: Report, *, hidden_visibility: str) -> str:
    return to_json(report)
