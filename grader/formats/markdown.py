"""``markdown``: feedback a student can act on.

The score table, then per failed test what was checked (its docstring), what went wrong (the
expected and actual values, the smallest failing input) and a hint.
"""

from __future__ import annotations

from grader.formats.disclosure import HIDDEN_DETAILS, isolation_line, shows_hidden_details
from grader.formats.failures import failure_details, fence, file_failure, hint_for, number, public_first
from grader.results import Report, TestResult


def render(report: Report, *, hidden_visibility: str) -> str:
    """Feedback for the student; hidden tests show their details only when ``hidden_visibility`` is
    ``visible``, else their points."""
    show_hidden = shows_hidden_details(hidden_visibility)
    out = [f"# Feedback: {number(report.earned)} / {number(report.possible)} points", "", f"_{isolation_line(report)}_", ""]
    out += ["| assignment | passed | points |", "|---|---:|---:|"]
    for a in report.assignments:
        counted = [t for t in a.tests if t.outcome != "skipped"]
        passed = sum(t.outcome == "passed" for t in counted)
        out.append(f"| {a.name} | {passed}/{len(counted)} | {number(a.earned)} / {number(a.possible)} |")
    out.append("")
    for note in report.notes:
        out += [f"> {note}", ""]
    for a in report.assignments:
        failed = [t for t in a.tests if t.outcome == "failed"]
        if a.error:
            out += [f"## {a.name}", "", f"This assignment could not be graded: {a.error}", ""]
            continue
        if not failed:
            continue
        out += [f"## {a.name}", ""]
        failed = public_first(failed)
        unloaded: dict[str, list[TestResult]] = {}
        for test in failed:
            message = file_failure(test)
            if message is not None:
                unloaded.setdefault(message, []).append(test)
        for message, tests in unloaded.items():  # one section per file that did not load
            file = message.split(" could not be loaded: ", 1)[0]
            cost = f"{len(tests)} test{'s' if len(tests) != 1 else ''}, {number(sum(t.points for t in tests))} points"
            out += [f"### {file} could not be loaded ({cost})", "", "**What went wrong:**", "", fence(message), ""]
            out += [f"**Hint:** {hint_for(tests[0])}", "", "**Tests it cost:** " + ", ".join(t.name for t in tests), ""]
        for test in (t for t in failed if file_failure(t) is None):
            title = f"### {test.name} ({number(test.points)} point{'s' if test.points != 1 else ''}{', hidden test' if test.hidden else ''})"
            out += [title, ""]
            if test.hidden and not show_hidden:
                out += [HIDDEN_DETAILS, ""]
                continue
            out += failure_details(test)
    skipped = [t for t in report.tests() if t.outcome == "skipped"]
    if skipped:
        out += [f"_{len(skipped)} GPU test(s) were skipped (no GPU on the grading machine) and do not count._", ""]
    return "\n".join(out).rstrip() + "\n"
