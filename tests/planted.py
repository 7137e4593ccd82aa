"""Planted submissions: the reference with one bug, or rewritten in another correct way.

A grade is worth its two error rates. Each assignment's table of ``Variant``s (in
``tests/assignments/test_<assignment>.py``) is graded like a real submission by
``tests/assignments/test_planted.py``: every buggy variant must fail a test of a function it
breaks, every correct variant must earn every point of the tests of what it changes.

A variant is data: edits applied to the reference oracle's source (the instructor's copy), either
an exact text replacement (``Edit``, the old text must occur exactly once) or a whole function or
method replaced by another definition (``Rewrite``). Notebook assignments are submitted as a
notebook, one code cell per top-level statement, so the notebook path is graded too. Which tests
are "of" a function is the course's rule (``grader.course.Course.tests_of``).
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course import MISTAKES_FILE, MODULE, Course
from grader.release import BEGIN, END

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
COURSE = Course(ROOT)
NOTEBOOK_FILES = COURSE.notebooks()  # the assignments submitted as a notebook


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
    """A planted submission: a name a test id can show, and its edits. ``mistake``: for a buggy
    variant, the name of the known mistake (``reference/<assignment>/mistakes.py``) its first
    failing test must be diagnosed as; "" when it must get no diagnosis."""

    name: str
    edits: tuple[Edit | Rewrite | SavedAs, ...] = field(default_factory=tuple)
    mistake: str = ""

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
    sources = {p.name: _strip_markers(p.read_text()) for p in sorted((REFERENCE / assignment).glob("*.py")) if p.name not in ("__init__.py", MISTAKES_FILE)}
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


# Which tests are "of" a function (what a variant is graded on, and what counts as catching a bug
# where it was planted) is the course's rule: ``Course.tests_of`` (stated in ``grader.course``).
# Here: which units a variant's edits change.


def reference_sources(assignment: str) -> dict[str, str]:
    """The reference's student files (``.py``, markers stripped): what variants edit."""
    return {p.name: _strip_markers(p.read_text()) for p in sorted((REFERENCE / assignment).glob("*.py")) if p.name not in ("__init__.py", MISTAKES_FILE)}


def _unit_lines(source: str) -> dict[str, tuple[int, int]]:
    """Top-level definitions of a student file: name -> (first line, last line)."""
    units = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            units[node.name] = (min([node.lineno, *(d.lineno for d in node.decorator_list)]), node.end_lineno or node.lineno)
    return units


def changed_units(assignment: str, variant: Variant) -> frozenset[str]:
    """The units ``variant``'s edits change (``MODULE`` for an edit outside every definition)."""
    sources = reference_sources(assignment)
    changed: set[str] = set()
    for edit in variant.edits:
        source = sources[edit.file]
        if isinstance(edit, SavedAs):  # the whole file is saved otherwise
            changed.add(MODULE)
            continue
        if isinstance(edit, Rewrite):
            changed.add(edit.name.split(".")[0])
            continue
        start = source.index(edit.old)
        first = source.count("\n", 0, start) + 1
        last = first + edit.old.count("\n")
        inside = [name for name, (a, b) in _unit_lines(source).items() if a <= first and last <= b]
        changed.add(inside[0] if inside else MODULE)
    return frozenset(changed)
