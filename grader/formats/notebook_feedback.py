"""The student's own notebook returned with feedback, as an HTML page.

For each notebook a student submits (``Course.student_notebooks``) the graded notebook (the
staged copy, kept before any student code ran) gets a first cell with the score and a Markdown
cell after the (last) code cell that defines each graded function. Under a function are the
tests that name it (``Course.tests_naming``, the naming clause of the course's rule for the tests
*of* a function): a test of several functions is listed under each, except a parametrized case
whose id names some of them (``test_x[kaiming_normal]``: under those only); a helper's bugs show
under the tests of the functions that call it. Each test: passed or failed, points, and for a
failure the same summary and hint as the Markdown feedback. Tests that name none of the
notebook's functions are listed in the first cell. Hidden tests show their names and points,
their details only as ``grader.formats.disclosure`` allows. The notebook is not run again: the
student's own outputs stay. nbconvert's ``HTMLExporter`` writes the page, with ``sanitize_html``
(a notebook's outputs and Markdown are the student's: no script of theirs runs in the reader's
browser). Math in the student's Markdown is typeset by MathJax, which the page loads from its CDN
when online.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterable
from pathlib import Path

import nbformat

from grader.course import Course
from grader.formats.disclosure import HIDDEN_DETAILS, isolation_line, shows_hidden_details, without_hidden_details
from grader.formats.failures import failure_details, fence, number, public_first
from grader.notebook import read_notebook
from grader.results import AssignmentGrade, Report, TestResult

FEEDBACK_TAG = "dlgrade-feedback"  # the tag of every cell this module adds
SUFFIX = ".feedback.html"
_STYLE = """<style>
.celltag_dlgrade-feedback { background: #f6f8fa; border-left: 4px solid #0969da; padding: .25rem .75rem; }
.celltag_dlgrade-feedback pre { white-space: pre-wrap; word-break: break-word; }
.celltag_dlgrade-feedback code { overflow-wrap: anywhere; }
body.jp-Notebook { padding-left: 0; padding-right: 0; }
@media (max-width: 600px) { .jp-Cell { padding: 4px 2px; } }
</style>
"""


def defined_names(source: str) -> list[str]:
    """The top-level functions and classes a code cell defines (none when it does not parse,
    IPython syntax after IPython's own transformation)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return []
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _base(test: TestResult) -> str:
    return test.name.split("[", 1)[0]  # a parametrized test's function


def _case_functions(test: TestResult, functions: Iterable[str], default: str) -> set[str]:
    """The functions a parametrized case is about: those its id names (``test_x[kaiming_normal-3]``
    is about ``kaiming_normal`` only), else ``{default}``."""
    case = test.name.partition("[")[2].removesuffix("]")
    named = set(re.split(r"[-,\s]+", case)) & set(functions) if case else set()
    return named or {default}


def _cell(lines: list[str], position: int) -> nbformat.NotebookNode:
    text = "\n".join(lines).rstrip() + "\n"
    return nbformat.v4.new_markdown_cell(text, id=f"{FEEDBACK_TAG}-{position}", metadata={"tags": [FEEDBACK_TAG]})  # ids: the same page every time


def _verdict(tests: list[TestResult]) -> str:
    counted = [t for t in tests if t.outcome != "skipped"]
    passed = sum(t.outcome == "passed" for t in counted)
    return f"{passed} of {len(counted)} tests passed, {number(sum(t.earned for t in counted))} / {number(sum(t.points for t in counted))} points"


def _test_lines(test: TestResult, show_hidden: bool) -> list[str]:
    points = f"{number(test.earned)} / {number(test.points)} point{'s' if test.points != 1 else ''}"
    kind = ", hidden test" if test.hidden else ""
    if test.outcome == "skipped":
        return [f"**skipped** `{test.name}` ({number(test.points)} points{kind}; no GPU on the grading machine: it does not count)", ""]
    if test.outcome == "passed":
        return [f"**passed** `{test.name}` ({points}{kind})", ""]
    lines = [f"**FAILED** `{test.name}` ({points}{kind})", ""]
    if test.hidden and not show_hidden:
        return lines + [HIDDEN_DETAILS, ""]
    return lines + failure_details(test)


def annotate(notebook: nbformat.NotebookNode, report: Report, assignment: str, course: Course, *, hidden_visibility: str) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with a score cell first and a feedback cell after the last code
    cell that defines each graded function of ``assignment``."""
    show_hidden = shows_hidden_details(hidden_visibility)
    if not show_hidden:
        report = without_hidden_details(report)
    grade: AssignmentGrade = report.assignment(assignment)
    defining: dict[str, int] = {}  # function -> the index of the last cell that defines it
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            defining.update((name, index) for name in defined_names(str(cell.source)))
    of: dict[str, list[TestResult]] = {}
    for name in defining:
        named = course.tests_naming(assignment, [name])
        tests = public_first([t for t in grade.tests if _base(t) in named and name in _case_functions(t, defining, name)])
        if tests:
            of[name] = tests
    listed = {id(t) for tests in of.values() for t in tests}
    others = public_first([t for t in grade.tests if id(t) not in listed])

    title = f"# Feedback on {assignment}: {number(grade.earned)} / {number(grade.possible)} points"
    first = [title, "", f"_{isolation_line(report)}_", ""]
    if grade.error:
        first += [f"This assignment could not be graded: {grade.error}", ""]
    if of:
        first += ["| function | tests passed | points |", "|---|---:|---:|"]
        for name, tests in of.items():
            counted = [t for t in tests if t.outcome != "skipped"]
            passed = sum(t.outcome == "passed" for t in counted)
            first.append(f"| `{name}` | {passed}/{len(counted)} | {number(sum(t.earned for t in counted))} / {number(sum(t.points for t in counted))} |")
        first += ["", "Under each function below are the tests that call it (a test of several functions is under each)."]
    first.append("")
    for note in report.notes:
        first += [f"> {note}", ""]
    if others:
        first += [f"## Other tests: {_verdict(others)}", ""]
        for test in others:
            first += _test_lines(test, show_hidden)

    annotated = copy.deepcopy(notebook)
    annotated.nbformat_minor = max(annotated.get("nbformat_minor", 0), 5)  # cells with ids
    for index, cell in enumerate(annotated.cells):
        cell.setdefault("id", f"cell-{index}")
    cells = [_cell(first, 0)]
    after: dict[int, list[str]] = {}
    for name, tests in of.items():
        lines = after.setdefault(defining[name], [])
        lines += [f"### Feedback on `{name}`: {_verdict(tests)}", ""]
        for test in tests:
            lines += _test_lines(test, show_hidden)
    for index, cell in enumerate(annotated.cells):
        cells.append(cell)
        if index in after:
            cells.append(_cell(after[index], len(cells)))
    annotated.cells = cells
    return annotated


_SAFE_TAGS = ["p", "div", "span", "pre", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img", "del", "sup", "sub", "dl", "dt", "dd", "details", "summary"]
_SAFE_ATTRIBUTES = {"*": ["class", "id", "style"], "a": ["href", "title"], "img": ["src", "alt", "title", "width", "height"], "abbr": ["title"], "acronym": ["title"]}


def _clean_html(element: str | bytes) -> str:
    """nbconvert's ``clean_html`` filter (which escapes headings, paragraphs and tables) with the
    tags and attributes rendered Markdown needs: no script, no event handler, no ``javascript:``."""
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    text = element.decode() if isinstance(element, bytes) else str(element)
    return bleach.clean(
        text,
        tags=[*bleach.ALLOWED_TAGS, *_SAFE_TAGS],
        attributes=_SAFE_ATTRIBUTES,
        protocols=["http", "https", "mailto", "data"],
        css_sanitizer=CSSSanitizer(),
    )


def to_html(notebook: nbformat.NotebookNode, title: str) -> str:
    """``notebook`` as a self-contained HTML page (its outputs as they are, not run again; HTML
    in its Markdown and outputs sanitized)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab", sanitize_html=True, filters={"clean_html": _clean_html}, exclude_input_prompt=True, exclude_output_prompt=True
    )
    notebook.metadata["title"] = title
    body, _ = exporter.from_notebook_node(notebook)
    return body.replace("</head>", _STYLE + "</head>", 1)


def render(notebook_path: Path, report: Report, assignment: str, course: Course, *, hidden_visibility: str) -> str:
    """The feedback page for the staged notebook at ``notebook_path``; when it cannot be read or
    exported, a page with the score cell and why (a broken notebook costs its own tests only)."""
    grade = report.assignment(assignment)
    title = f"{notebook_path.name}: {number(grade.earned)} / {number(grade.possible)} points"
    try:
        return to_html(annotate(read_notebook(notebook_path), report, assignment, course, hidden_visibility=hidden_visibility), title)
    except Exception as error:
        blank = nbformat.v4.new_notebook()
        blank.cells = [nbformat.v4.new_markdown_cell(f"Your notebook could not be shown:\n\n{fence(f'{type(error).__name__}: {error}')}")]
        return to_html(annotate(blank, report, assignment, course, hidden_visibility=hidden_visibility), title)


def write_all(report: Report, notebooks: Path, out: Path, course: Course, *, hidden_visibility: str) -> list[Path]:
    """For each graded notebook (``Course.student_notebooks``) kept as staged in
    ``notebooks/<assignment>/``, write ``out/<notebook stem>.feedback.html``; the paths written."""
    written = []
    for grade in report.assignments:
        for name in course.student_notebooks(grade.name):
            staged = notebooks / grade.name / name
            if staged.is_file():
                page = out / f"{Path(name).stem}{SUFFIX}"
                page.write_text(render(staged, report, grade.name, course, hidden_visibility=hidden_visibility))
                written.append(page)
    return written
