"""Planted submissions: the reference with one bug, or rewritten in another correct way.

A grade is worth its two error rates. Each assignment's table of ``Variant``s (in
``tests/assignments/``) is graded like a real submission, under the grade profile, in a worker:
every buggy variant must lose points, every correct variant must score full marks.

A variant is data: edits applied to the reference oracle's source (the instructor's copy), either
an exact text replacement (``Edit``, the old text must occur exactly once) or a whole function or
method replaced by another definition (``Rewrite``), and how a file is saved (``SavedAs``: a
byte-order mark, CRLF, a declared Latin-1 encoding). Notebook assignments are submitted as a
notebook, one code cell per top-level statement, so the notebook path is graded too.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.release import BEGIN, END
from grader.results import from_json

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
NOTEBOOK_FILES = {"a4_initialization": "init.ipynb", "a9_torch": "torch_practice.ipynb"}


@dataclass(frozen=True)
class Edit:
    """Replace the exact text ``old`` (which must occur once) by ``new`` in ``file``."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Rewrite:
    """Replace the definition of ``name`` (``"f"`` or ``"Class.method"``) in ``file`` by ``source``."""

    file: str
    name: str
    source: str


@dataclass(frozen=True)
class SavedAs:
    """Save ``file`` (a notebook: its JSON) as an editor may: ``encoding`` ``"utf-8-sig"`` writes a
    byte-order mark first; any encoding but UTF-8 is declared on the first line of a ``.py`` file
    (``# -*- coding: latin-1 -*-``); every line ends with ``newline``."""

    file: str
    encoding: str = "utf-8"
    newline: str = "\n"

    def encode(self, text: str, *, python: bool) -> bytes:
        if python and self.encoding.replace("_", "-").lower() not in ("utf-8", "utf-8-sig", "utf8"):
            text = f"# -*- coding: {self.encoding} -*-\n{text}"
        return text.replace("\n", self.newline).encode(self.encoding)


@dataclass(frozen=True)
class Variant:
    """A planted submission: a name a test id can show, and its edits."""

    name: str
    edits: tuple[Edit | Rewrite | SavedAs, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.name


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END)) + "\n"


def _find_definition(tree: ast.Module, name: str) -> ast.AST:
    scope: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in name.split("."):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part), None)
        if node is None:
            raise LookupError(f"no definition {name!r}")
        scope = node.body  # type: ignore[attr-defined]
    assert node is not None
    return node


def apply_edit(source: str, edit: Edit | Rewrite) -> str:
    """``source`` with one edit applied; a stale edit (text not found once) raises ``LookupError``."""
    if isinstance(edit, Edit):
        count = source.count(edit.old)
        if count != 1:
            raise LookupError(f"{edit.file}: expected the text {edit.old!r} once, found it {count} times")
        return source.replace(edit.old, edit.new)
    node = _find_definition(ast.parse(source), edit.name)
    lines = source.splitlines()
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1  # type: ignore[attr-defined]
    indent = len(lines[start]) - len(lines[start].lstrip())
    replacement = textwrap.indent(textwrap.dedent(edit.source).strip("\n"), " " * indent).splitlines()
    return "\n".join(lines[:start] + replacement + lines[node.end_lineno :]) + "\n"  # type: ignore[attr-defined]


def as_notebook(source: str) -> nbformat.NotebookNode:
    """A notebook with one code cell per top-level statement of ``source``."""
    tree = ast.parse(source)
    lines = source.splitlines()
    cells = [nbformat.v4.new_markdown_cell("A planted submission.")]
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        cells.append(nbformat.v4.new_code_cell("\n".join(lines[start : node.end_lineno])))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    return notebook


def build_submission(assignment: str, variant: Variant, destination: Path) -> Path:
    """Write ``destination/assignments/<assignment>/`` from the reference with ``variant``'s edits."""
    folder = destination / "assignments" / assignment
    folder.mkdir(parents=True, exist_ok=True)
    sources = {p.name: _strip_markers(p.read_text()) for p in sorted((REFERENCE / assignment).glob("*.py")) if p.name != "__init__.py"}
    saved = {e.file: e for e in variant.edits if isinstance(e, SavedAs)}
    for edit in variant.edits:
        if edit.file not in sources:
            raise LookupError(f"{assignment} has no reference file {edit.file}")
        if not isinstance(edit, SavedAs):
            sources[edit.file] = apply_edit(sources[edit.file], edit)
    notebook = NOTEBOOK_FILES.get(assignment)
    for name, source in sources.items():
        as_saved = saved.get(name, SavedAs(name))
        if notebook and Path(notebook).stem == Path(name).stem:
            (folder / notebook).write_bytes(as_saved.encode(nbformat.writes(as_notebook(source)), python=False))
        else:
            (folder / name).write_bytes(as_saved.encode(source, python=True))
    return destination


@dataclass(frozen=True)
class Grade:
    """The outcome of grading one submission: earned and possible points, failed test names."""

    earned: float
    possible: float
    failed: tuple[str, ...]
    output: str

    @property
    def full_marks(self) -> bool:
        return self.possible > 0 and self.earned == self.possible


def grade(
    assignment: str,
    *,
    submission: Path | None = None,
    against_reference: bool = False,
    first_failure: bool = False,
    timeout: float = 900,
) -> Grade:
    """Run the assignment's public and hidden tests under the grade profile on one submission.

    ``first_failure`` stops at the first failing test and does not shrink its example: enough to
    show that a buggy submission loses points (the grade profile is deterministic, so the full
    run fails the same test), at a fraction of the cost.
    """
    results = Path(tempfile.mkdtemp(prefix="dlgrade-results-")) / "results.json"
    command = [sys.executable, "-m", "pytest", f"assignments/{assignment}", "-q", "-p", "no:cacheprovider",
               "--dlgrade-profile", "grade", "--dlgrade-results", str(results)]
    if submission is not None:
        command += ["--dlgrade-submission", str(submission)]
    if against_reference:
        command += ["--dlgrade-against-reference"]
    if first_failure:
        command += ["-x", "--dlgrade-shrink", "off"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if not results.exists():
        raise RuntimeError(f"grading {assignment} produced no results:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    graded = from_json(results.read_text()).assignment(assignment)
    shutil.rmtree(results.parent)
    failed = tuple(t.name for t in graded.tests if t.outcome == "failed")
    return Grade(graded.earned, graded.possible, failed, run.stdout[-5000:])


def grade_variant(assignment: str, variant: Variant, *, first_failure: bool = False) -> Grade:
    """Build ``variant`` in a temporary folder, grade it (see :func:`grade`), remove the folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"dlgrade-{assignment}-"))
    try:
        return grade(assignment, submission=build_submission(assignment, variant, folder), first_failure=first_failure)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
