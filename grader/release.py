"""Make the student's copy of a file from the instructor's: clear the solution regions.

The instructor's copy (``reference/<assignment>/<file>.py``, or a notebook's cells) marks each
solution in nbgrader's style::

    def relu_forward(x):
        \"\"\"ReLU: out = max(x, 0).\"\"\"
        ### BEGIN SOLUTION
        out = np.maximum(x, 0)
        return out, x
        ### END SOLUTION

``clear_solutions`` replaces every region by ``raise NotImplementedError(...)`` at the region's
indentation, naming the enclosing function, so that each stub fails with a message that says
what to implement. Everything else (imports, docstrings, signatures) is kept as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+(\w+)")


class ReleaseError(Exception):
    """Unbalanced or misplaced solution markers."""


def _enclosing_name(lines: list[str], indent: int) -> str | None:
    """The name of the nearest def/class above, less indented than ``indent``."""
    names: list[str] = []
    for line in reversed(lines):
        match = _DEF.match(line)
        if match and len(match.group(1)) < indent:
            names.append(match.group(3))
            indent = len(match.group(1))
    return ".".join(reversed(names)) or None


def clear_solutions(source: str, *, hint: str = "see the assignment's README.md") -> str:
    """``source`` with each ``BEGIN``/``END SOLUTION`` region replaced by a ``raise``."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ReleaseError(f"line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = len(line) - len(line.lstrip())
            name = _enclosing_name(out, indent)
            what = f"Implement {name}" if name else "Implement this part"
            out.append(f"{' ' * indent}raise NotImplementedError({what + ': ' + hint!r})")
        elif stripped == END:
            if not inside:
                raise ReleaseError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{BEGIN} is never closed")
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def has_solutions(source: str) -> bool:
    return BEGIN in source


def release_file(source: Path, destination: Path) -> None:
    """Write the student's copy of ``source`` (a ``.py`` or ``.ipynb``) to ``destination``."""
    if source.suffix == ".ipynb":
        notebook = nbformat.read(str(source), as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.source = clear_solutions(cell.source)
                cell.outputs = []
                cell.execution_count = None
        destination.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(destination))
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(clear_solutions(source.read_text()))
