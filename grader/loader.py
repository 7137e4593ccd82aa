"""Load a course file (a student's ``.py`` or ``.ipynb``, or the reference's) as a module, by path.

A student file may import the other files of its assignment (``import layers`` from ``mlp.py``),
so the file's folder is put on ``sys.path`` while it loads. The sibling modules it imports are
then taken out of ``sys.modules`` again: a student's ``layers`` and the reference's ``layers``
never shadow each other in one process. An import of a sibling that runs later, inside a
function (``def f(): from activations import softmax``), is answered by the module's own
``__import__`` (``SiblingImports``) with the sibling that file loaded with, or loads it then.

The module itself is registered in ``sys.modules`` under its own unique name, as an import does:
code that looks its module up there while it runs (a ``@dataclass`` with ``from __future__
import annotations``, ``typing.get_type_hints``) works in a course file as anywhere else.
"""

from __future__ import annotations

import builtins
import importlib.util
import itertools
import sys
import types
from pathlib import Path

from grader.course import PROJECT_ROOT, Course
from grader.notebook import run_notebook

_unique = itertools.count()


class SiblingImports:
    """A course file's ``__import__``: ``import <sibling>`` (another ``.py`` file of its folder)
    gives the sibling module the file loaded with, also when the import runs after the load,
    inside a function; a sibling first imported then is loaded from its folder once. Every
    other import is Python's own."""

    def __init__(self, folder: Path, siblings: set[str]) -> None:
        self.folder = folder
        self.siblings = siblings
        self.modules: dict[str, types.ModuleType] | None = None  # set when the file's own load ends

    def __call__(self, name: str, globals: dict | None = None, locals: dict | None = None, fromlist: tuple = (), level: int = 0) -> types.ModuleType:
        if self.modules is None or level != 0 or name not in self.siblings:  # while loading, the folder is on sys.path
            return builtins.__import__(name, globals, locals, fromlist, level)
        if name not in self.modules:
            self.modules[name] = load_module_from_path(self.folder / f"{name}.py", name=name)
        return self.modules[name]


def load_module_from_path(path: Path, *, name: str | None = None, seconds: float | None = None) -> types.ModuleType:
    """Execute the Python file or notebook ``path`` as a fresh module and return it.
    ``seconds``: the time its load may take, which a notebook's cells share (``grader.notebook``).

    A ``.py`` file raises whatever it raises while it runs (``SyntaxError``, ``ImportError``, ...).
    A notebook runs every code cell (see ``grader.notebook``); its ``NotebookRun`` report is kept
    in the module's ``__notebook_run__``.
    """
    path = Path(path).resolve()
    folder = str(path.parent)
    siblings = {p.stem for p in path.parent.glob("*.py")}
    module_name = name or f"_dlgrade_{path.stem}_{next(_unique)}"
    if path.suffix == ".ipynb":
        spec = None
        module = types.ModuleType(module_name)
        module.__file__ = str(path)
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
    imports = SiblingImports(path.parent, siblings)
    module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": imports}
    saved = {s: sys.modules.pop(s) for s in siblings if s in sys.modules}
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        if spec is None:
            module.__notebook_run__ = run_notebook(path, module, seconds=seconds)  # type: ignore[attr-defined]
        else:
            assert spec.loader is not None
            spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(folder)
        imports.modules = {s: sys.modules[s] for s in siblings if s in sys.modules}  # those imported while it loaded
        for s in siblings:
            sys.modules.pop(s, None)
        sys.modules.update(saved)
    return module


def load_reference(assignment: str, file: str) -> types.ModuleType:
    """The harness's own course's oracle ``reference/<assignment>/<file>.py`` as a module."""
    return load_module_from_path(Course(PROJECT_ROOT).oracle(assignment, file))
