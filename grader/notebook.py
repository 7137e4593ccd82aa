"""Run a notebook's code cells top to bottom into a module, as the course grades notebooks.

Each code cell's IPython syntax is first turned into plain Python by IPython's own
``TransformerManager`` (``%matplotlib inline`` becomes ``get_ipython().run_line_magic(...)``,
``!pip install x`` becomes ``get_ipython().system(...)``). The module gets a stand-in
``get_ipython()`` that never runs a shell command or an unknown magic: they do nothing and are
listed in the load report. The cell magics ``%%time``, ``%%timeit`` and ``%%capture`` run their body.
A cell that raises, or runs past ``cell_timeout`` seconds (``SIGALRM``, when loading on the main
thread; an outer alarm such as pytest-timeout's is saved and re-armed), is recorded and the
following cells still run. Given ``seconds``, the time the whole load may take (a grading worker's
load limit), a cell is also stopped when only a margin of it is left (a tenth, at most 5 s: the
time to hand the module back); later cells still get a moment each, within what is left, so
that slow experiment cells cost their own cells and never the functions the others define.
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import nbformat

_BODY_RUNNING_CELL_MAGICS = {"time", "timeit", "capture"}
CELL_TIMEOUT = 120.0
LOAD_MARGIN_SHARE = 0.1  # of a load's time limit, kept to hand the module back ...
LOAD_MARGIN_MOST_S = 5.0  # ... but never more than this
MIN_CELL_SECONDS = 1.0  # a cell's limit once only the margin is left (at most half of what remains of it)


class NotebookError(Exception):
    """The file is not a readable Jupyter notebook."""


class CellTimeout(Exception):
    """A code cell ran longer than its time limit."""


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``CellTimeout`` in the block after ``seconds``; restores any outer alarm."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise CellTimeout(f"the cell ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            remaining = max(1e-3, outer_delay - (time.monotonic() - start))
            signal.setitimer(signal.ITIMER_REAL, remaining, outer_interval)


@dataclass(frozen=True)
class CellFailure:
    """A code cell (0-based index among code cells) that raised while the notebook ran."""

    cell: int
    error: str

    def __str__(self) -> str:
        return f"code cell {self.cell + 1} raised {self.error}"


@dataclass
class NotebookRun:
    """What happened while a notebook ran: failed cells and the magics that were skipped."""

    failures: list[CellFailure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _InertShell:
    """A stand-in for ``get_ipython()``: magics and shell commands do nothing but are listed."""

    def __init__(self, namespace: dict[str, Any], run: NotebookRun) -> None:
        self._namespace = namespace
        self._run = run

    def run_line_magic(self, name: str, line: str, *args: Any) -> None:
        self._run.skipped.append(f"%{name} {line}".strip())

    def run_cell_magic(self, name: str, line: str, body: str) -> None:
        if name in _BODY_RUNNING_CELL_MAGICS:
            exec(compile(body, f"<cell magic %%{name}>", "exec"), self._namespace)
        else:
            self._run.skipped.append(f"%%{name} {line}".strip())

    def system(self, command: str) -> None:
        self._run.skipped.append(f"!{command}")

    def getoutput(self, command: str) -> list[str]:
        self._run.skipped.append(f"!{command}")
        return []


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` as nbformat 4. The file is UTF-8 JSON; a byte-order mark, as some
    Windows editors write it, is allowed. (nbformat is imported here: a run without notebooks
    does not pay for its JSON-schema validator.)"""
    import nbformat

    return nbformat.reads(Path(path).read_bytes().decode("utf-8-sig"), as_version=4)


def code_cells(path: Path) -> list[str]:
    """The notebook's code cells as plain Python source, in order."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        notebook = read_notebook(path)
    except Exception as error:
        raise NotebookError(f"{path.name} is not a valid Jupyter notebook: {error}") from None
    transformer = TransformerManager()
    sources = []
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            sources.append(transformer.transform_cell(str(cell.get("source", ""))))
    return sources


def _cell_limit(cell_timeout: float | None, end: float | None, deadline: float | None) -> float | None:
    """The next cell's time limit: ``cell_timeout``, and no later than ``end`` (a
    ``time.monotonic``). Once ``end`` has passed, a cell still gets time for a def or an import,
    ``MIN_CELL_SECONDS`` but at most half of what is left before ``deadline`` (the load's limit),
    so that however many slow cells follow, the load ends before it."""
    if end is None or deadline is None:
        return cell_timeout
    now = time.monotonic()
    left = max(end - now, min(MIN_CELL_SECONDS, (deadline - now) / 2), 1e-3)  # 0 would switch the alarm off
    return left if cell_timeout is None else min(cell_timeout, left)


def run_notebook(path: Path, module: types.ModuleType, *, cell_timeout: float | None = CELL_TIMEOUT, seconds: float | None = None) -> NotebookRun:
    """Execute the code cells of ``path`` in ``module.__dict__``; report failures and skips.
    ``seconds``: the time the whole load may take (see the module's docstring)."""
    run = NotebookRun()
    namespace = module.__dict__
    shell = _InertShell(namespace, run)
    namespace["get_ipython"] = lambda: shell
    deadline = None if seconds is None else time.monotonic() + seconds
    end = None if deadline is None else deadline - min(LOAD_MARGIN_SHARE * seconds, LOAD_MARGIN_MOST_S)
    for index, source in enumerate(code_cells(path)):
        try:
            with _time_limit(_cell_limit(cell_timeout, end, deadline)):
                exec(compile(source, f"{path.name}, code cell {index + 1}", "exec"), namespace)
        except Exception as error:  # a cell that raises is reported, later cells run
            summary = traceback.format_exception_only(type(error), error)[-1].strip()
            run.failures.append(CellFailure(index, summary))
    return run
