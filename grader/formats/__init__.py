"""The output formats of a graded submission: a registry, one module per format.

Every format is a pure function of a ``grader.results.Report``, so the same grades always give
the same bytes (apart from the timing fields ``execution_time``, ``time`` and ``duration``).
Adding a format is one module with a ``render(report, *, hidden_visibility)`` and one line in
``FORMATS``. ``hidden_visibility`` is one of ``VISIBILITIES`` (Gradescope's names): when hidden
tests' details may be shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grader.formats import classroom, gradescope, html, jsondoc, junit, markdown
from grader.results import Report

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass(frozen=True)
class Format:
    """A format's name (``--format NAME``), the file ``batch`` writes per student, its renderer."""

    name: str
    filename: str
    render: Callable[..., str]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("classroom", "classroom.json", classroom.render),
        Format("gradescope", "gradescope.json", gradescope.render),
        Format("html", "feedback.html", html.render),
        Format("json", "results.json", jsondoc.render),
        Format("junit", "junit.xml", junit.render),
        Format("markdown", "feedback.md", markdown.render),
    )
}


def render(report: Report, name: str, *, hidden_visibility: str = "after_published") -> str:
    """``report`` in format ``name``."""
    if name not in FORMATS:
        raise ValueError(f"format={name!r} is not one of {', '.join(FORMATS)}")
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility={hidden_visibility!r} is not one of {', '.join(VISIBILITIES)}")
    return FORMATS[name].render(report, hidden_visibility=hidden_visibility)
