"""The course's notebook assignments (``Course.notebooks``): the instructor's notebook holds the
oracle's code verbatim, runs top to bottom with a plot, and the student's notebook is its release.

The oracle module ``reference/<a>/<name>.py`` is what the hidden tests compare with and what
planted submissions are built from; the instructor's notebook ``reference/<a>/<name>.ipynb`` is
what students see solved. Both must say the same thing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from grader.course import Course
from grader.release import BEGIN, release_file
from tests.planted import ROOT

NOTEBOOKS = Course(ROOT).notebooks()
PRINTED = {"a4_initialization": ("Kaiming normal", "N(0, 1)")}  # what its experiment must print


def code_cells(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(str(path), as_version=4).cells if cell.cell_type == "code"]


def top_level_blocks(source: str) -> dict[str, str]:
    """Each top-level statement of ``source`` (after the docstring), through the comment lines up
    to the next statement (so a function keeps its ``### END SOLUTION``), keyed by its name or text."""
    lines = source.splitlines()
    tree = ast.parse(source)
    body = tree.body[1:] if isinstance(tree.body[0], ast.Expr) else tree.body
    starts = [node.lineno for node in body] + [len(lines) + 1]
    return {
        getattr(node, "name", text): text
        for node, end in zip(body, starts[1:])
        for text in ["\n".join(lines[min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1 : end - 1]).rstrip()]
    }


@pytest.fixture(params=sorted(NOTEBOOKS))
def assignment(request: pytest.FixtureRequest) -> str:
    return request.param


def test_there_are_notebook_assignments() -> None:
    assert set(NOTEBOOKS) >= {"a4_initialization", "a9_torch"}


def test_the_instructors_notebook_holds_the_oracles_code_verbatim(assignment: str) -> None:
    """Each function in one cell equal to the oracle's definition (markers included); every other
    statement (imports, aliases; not ``from __future__``, a module's business) somewhere in the
    code; no solution (a cell with solution markers) of a function the oracle lacks."""
    notebook = NOTEBOOKS[assignment]
    oracle = ROOT / "reference" / assignment / Path(notebook).with_suffix(".py").name
    blocks = top_level_blocks(oracle.read_text())
    cells = code_cells(ROOT / "reference" / assignment / notebook)
    all_code = "\n".join(cells)
    for name, text in blocks.items():
        if text.startswith(("def ", "class ", "@")):
            holding = [c for c in cells if f"def {name}(" in c or f"class {name}" in c]
            assert len(holding) == 1, f"{name} is defined in {len(holding)} code cells of {notebook}, expected 1"
            assert holding[0].strip() == text, f"{notebook}'s cell for {name} differs from {oracle.name}: copy it over (markers included)"
        elif not text.startswith("from __future__"):
            assert text in all_code, f"{notebook} lacks the statement {text!r} of {oracle.name}"
    solved = {n.name for c in cells if BEGIN in c for n in ast.parse(c.replace("%matplotlib inline", "")).body if isinstance(n, ast.FunctionDef)}
    assert solved <= set(blocks), f"{notebook} has solutions of functions that {oracle.name} lacks: {sorted(solved - set(blocks))}"


def test_the_students_notebook_is_the_release_of_the_instructors(assignment: str, tmp_path: Path) -> None:
    notebook = NOTEBOOKS[assignment]
    instructor, student = ROOT / "reference" / assignment / notebook, ROOT / "assignments" / assignment / notebook
    release_file(instructor, tmp_path / notebook)
    assert code_cells(tmp_path / notebook) == code_cells(student), f"{student} is stale: run grader.release on it"
    markdown = [[c.source for c in nbformat.read(str(p), as_version=4).cells if c.cell_type == "markdown"] for p in (instructor, student)]
    assert markdown[0] == markdown[1]
    assert not [c for c in nbformat.read(str(student), as_version=4).cells if c.cell_type == "code" and c.outputs], "the released notebook carries outputs"


def test_the_instructors_notebook_runs_top_to_bottom_and_draws_a_plot(assignment: str, tmp_path: Path) -> None:
    """nbclient runs every cell in a fresh python3 kernel: no errors, at least one image."""
    import nbclient

    notebook = nbformat.read(str(ROOT / "reference" / assignment / NOTEBOOKS[assignment]), as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"cells raised: {[(e.ename, e.evalue) for e in errors]}"
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook shows no plot"
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for text in PRINTED.get(assignment, ()):
        assert text in printed, f"the notebook's output lacks {text!r}"
