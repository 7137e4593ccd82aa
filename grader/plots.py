"""Plots of a graded roster for the instructor: the score distribution and the tests a class fails.

PNG files drawn with matplotlib's Agg backend (no display needed), the same bytes for the same
grades: fixed size, no timestamps in the metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.results import Report

MOST_FAILED = 15  # bars in the pass-rate chart: the tests the fewest students pass


def _figure(height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(7.0, height), dpi=100, layout="constrained")


def _save(figure, path: Path) -> None:  # type: ignore[no-untyped-def]
    figure.savefig(path, format="png", metadata={"Software": None})


def score_histogram(percents: Sequence[float], path: Path, *, bins: int = 10) -> None:
    """A histogram of the students' scores in percent, ``bins`` bars over [0, 100]."""
    figure = _figure(3.5)
    axes = figure.add_subplot()
    axes.hist(percents, bins=bins, range=(0, 100), color="#4c72b0", edgecolor="white")
    axes.set_xlabel("score (%)")
    axes.set_ylabel("students")
    axes.set_xlim(0, 100)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"Scores of {len(percents)} student{'s' if len(percents) != 1 else ''}")
    _save(figure, path)


def pass_rates(reports: Sequence[Report]) -> list[tuple[str, float]]:
    """``("assignment: test", fraction of students who passed it)`` for every test that counts
    (GPU tests skipped without a GPU do not), the lowest rate first, then by name."""
    passed: dict[str, list[bool]] = {}
    for report in reports:
        for test in report.tests():
            if test.outcome != "skipped":
                passed.setdefault(f"{test.assignment}: {test.name}", []).append(test.outcome == "passed")
    return sorted(((name, sum(v) / len(v)) for name, v in passed.items()), key=lambda item: (item[1], item[0]))


def pass_rate_chart(reports: Sequence[Report], path: Path) -> None:
    """The ``MOST_FAILED`` tests with the lowest pass rates, as horizontal bars."""
    rates = pass_rates(reports)[:MOST_FAILED]
    figure = _figure(1.0 + 0.35 * max(len(rates), 1))
    axes = figure.add_subplot()
    names = [name if len(name) <= 60 else name[:57] + "..." for name, _ in rates]
    axes.barh(range(len(rates)), [100 * rate for _, rate in rates], color="#dd8452")
    axes.set_yticks(range(len(rates)), names, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("students who passed (%)")
    axes.set_title("The tests the fewest students pass")
    _save(figure, path)
