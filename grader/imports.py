"""What a student file imports, read from its source without running it.

The numpy assignments forbid libraries that would do the work for the student. The check reads
the file's syntax tree (a notebook's code cells after IPython's syntax is turned into Python), so
it sees ``import torch``, ``from scipy import special`` and ``__import__("torch")`` /
``importlib.import_module("torch")`` with a literal name, wherever they stand. A ``.py`` file is
decoded as the interpreter decodes it (``tokenize.open``: a UTF-8 byte-order mark, an encoding
declaration such as ``# -*- coding: latin-1 -*-``, CRLF line endings). A notebook's code cell
that does not parse is left out: it never runs (the notebook's run reports it), so it imports
nothing; a ``.py`` file that does not parse fails the check.
"""

from __future__ import annotations

import ast
import tokenize
from pathlib import Path

BANNED_FOR_NUMPY = frozenset(
    {"torch", "torchvision", "scipy", "sklearn", "tensorflow", "keras", "jax", "jaxlib", "flax", "autograd", "mxnet", "paddle", "theano", "cupy", "chainer"}
)


def _trees(path: Path) -> list[ast.Module]:
    """The syntax trees of the code that can run: the whole ``.py`` file (``SyntaxError`` when it
    does not parse), or each code cell of a notebook that parses."""
    if path.suffix == ".ipynb":
        from grader.notebook import code_cells

        trees = []
        for source in code_cells(path):
            try:
                trees.append(ast.parse(source))
            except (SyntaxError, ValueError):  # the cell never runs: it imports nothing
                continue
        return trees
    with tokenize.open(path) as file:
        return [ast.parse(file.read())]


def imported_names(path: Path) -> set[str]:
    """The full names (``torch.nn.functional``) of every module ``path`` imports, statically or by a
    literal name; a relative import's are left out."""
    names: set[str] = set()
    for tree in _trees(Path(path)):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                    names.add(node.args[0].value)
    return names


def imported_modules(path: Path) -> set[str]:
    """The top-level names (``torch``) of every module ``path`` imports (``imported_names``)."""
    return {name.partition(".")[0] for name in imported_names(path)}


def assert_no_banned_imports(path: Path, banned: frozenset[str] = BANNED_FOR_NUMPY) -> None:
    """Fail when the file imports any of ``banned``; a file that does not parse fails too."""
    __tracebackhide__ = True
    try:
        found = imported_modules(Path(path)) & banned
    except (SyntaxError, UnicodeDecodeError) as error:
        raise AssertionError(f"{Path(path).name} does not parse: {error}") from None
    if found:
        raise AssertionError(f"{Path(path).name} imports {', '.join(sorted(found))}, which this assignment does not allow")
