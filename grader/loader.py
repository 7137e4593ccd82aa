"""Load a course file (a student's ``.py`` or ``.ipynb``, or the reference's) as a module, by path.

A student file may import the other ``.py`` files of its folder (``import layers`` from
``mlp.py``). Such an import is answered by the file's own ``__import__`` (``SiblingImports``), at
load time and later, inside a function (``def f(): from activations import softmax``): each
sibling is loaded once per top-level load, as a course file itself, and every file of that load
gets the same one. Siblings never enter ``sys.modules`` under their plain names, so a student's
``layers`` and the reference's ``layers`` never shadow each other in one process. The folder is
on ``sys.path`` while the file loads, for what else it holds; whatever that puts in
``sys.modules`` under a sibling's name is taken out again.

Each loaded file is registered in ``sys.modules`` under its own unique name, as an import does:
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
    """The ``__import__`` of the course files of one top-level load: ``import <sibling>`` (another
    ``.py`` file of the folder) gives the module ``modules`` holds for it, loading the sibling the
    first time (registered before it runs, so siblings may import each other in a cycle). Every
    other import is Python's own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.siblings = {p.stem for p in folder.glob("*.py")}
        self.modules: dict[str, types.ModuleType] = {}

    def __call__(self, name: str, globals: dict | None = None, locals: dict | None = None, fromlist: tuple = (), level: int = 0) -> types.ModuleType:
        if level != 0 or name not in self.siblings:
            return builtins.__import__(name, globals, locals, fromlist, level)
        if name not in self.modules:
            _load(self.folder / f"{name}.py", self, None)
        return self.modules[name]


def load_module_from_path(path: Path, *, name: str | None = None, seconds: float | None = None) -> types.ModuleType:
    """Execute the Python file or notebook ``path`` as a fresh module and return it. ``name``: its
    name in ``sys.modules`` (default a unique one; a given one replaces a module of that name, as
    a reload does). ``seconds``: the time its load may take, which a notebook's cells share
    (``grader.notebook``).

    A ``.py`` file raises whatever it raises while it runs (``SyntaxError``, ``ImportError``, ...).
    A notebook runs every code cell (see ``grader.notebook``); its ``NotebookRun`` report is kept
    in the module's ``__notebook_run__``.
    """
    path = Path(path).resolve()
    return _load(path, SiblingImports(path.parent), seconds, name)


def _load(path: Path, imports: SiblingImports, seconds: float | None, module_name: str | None = None) -> types.ModuleType:
    """Run ``path`` as the module ``module_name`` (default a unique name) with ``imports`` as its
    ``__import__``."""
    module_name = module_name or f"_dlgrade_{path.stem}_{next(_unique)}"
    if path.suffix == ".ipynb":
        spec = None
        module = types.ModuleType(module_name)
        module.__file__ = str(path)
    else:
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = {**builtins.__dict__, "__import__": imports}
    if path.suffix == ".py":
        imports.modules[path.stem] = module  # a sibling importing this file gets this module
    folder = str(path.parent)
    saved = {s: sys.modules.pop(s) for s in imports.siblings if s in sys.modules}
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        if spec is None:
            module.__notebook_run__ = run_notebook(path, module, seconds=seconds)  # type: ignore[attr-defined]
        else:
            assert spec.loader is not None
            spec.loader.exec_module(module)
    except BaseException:
        imports.modules.pop(path.stem, None)
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(folder)
        for s in imports.siblings:
            sys.modules.pop(s, None)
        sys.modules.update(saved)
    return module


def load_reference(assignment: str, file: str) -> types.ModuleType:
    """The harness's own course's oracle ``reference/<assignment>/<file>.py`` as a module."""
    return load_module_from_path(Course(PROJECT_ROOT).oracle(assignment, file))
