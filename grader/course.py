"""The course tree and its conventions: where assignments, student files, oracles and hidden tests live.

A course is a folder ``root`` with ``assignments/<name>/`` (handout, student files, public tests,
``hidden/`` tests) and ``reference/<name>/`` (the instructor's solutions, the oracles). Every other
module asks ``Course`` instead of restating these rules.

What is public in an assignment (what a student release holds) is every regular file at the top of
its folder: the handout ``README.md``, the student files, the public tests and the helper modules
those tests need (``conftest.py`` included). Its subfolders (``hidden/``) never are. A student
release is a course without ``reference/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The harness's own checkout: the default course."""
_TEST_FILE_NAMES = ("conftest.py", "__init__.py")
MISTAKES_FILE = "mistakes.py"
"""``reference/<assignment>/mistakes.py``: the catalogue of known mistakes, never a student file."""


class CourseError(Exception):
    """The course tree is not laid out as the harness expects."""


@dataclass(frozen=True)
class Course:
    """A course tree: ``assignments/<name>/`` with student files, public tests and ``hidden/``."""

    root: Path

    @classmethod
    def containing(cls, path: Path) -> tuple[Course, str] | None:
        """The course and the assignment of a file: the innermost ``<root>/assignments/<name>/``
        above it (so a course checked out below a folder that is also named ``assignments`` is
        still found)."""
        parts = Path(path).resolve().parts
        for i in range(len(parts) - 3, 0, -1):  # assignments/<name>/<file>: <name> is a folder
            if parts[i] == "assignments":
                return cls(Path(*parts[:i])), parts[i + 1]
        return None

    @staticmethod
    def submitted_assignments(submission: Path) -> Path:
        """Where a submission keeps its assignment folders: ``SUB/assignments/`` when it has one
        (laid out like the template), else ``SUB/`` itself."""
        inner = submission / "assignments"
        return inner if inner.is_dir() and not inner.is_symlink() else submission

    @property
    def assignments_dir(self) -> Path:
        return self.root / "assignments"

    @property
    def reference_dir(self) -> Path:
        """The instructor's solutions, the oracles: ``reference/<assignment>/``."""
        return self.root / "reference"

    @property
    def is_student_release(self) -> bool:
        """A course without the instructor's oracles: what ``release --student`` writes."""
        return not self.reference_dir.is_dir()

    def oracle(self, assignment: str, file: str) -> Path:
        """The oracle of a student file (``"activations.py"``, ``"init.ipynb"``, or a name without
        suffix for ``.py``): a notebook assignment's oracle is the ``.py`` of the same name."""
        return self.reference_dir / assignment / f"{Path(file).stem}.py"

    def mistakes(self, assignment: str) -> Path:
        """The catalogue of known mistakes of ``assignment`` (``grader.diagnosis``): judge-only,
        beside the oracles."""
        return self.reference_dir / assignment / MISTAKES_FILE

    def is_hidden(self, path: Path) -> bool:
        """A hidden test: a file below ``assignments/<name>/hidden/``."""
        relative = Path(path).resolve().relative_to(self.assignments_dir.resolve())
        return "hidden" in relative.parts[1:-1]

    def assignments(self) -> list[str]:
        """The assignments that have tests, in name order."""
        if not self.assignments_dir.is_dir():
            raise CourseError(f"{self.root} is not a course: it has no assignments/ folder")
        return sorted(
            p.name
            for p in self.assignments_dir.iterdir()
            if p.is_dir() and not p.name.startswith((".", "_")) and any(_is_test_file(f) for f in p.rglob("*.py"))
        )

    def release_pairs(self) -> list[tuple[Path, Path]]:
        """(instructor's file, student's file) for every reference file with solution regions:
        ``reference/<a>/<file>.py`` -> ``assignments/<a>/<file>.py``, and a notebook assignment's
        ``reference/<a>/<name>.ipynb`` -> ``assignments/<a>/<name>.ipynb`` (its ``<name>.py`` is
        the oracle, not a student file)."""
        from grader.release import has_solutions

        pairs = []
        for source in sorted(self.reference_dir.glob("*/*")):
            if source.suffix not in (".py", ".ipynb") or source.name in ("__init__.py", MISTAKES_FILE):
                continue
            if source.suffix == ".py" and (not has_solutions(source.read_text()) or source.with_suffix(".ipynb").is_file()):
                continue  # no solution regions, or the oracle module of a notebook assignment
            pairs.append((source, self.assignments_dir / source.parent.name / source.name))
        return pairs

    def notebooks(self) -> dict[str, str]:
        """The assignments submitted as a notebook: ``{assignment: "<name>.ipynb"}``, for each
        instructor's notebook ``reference/<a>/<name>.ipynb`` beside its oracle ``<name>.py``."""
        return {
            p.parent.name: p.name for p in sorted((self.root / "reference").glob("*/*.ipynb")) if p.with_suffix(".py").is_file()
        }

    def student_files(self, assignment: str) -> list[str]:
        """The names of the files a student edits in ``assignment``: those released from the
        reference, or without a reference every ``.py``/``.ipynb`` of the template's listing
        that is not a test (the course's helper modules are never taken from a submission)."""
        listed = self._code_files(assignment)
        released = {student.name for _, student in self.release_pairs() if student.parent == self.assignments_dir / assignment}
        return [name for name in listed if name in released] if released else listed

    def _code_files(self, assignment: str) -> list[str]:
        """The ``.py`` and ``.ipynb`` files of ``assignment``'s folder that are not tests."""
        return sorted(
            p.name
            for p in (self.assignments_dir / assignment).iterdir()
            if p.is_file() and p.suffix in (".py", ".ipynb") and not _is_test_file(p) and p.name not in _TEST_FILE_NAMES
        )

    def public_files(self, assignment: str) -> list[str]:
        """The names of the files of ``assignment`` that students get: the regular files at the
        top of its folder (never a subfolder such as ``hidden/``, never a dot-file)."""
        folder = self.assignments_dir / assignment
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith("."))

    def helper_files(self, assignment: str) -> list[str]:
        """The course's public helper modules of ``assignment`` (run beside student code, e.g.
        ``course_rng.py``): its ``.py`` files that are neither student files nor tests."""
        students = set(self.student_files(assignment))
        return [name for name in self._code_files(assignment) if name.endswith(".py") and name not in students]

    def flat_files(self, folder: Path, assignments: list[str]) -> dict[str, list[str]]:
        """A flat upload (the student files at the top level of ``folder``, as a drag-and-drop
        upload to Gradescope gives them): assignment -> its files found there. A file name that
        belongs to several of ``assignments`` is given to none (the folder layout then decides)."""
        owners: dict[str, list[str]] = {}
        for assignment in assignments:
            for name in self.student_files(assignment):
                owners.setdefault(name, []).append(assignment)
        found: dict[str, list[str]] = {}
        for name, owner in sorted(owners.items()):
            path = folder / name
            if len(owner) == 1 and path.is_file() and not path.is_symlink():
                found.setdefault(owner[0], []).append(name)
        return found

    def ini_file(self, scratch: Path) -> Path:
        """The course's pytest configuration (its pyproject.toml or pytest.ini), else an empty one."""
        pyproject = self.root / "pyproject.toml"
        if pyproject.is_file() and "[tool.pytest.ini_options]" in pyproject.read_text():
            return pyproject
        if (self.root / "pytest.ini").is_file():
            return self.root / "pytest.ini"
        empty = scratch / "pytest.ini"
        empty.write_text("[pytest]\n")
        return empty


def _is_test_file(path: Path) -> bool:
    return path.suffix == ".py" and (path.name.startswith("test_") or path.stem.endswith("_test"))
