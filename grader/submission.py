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
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.course import Course
from grader.imports import assert_no_banned_imports
from grader.loader import load_module_from_path
from grader.remote import RemoteModule, StudentCodeError, Worker


def assignment_of(path: Path) -> str | None:
    """The assignment a test file belongs to: the folder right below ``assignments/``."""
    parts = Path(path).resolve().parts
    for i in range(len(parts) - 3, -1, -1):  # assignments/<name>/<file>: <name> is a folder
        if parts[i] == "assignments":
            return parts[i + 1]
    return None


@dataclass(frozen=True)
class CodeSource:
    """Where student files are read from: ``assignments_root/<assignment>/<file>``."""

    assignments_root: Path
    label: str

    @classmethod
    def for_run(cls, course_assignments: Path, submission: Path | None, against_reference: bool) -> CodeSource:
        if against_reference:  # the oracles of the course the tests belong to
            return cls(Course(course_assignments.parent).reference_dir, "reference")
        if submission is not None:
            inner = submission / "assignments"
            return cls(inner if inner.is_dir() else submission, f"submission {submission}")
        return cls(course_assignments, "tree")

    def path_for(self, assignment: str, file: str) -> Path:
        """The file to load; the reference keeps a notebook assignment's oracle as a ``.py``."""
        name = file if Path(file).suffix else f"{file}.py"
        path = self.assignments_root / assignment / name
        if self.label == "reference" and path.suffix == ".ipynb":
            path = path.with_suffix(".py")
        return path


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
        return value

    @staticmethod
    def fetch(value: Any) -> Any:
        return copy.deepcopy(value)


class StudentFile:
    """What a test gets for one student file: attributes fail the test clearly when missing."""

    def __init__(self, label: str, path: Path, module: LocalModule | RemoteModule | None, load_error: str | None) -> None:
        self._label = label
        self.path = path
        self._module = module
        self._load_error = load_error

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
        return getattr(module, name)

    def assert_no_banned_imports(self) -> None:
        """Fail when the file imports a library the numpy assignments forbid (``grader.imports``)."""
        __tracebackhide__ = True
        if not self.path.is_file():
            pytest.fail(f"{self._label} could not be loaded: {self._load_error}", pytrace=False)
        assert_no_banned_imports(self.path)

    def share(self, value: Any) -> Any:
        """Put ``value`` where student code runs, so that in-place updates can be seen (``fetch``)."""
        return self._loaded().share(value)

    def fetch(self, shared: Any) -> Any:
        """A plain copy of the current value of a shared object."""
        return self._loaded().fetch(shared)

    @property
    def cell_failures(self) -> list[str]:
        """For a notebook: the code cells that raised while it ran."""
        return list(self._loaded().cell_failures)


class CodeLoader:
    """Loads each student file once per run, in-process or in one worker process.

    It also serves the course's own *helpers*: modules in the course tree that a test needs to
    run beside the student's code (building a torch model or data loader where the student's
    functions run, measuring what they built, returning plain data). They are loaded from the
    course, never from the submission, and like student code they run in the worker.
    """

    def __init__(self, source: CodeSource, worker: Worker | None, course_assignments: Path) -> None:
        self.source = source
        self.worker = worker
        self.course_assignments = course_assignments
        self._local: dict[Path, StudentFile] = {}

    def get(self, assignment: str, file: str) -> StudentFile:
        return self._load(self.source.path_for(assignment, file), assignment)

    def helper(self, assignment: str, file: str) -> StudentFile:
        """The course's helper module ``assignments/<assignment>/<file>``, where student code runs."""
        return self._load(self.course_assignments / assignment / file, assignment)

    def _load(self, path: Path, assignment: str) -> StudentFile:
        label = f"{path.name} ({assignment})"
        if not path.is_file():
            return StudentFile(label, path, None, f"the file {self._shown(path)} is missing")
        if self.worker is not None:
            if path in self._local:  # a file that failed to load is not loaded again in this run
                return self._local[path]
            try:
                return StudentFile(label, path, self.worker.load(path, label=label), None)
            except StudentCodeError as error:
                self._local[path] = StudentFile(label, path, None, str(error))
                return self._local[path]
        if path not in self._local:
            try:
                self._local[path] = StudentFile(label, path, LocalModule(load_module_from_path(path)), None)
            except Exception as error:  # SyntaxError, ImportError, anything the file raises
                summary = traceback.format_exception_only(type(error), error)[-1].strip()
                self._local[path] = StudentFile(label, path, None, summary)
        return self._local[path]

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.source.assignments_root.parent))
        except ValueError:
            return str(path)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
