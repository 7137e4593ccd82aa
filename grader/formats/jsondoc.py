"""``json``: the whole report, for scripts (``grader.results`` schema; ``batch`` reads it back).
Hidden tests' details only with ``hidden_visibility="visible"``."""

from __future__ import annotations

from grader.formats.disclosure import shows_hidden_details, without_hidden_details
from grader.results import Report, to_json


def render(report: Report, *, hidden_visibility: str) -> str:
    return to_json(report if shows_hidden_details(hidden_visibility) else without_hidden_details(report))
