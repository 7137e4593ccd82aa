"""Whose code a test gets, and how: the ``student`` and ``reference`` fixtures' machinery.

A test never imports a student file. It asks ``student("activations.py")`` and gets a
``StudentFile``: the module, loaded once per run from the code source chosen for the run (the
files in the course tree, a submission directory, or the reference oracles), either in this
process or in a worker process (``grader.remote``). Anything wrong with the file (missing, a
syntax error, an import that fails, a missing function) fails the test that asked, with a message
saying what is missing, and no other test.
"""

from __future__ import annotations

import copy
import inspect
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import wire
from grader.calls import Call, CallLog, RecordedFunction, plain_copy
from grader.course import Course
from grader.imports import assert_no_banned_imports
from grader.loader import load_module_from_path
from grader.remote import RemoteFunction, RemoteModule, StudentCodeError, Worker
from grader.worker import error_summary


@dataclass(frozen=True)
class CodeSource:
    """Where the files a test asks for are read from: ``assignments_root/<assignment>/<file>``,
    or, for the oracles, the course's ``reference/`` (``Course.oracle``)."""

    assignments_root: Path
    label: str
    oracles: Course | None = None  # set when the run tests the reference instead of student code

    @classmethod
    def for_run(cls, course: Course, submission: Path | None, against_reference: bool) -> CodeSource:
        if against_reference:
            return cls(course.reference_dir, "reference", oracles=course)
        if submission is not None:
            return cls(Course.submitted_assignments(submission), f"submission {submission}")
        return cls(course.assignments_dir, "tree")

    def path_for(self, assignment: str, file: str) -> Path:
        """The file to load (``file`` without a suffix means ``.py``)."""
        if self.oracles is not None:
            return self.oracles.oracle(assignment, file)
        return self.assignments_root / assignment / (file if Path(file).suffix else f"{file}.py")


class LocalModule:
    """A module loaded in this process, with the same ``share``/``fetch`` as a remote one."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        run = getattr(module, "__notebook_run__", None)
        self.cell_failures = [str(f) for f in run.failures] if run else []
        self.skipped_magics = list(run.skipped) if run else []

    def __contains__(self, name: str) -> bool:
        return hasattr(self._module, name) and not name.startswith("__")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    @staticmethod
    def share(value: Any) -> Any:
        """What the worker's ``put`` gives student code: plain data copied (arrays in the same kind
        of memory layout), so the caller's own arrays never change; the student's objects as
        themselves."""
        if isinstance(value, np.ndarray):
            return wire.copy_laid_out(value)
        if type(value) in (list, tuple):
            return type(value)(LocalModule.share(v) for v in value)
        if type(value) is dict:
            return {k: LocalModule.share(v) for k, v in value.items()}
        return value

    @staticmethod
    def fetch(value: Any) -> Any:
        return copy.deepcopy(value)


class StudentFile:
    """What a test gets for one student file: attributes fail the test clearly when missing.

    With a ``CallLog`` (``calls``, and the ``assignment`` and ``file`` the test asked for), its
    functions record every call there (``grader.calls``).
    """

    def __init__(
        self,
        label: str,
        path: Path,
        module: LocalModule | RemoteModule | None,
        load_error: str | None,
        *,
        calls: CallLog | None = None,
        assignment: str = "",
        file: str = "",
    ) -> None:
        self._label = label
        self.path = path
        self._module = module
        self._load_error = load_error
        self._calls = calls
        self._where = (assignment, file)

    def _loaded(self) -> LocalModule | RemoteModule:
        __tracebackhide__ = True
        if self._module is None:
            pytest.fail(f"{self._label} could not be loaded: {self._load_error}", pytrace=False)
        return self._module

    def __repr__(self) -> str:
        return f"<student file {self._label}>"

    def __getattr__(self, name: str) -> Any:
        __tracebackhide__ = True
        if name.startswith("_") or name.startswith("hypothesis_"):  # private, or a tool probing
            raise AttributeError(name)
        module = self._loaded()
        if name not in module:
            failures = "".join(f"\n  ({f})" for f in module.cell_failures)
            pytest.fail(f"{self._label} does not define {name}{failures}", pytrace=False)
        value = getattr(module, name)
        if self._calls is not None and (type(value) is RemoteFunction or inspect.isfunction(value)):
            return RecordedFunction(value, self._calls, *self._where, name)
        return value

    def assert_no_banned_imports(self) -> None:
        """Fail when the file imports a library the numpy assignments forbid (``grader.imports``)."""
        __tracebackhide__ = True
        if not self.path.is_file():
            pytest.fail(f"{self._label} could not be loaded: {self._load_error}", pytrace=False)
        assert_no_banned_imports(self.path)

    def share(self, value: Any) -> Any:
        """Put ``value`` where student code runs, so that in-place updates can be seen (``fetch``).
        Recorded as a call of ``share`` (``grader.calls``): what traces a handle to its value."""
        shared = self._loaded().share(value)
        if self._calls is not None:
            self._calls.append(Call(*self._where, "share", (plain_copy(value),), {}, passed=(value,), returned=shared))
        return shared

    def fetch(self, shared: Any) -> Any:
        """A plain copy of the current value of a shared object."""
        return self._loaded().fetch(shared)

    @property
    def cell_failures(self) -> list[str]:
        """For a notebook: the code cells that raised while it ran."""
        return list(self._loaded().cell_failures)


class InProcess:
    """Runs student code in this process (the student profile: ``print`` and ``breakpoint()``
    work); the twin of ``grader.remote.Worker``, which runs it in a worker process."""

    def __init__(self) -> None:
        self._modules: dict[Path, LocalModule] = {}

    def load(self, path: Path, *, label: str) -> LocalModule:
        """The module of ``path``, loaded once; ``StudentCodeError`` says why it did not load."""
        if path not in self._modules:
            try:
                self._modules[path] = LocalModule(load_module_from_path(path))
            except Exception as error:  # SyntaxError, ImportError, anything the file raises
                raise StudentCodeError(error_summary(error)) from None
        return self._modules[path]

    def close(self) -> None:
        self._modules.clear()


Runner = InProcess | Worker
"""Where student code runs, chosen once per run by the plugin."""


class CodeLoader:
    """Loads each student file once per run, where the run's ``Runner`` says student code runs.

    It also serves the course's own *helpers*: modules in the course tree that a test needs to
    run beside the student's code (building a torch model or data loader where the student's
    functions run, measuring what they built, returning plain data). They are loaded from the
    course, never from the submission, and like student code they run where it runs.
    """

    def __init__(
        self,
        source: CodeSource,
        runner: Runner,
        course_assignments: Path,
        copies: dict[Path, Path] | None = None,
        calls: CallLog | None = None,
    ) -> None:
        self.source = source
        self.runner = runner
        self.course_assignments = course_assignments
        self.copies = copies or {}  # a folder of the judge's -> the worker's read-only copy of it
        self._unloadable: dict[Path, StudentFile] = {}  # a file that failed is not loaded again
        self.notes: list[str] = []  # for the student: what loading their files left out
        self.calls = calls  # where the student's functions record their calls (grader.calls), if anywhere

    def get(self, assignment: str, file: str) -> StudentFile:
        """The student's ``file``; its functions record their calls in ``calls``, named by the
        file's stem (``"activations"``, ``"init"`` for ``init.ipynb``)."""
        return self._load(self.source.path_for(assignment, file), assignment, record=Path(file).stem)

    def helper(self, assignment: str, file: str) -> StudentFile:
        """The course's helper module ``assignments/<assignment>/<file>``, where student code runs;
        its functions record their calls too (they run the student's objects: a3's graphs)."""
        return self._load(self.course_assignments / assignment / file, assignment, record=Path(file).stem)

    def _load(self, path: Path, assignment: str, record: str | None = None) -> StudentFile:
        label = f"{path.name} ({assignment})"
        if not path.is_file():
            return StudentFile(label, path, None, f"the file {self._shown(path)} is missing")
        if path in self._unloadable:
            return self._unloadable[path]
        calls = self.calls if record is not None else None
        try:  # the runner keeps what it loaded (a worker reloads after a crash)
            module = self.runner.load(self._worker_path(path), label=label)
            return self._noted(StudentFile(label, path, module, None, calls=calls, assignment=assignment, file=record or ""))
        except StudentCodeError as error:
            self._unloadable[path] = StudentFile(label, path, None, str(error))
            return self._unloadable[path]

    def _noted(self, file: StudentFile) -> StudentFile:
        """``file``, after noting the notebook lines it skipped (IPython magics, shell commands)."""
        skipped = file._loaded().skipped_magics
        note = f"{file._label}: these IPython lines were skipped (they are not Python): {'; '.join(skipped)}"
        if skipped and note not in self.notes:
            self.notes.append(note)
        return file

    def _worker_path(self, path: Path) -> Path:
        """Where the worker finds ``path``: its own copy. Static checks read ``path`` itself, the
        judge's copy, which the worker cannot change."""
        for judged, theirs in self.copies.items():
            if path.is_relative_to(judged):
                return theirs / path.relative_to(judged)
        return path

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.source.assignments_root.parent))
        except ValueError:
            return str(path)

    def close(self) -> None:
        self.runner.close()
