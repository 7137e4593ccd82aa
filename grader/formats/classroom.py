"""``classroom``: the result document of a GitHub Classroom grader step, public tests only.

``version``, ``status`` (``pass``, ``fail``, or ``error`` when an assignment could not be graded),
``max_score``, ``tests[]`` with ``name``, ``status``, ``score``, ``message``, ``test_code``,
``filename``, ``line_no``, ``duration``, as ``classroom-resources/autograding-grading-reporter``
reads it (the workflow passes it base64-encoded; the reporter adds up ``max_score`` and the tests'
``score``). Hidden tests, and GPU tests skipped for want of a GPU, are left out: these points are
formative, the grade of record comes from the instructor's grading.
"""

from __future__ import annotations

import json
from typing import Any

from grader.formats.failures import failure_summary, hint_for
from grader.results import Report


def render(report: Report, *, hidden_visibility: str) -> str:
    public = [(a, t) for a in report.assignments for t in a.tests if not t.hidden and t.outcome != "skipped"]
    tests = [
        {
            "name": f"{assignment.name}: {test.name}",
            "status": "pass" if test.outcome == "passed" else "fail",
            "score": test.earned,
            "message": "" if test.outcome == "passed" else f"{failure_summary(test.message)}\n\nHint: {hint_for(test)}",
            "test_code": "",
            "filename": test.nodeid.partition("::")[0],
            "line_no": 0,
            "duration": round(test.duration, 3),
        }
        for assignment, test in public
    ]
    errors = [f"{a.name} could not be graded: {a.error}" for a in report.assignments if a.error]
    status = "error" if errors else ("fail" if any(t["status"] == "fail" for t in tests) else "pass")
    document: dict[str, Any] = {"version": 1, "status": status, "max_score": sum(test.points for _, test in public)}
    if errors:
        document["message"] = "\n".join(errors)
    document["tests"] = tests
    return json.dumps(document, indent=2) + "\n"
