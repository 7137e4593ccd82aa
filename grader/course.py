"""The course tree and its conventions: where assignments, student files, oracles and hidden tests live.

A course is a folder ``root`` with ``assignments/<name>/`` (handout, student files, public tests,
``hidden/`` tests) and ``reference/<name>/`` (the instructor's solutions, the oracles). Every other
module asks ``Course`` instead of restating these rules.

What is public in an assignment (what a student release holds) is every regular file at the top of
its folder: the handout ``README.md``, the student files, the public tests and the helper modules
those tests need (``conftest.py`` included). Its subfolders (``hidden/``) never are. A student
release is a course without ``reference/``.

Which tests are *of* a function (what a planted variant is graded on, and what the feedback in a
student's notebook lists under each function) is decided by one rule, ``Course.tests_of``. It is
lexical, so anyone can check it by reading:

* a *unit* of a student file is a top-level definition (a function, or a class with all its
  methods: ``"Adam._update"`` belongs to the unit ``Adam``); what lies outside every definition
  (an import, a module constant) is the unit ``MODULE``, which every test is of;
* a unit *uses* another when the other's name occurs in its source (a call, a base class, a name
  passed on), in the instructor's solution (``reference/``; in a student release, the stubs); the
  *users* of a set of units are the units that use them, transitively;
* a test *names* an identifier when it occurs (as a name, an attribute, or a string constant) in
  the test function, its decorators, or any top-level definition of its test file or of the
  assignment's ``conftest.py`` it refers to, transitively (its helpers, fixtures, strategies,
  tables of cases);
* the tests *of* a set of units are the tests (public and hidden) that name one of them or one of
  their users.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The harness's own checkout: the default course."""
_TEST_FILE_NAMES = ("conftest.py", "__init__.py")
MODULE = "<module>"
"""The unit of a student file's code outside every definition: every test is of it."""
MISTAKES_FILE = "mistakes.py"
"""``reference/<assignment>/mistakes.py``: the catalogue of known mistakes, never a student file."""
STUDENT_RELEASE = "dlgrade: this is a student release: "
"""How a refusal begins when a run asks a student release (``Course.is_student_release``) for
what only the instructor's course has."""


class CourseError(Exception):
    """The course tree is not laid out as the harness expects."""


@dataclass(frozen=True)
class Course:
    """A course tree: ``assignments/<name>/`` with student files, public tests and ``hidden/``."""

    root: Path

    @staticmethod
    @functools.lru_cache(maxsize=4096)  # asked for each call a test makes into student code
    def containing(path: Path) -> tuple[Course, str] | None:
        """The course and the assignment of a file: the innermost ``<root>/assignments/<name>/``
        above it (so a course checked out below a folder that is also named ``assignments`` is
        still found)."""
        parts = Path(path).resolve().parts
        for i in range(len(parts) - 3, 0, -1):  # assignments/<name>/<file>: <name> is a folder
            if parts[i] == "assignments":
                return Course(Path(*parts[:i])), parts[i + 1]
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

    def student_notebooks(self, assignment: str) -> list[str]:
        """The names of the notebooks a student submits in ``assignment`` (its student files
        that are notebooks)."""
        return [name for name in self.student_files(assignment) if name.endswith(".ipynb")]

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

    def test_files(self, assignment: str) -> list[str]:
        """``assignment``'s test files, public and hidden, relative to its folder, in the order
        pytest collects them (each folder's entries by name)."""
        folder = self.assignments_dir / assignment
        return [path.relative_to(folder).as_posix() for path in _test_files(folder)]

    def test_counts(self, assignment: str) -> dict[str, int]:
        """Each of ``test_files`` -> how many test functions it defines (0 when it does not parse)."""
        folder = self.assignments_dir / assignment
        counts = {}
        for file in self.test_files(assignment):
            try:
                tree = ast.parse((folder / file).read_bytes())
            except (SyntaxError, ValueError):
                tree = ast.Module(body=[], type_ignores=[])
            counts[file] = sum(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test") for node in ast.walk(tree))
        return counts

    def test_functions(self, assignment: str) -> frozenset[str]:
        """The names of ``assignment``'s test functions, public and hidden."""
        return frozenset(_names_in_tests(self.assignments_dir / assignment))

    def tests_naming(self, assignment: str, names: Iterable[str]) -> frozenset[str]:
        """The tests of ``assignment`` that name one of ``names`` (see this module's docstring)."""
        wanted = frozenset(names)
        return frozenset(test for test, named in _names_in_tests(self.assignments_dir / assignment).items() if named & wanted)

    def tests_of(self, assignment: str, units: Iterable[str]) -> frozenset[str]:
        """The tests of ``units`` (top-level definitions of the assignment's student files, or
        ``MODULE``) by the rule in this module's docstring: those that name them or their users."""
        units = frozenset(units)
        if MODULE in units:
            return self.test_functions(assignment)
        return self.tests_naming(assignment, _users(self._unit_identifiers(assignment), units))

    def _unit_identifiers(self, assignment: str) -> dict[str, set[str]]:
        """Each unit of the solution's student files (the stubs' in a student release) -> the
        identifiers its source names."""
        folder = self.assignments_dir / assignment if self.is_student_release else self.reference_dir / assignment
        graph: dict[str, set[str]] = {}
        for path in sorted(folder.glob("*.py")):
            if path.name in _TEST_FILE_NAMES or _is_test_file(path):
                continue
            for node in ast.parse(path.read_bytes()).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    graph.setdefault(node.name, set()).update(_identifiers(node) - {node.name})
        return graph

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


def _test_files(folder: Path) -> list[Path]:
    """The test files below ``folder``, in the order pytest collects them."""
    return sorted((path for path in folder.rglob("*.py") if _is_test_file(path)), key=lambda path: path.relative_to(folder).parts)


def _identifiers(node: ast.AST) -> set[str]:
    """The names, attributes, arguments and identifier-like string constants in ``node``."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.arg):
            found.add(sub.arg)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.isidentifier():
            found.add(sub.value)
    return found


def _top_level_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _users(graph: dict[str, set[str]], units: frozenset[str]) -> frozenset[str]:
    """``units`` and every unit of ``graph`` (unit -> identifiers it names) that uses one of them, transitively."""
    found = set(units)
    while more := {name for name, names in graph.items() if name not in found and names & found}:
        found |= more
    return frozenset(found)


@functools.cache
def _names_in_tests(folder: Path) -> dict[str, frozenset[str]]:
    """Every test function of the assignment folder (public and hidden) -> the identifiers it
    names, with those of the helpers it refers to (cached: a course's tests do not change while
    it is graded)."""
    shared: dict[str, set[str]] = {}
    conftest = folder / "conftest.py"
    if conftest.is_file():
        for node in ast.parse(conftest.read_bytes()).body:
            for name in _top_level_names(node):
                shared.setdefault(name, set()).update(_identifiers(node))
    tests: dict[str, frozenset[str]] = {}
    for path in _test_files(folder):
        definitions = {k: set(v) for k, v in shared.items()}
        nodes = ast.parse(path.read_bytes()).body
        for node in nodes:
            for name in _top_level_names(node):
                definitions.setdefault(name, set()).update(_identifiers(node))
        for node in nodes:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                named = _identifiers(node)
                todo = list(named)
                while todo:
                    for more in definitions.get(todo.pop(), ()):  # what its helpers name
                        if more not in named:
                            named.add(more)
                            todo.append(more)
                tests[node.name] = frozenset(named)
    return tests
