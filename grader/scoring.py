"""Points per test, and the score table per assignment.

A test under ``assignments/<name>/`` is worth its ``points(n)`` marker (default 1) and earns them
only when its setup, call and teardown all pass. A test skipped because it is marked ``gpu`` and
there is no GPU is left out of both earned and possible points; any other skip earns nothing, so
nothing a submission does to skip a test can raise its score. Tests outside ``assignments/``
carry no points.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from grader.course import Course
from grader.formats.failures import assertion_message
from grader.plan import strip_param_id
from grader.results import AssignmentGrade, Report, TestResult, write_json

MESSAGE_LIMIT = 4000
STUDENT_TEXT_LIMIT = 2000
HIDDEN_LINE_MIN = 16  # shorter lines of a hidden test ("return x") say nothing about it


def points_of(item: pytest.Item) -> float:
    """The value of the ``points(n)`` marker; default 1."""
    marker = item.get_closest_marker("points")
    if marker is None:
        return 1.0
    value = marker.args[0] if marker.args else marker.kwargs.get("n", 1)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise pytest.UsageError(f"{item.nodeid}: points(n) needs a non-negative number, got {value!r}")
    return float(value)


class Scorebook:
    """Collects one ``TestResult`` per test from pytest's reports, and each assignment's seconds
    of student code that never answered (its workers' spent budget)."""

    def __init__(self) -> None:
        self.results: dict[str, TestResult] = {}
        self.unanswered: dict[str, float] = {}
        self._hidden_lines: dict[Path, list[str]] = {}

    def record(self, item: pytest.Item, report: pytest.TestReport, *, submission: str | None = None, diagnosis: str = "") -> None:
        """Add ``report`` (one phase of ``item``) to its test's result; ``diagnosis``: the known
        mistake a failed call phase shows (``grader.diagnosis``)."""
        found = Course.containing(Path(item.path))
        if found is None:
            return
        course, assignment = found
        result = self.results.get(item.nodeid)
        if result is None:
            result = TestResult(
                nodeid=item.nodeid,
                assignment=assignment,
                name=item.name if submission is None else strip_param_id(item.name, submission),
                points=points_of(item),
                outcome="passed",
                hidden=course.is_hidden(Path(item.path)),
                doc=inspect.getdoc(getattr(item, "obj", None)) or "",
                submission=submission,
            )
            self.results[item.nodeid] = result
        result.duration += report.duration
        if report.skipped:
            if item.get_closest_marker("gpu") is not None and report.when == "setup":
                result.outcome = "skipped"
            elif result.outcome == "passed":
                result.outcome = "failed"
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            result.message = f"skipped: {reason}"
        elif report.failed and result.outcome != "failed":
            result.outcome = "failed"
            result.message = _shorten(assertion_message(report.longreprtext) if result.hidden else report.longreprtext)
            result.diagnosis = diagnosis

    def student_text(self, text: str, course: Course, assignment: str) -> str:
        """What student code said (its exception and traceback), cut to ``STUDENT_TEXT_LIMIT``
        characters, every line that quotes a hidden test of the assignment (a line found in no
        public file) removed: student code may put what it read into its messages."""
        text = text if len(text) <= STUDENT_TEXT_LIMIT else text[:STUDENT_TEXT_LIMIT] + "\n[... shortened ...]"
        folder = course.assignments_dir / assignment
        if folder not in self._hidden_lines:
            def lines(files: list[Path]) -> set[str]:
                return {line.strip() for f in files for line in f.read_text(errors="replace").splitlines()}

            secret = lines(sorted((folder / "hidden").rglob("*.py"))) - lines(sorted(folder.glob("*.py")))
            self._hidden_lines[folder] = sorted(line for line in secret if len(line) >= HIDDEN_LINE_MIN)
        quoted = [line for line in self._hidden_lines[folder] if line in text]
        if not quoted:
            return text
        kept = [line if not any(q in line for q in quoted) else "[a line of a hidden test was removed]" for line in text.splitlines()]
        return "\n".join(kept)

    def totals(self, submission: str | None = None) -> dict[str, tuple[float, float]]:
        """``{assignment: (earned, possible)}`` in name order (of one planned submission)."""
        table: dict[str, tuple[float, float]] = {}
        for r in sorted(self.results.values(), key=lambda r: r.assignment):
            if r.submission != submission:
                continue
            earned, possible = table.get(r.assignment, (0.0, 0.0))
            table[r.assignment] = (earned + r.earned, possible + r.possible)
        return table

    def report(self, *, submission: str, seed: int, sandbox: str, notes: tuple[str, ...] = ()) -> Report:
        """The results as a ``Report``, assignments in name order, tests in the order they ran."""
        names = sorted({r.assignment for r in self.results.values()})
        grades = tuple(AssignmentGrade(a, tuple(r for r in self.results.values() if r.assignment == a), unanswered=self.unanswered.get(a, 0.0)) for a in names)
        return Report(submission=submission, assignments=grades, seed=seed, sandbox=sandbox, notes=notes)

    def write_json(self, path: Path, **report: Any) -> None:
        """The results file (``grader.results`` JSON); ``report`` as for ``Scorebook.report``."""
        write_json(self.report(**report), path)


def _shorten(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT // 2] + "\n[...]\n" + text[-MESSAGE_LIMIT // 2 :]


def _number(x: float) -> str:
    return f"{x:g}"


def print_table(book: Scorebook, terminalreporter: Any) -> None:
    """Print the score table (a ``rich`` table) at the end of the run."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="dlgrade score", title_justify="left", title_style="bold")
    table.add_column("assignment")
    table.add_column("passed", justify="right")
    table.add_column("points", justify="right")
    table.add_column("%", justify="right")
    total_earned = total_possible = 0.0
    for assignment, (earned, possible) in book.totals().items():
        tests = [r for r in book.results.values() if r.assignment == assignment]
        passed = sum(r.outcome == "passed" for r in tests)
        counted = sum(r.outcome != "skipped" for r in tests)
        percent = f"{100 * earned / possible:.0f}" if possible else "-"
        table.add_row(assignment, f"{passed}/{counted}", f"{_number(earned)} / {_number(possible)}", percent)
        total_earned += earned
        total_possible += possible
    if len(book.totals()) > 1:
        percent = f"{100 * total_earned / total_possible:.0f}" if total_possible else "-"
        table.add_row("total", "", f"{_number(total_earned)} / {_number(total_possible)}", percent, style="bold")
    markup = bool(getattr(terminalreporter, "hasmarkup", False))
    console = Console(width=80, force_terminal=markup, no_color=not markup, color_system="standard" if markup else None)
    with console.capture() as captured:
        console.print(table)
    terminalreporter.write_line("")
    for line in captured.get().rstrip("\n").splitlines():
        terminalreporter.write_line(line)
