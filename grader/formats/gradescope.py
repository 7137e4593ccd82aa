"""``gradescope``: Gradescope's autograder ``results.json``.

``score``, ``execution_time``, ``output``, ``visibility``, ``stdout_visibility``, and ``tests[]``
with ``name``, ``number``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``.
Hidden tests get the visibility chosen by the instructor (default ``after_published``); the
always-visible summary then counts public tests only, so it never gives hidden results away.
"""

from __future__ import annotations

import json
from typing import Any

from grader.formats.disclosure import isolation_line
from grader.formats.failures import failure_summary, hint_for, number, public_first, what_was_checked
from grader.results import Report


def render(report: Report, *, hidden_visibility: str) -> str:
    tests: list[dict[str, Any]] = []
    summary: list[str] = [isolation_line(report)]
    skipped = 0
    for a_index, assignment in enumerate(report.assignments, 1):
        counted = public_first([t for t in assignment.tests if t.outcome != "skipped"])
        skipped += len(assignment.tests) - len(counted)
        for t_index, test in enumerate(counted, 1):
            output = what_was_checked(test)
            if test.outcome == "failed":
                output += f"\n\n{failure_summary(test.message)}\n\nHint: {hint_for(test)}"
            tests.append(
                {
                    "name": f"{assignment.name}: {test.name}" + (" (hidden)" if test.hidden else ""),
                    "number": f"{a_index}.{t_index}",
                    "score": test.earned,
                    "max_score": test.points,
                    "status": "passed" if test.outcome == "passed" else "failed",
                    "output": output,
                    "visibility": hidden_visibility if test.hidden else "visible",
                }
            )
        shown = counted if hidden_visibility == "visible" else [t for t in counted if not t.hidden]
        which = "" if hidden_visibility == "visible" or len(shown) == len(counted) else "public tests "
        line = f"{assignment.name}: {which}{number(sum(t.earned for t in shown))} / {number(sum(t.points for t in shown))} points"
        if assignment.error:
            line += f"; could not be graded: {assignment.error}"
        summary.append(line)
    if skipped:
        summary.append(f"{skipped} GPU test(s) were skipped (no GPU on the grading machine) and do not count.")
    summary.extend(report.notes)
    document = {
        "score": report.earned,
        "execution_time": round(report.execution_time, 3),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"sandbox": report.sandbox},
        "tests": tests,
    }
    return json.dumps(document, indent=2) + "\n"
