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

``write_student_release`` writes the students' whole template repository (``release --student``):
the assignments' public files with those stubs, the harness as a wheel, pinned requirements and
the GitHub Classroom workflow.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from grader.course import PROJECT_ROOT, Course

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


# ------------------------------------------------------------------------ the student release
TEMPLATE = Path("ci") / "classroom"
"""Where a course keeps the files of its student template: ``README.md`` (the students' README),
``classroom.yml`` (the GitHub Classroom workflow) and ``gitignore``."""
_TEMPLATE_FILES = {"README.md": "README.md", "classroom.yml": ".github/workflows/classroom.yml", "gitignore": ".gitignore"}
_HARNESS_SOURCES = ("pyproject.toml", "README.md", "grader")
_BUILD_DATE = "315532800"  # 1980-01-01, the earliest date a zip file can hold: the same wheel every time


def write_student_release(course: Course, out: Path, *, harness: Path = PROJECT_ROOT) -> list[str]:
    """Write the students' template repository for ``course`` to the new folder ``out`` and return
    its files (relative, sorted).

    Per assignment: its public files (``Course.public_files``), the student files made afresh from
    the reference's solution regions. Then the course's ``ci/classroom/`` template, the harness
    as a wheel built from ``harness`` (its ``grader`` package only), and ``requirements.txt``
    installing that wheel under the harness's pinned ``constraints.txt``. Nothing else: no
    ``reference/``, no ``hidden/``, no history. It is written beside ``out`` and renamed at the
    end, so that a failed release leaves nothing.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} exists and is not an empty folder: give a new one")
    template = course.root / TEMPLATE
    missing = [name for name in _TEMPLATE_FILES if not (template / name).is_file()]
    if missing:
        raise ReleaseError(f"{template} lacks {', '.join(missing)}: the student template needs them")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write_assignments(course, staging / "assignments")
        for name, target in _TEMPLATE_FILES.items():
            (staging / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template / name, staging / target)
        wheel = build_harness_wheel(harness, staging / "harness")
        shutil.copyfile(harness / "constraints.txt", staging / "constraints.txt")
        (staging / "requirements.txt").write_text(
            "# The course's tools: python -m pip install -r requirements.txt\n"
            "# The CPU build of PyTorch is enough for every assignment (and far smaller).\n"
            "--extra-index-url https://download.pytorch.org/whl/cpu\n"
            "-c constraints.txt\n"
            f"./harness/{wheel.name}\n"
        )
        os.chmod(staging, 0o755)  # mkdtemp's folder is private
        if out.exists():
            out.rmdir()
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def _write_assignments(course: Course, destination: Path) -> None:
    """Each assignment's public files; its student files released from the reference."""
    released = {student: source for source, student in course.release_pairs()}
    for assignment in course.assignments():
        folder = course.assignments_dir / assignment
        names = set(course.public_files(assignment)) | {s.name for s in released if s.parent == folder}
        for name in sorted(names):
            target = destination / assignment / name
            if folder / name in released:
                release_file(released[folder / name], target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(folder / name, target)


def build_harness_wheel(harness: Path, destination: Path) -> Path:
    """Build the ``dlgrade`` wheel from a clean copy of the harness's sources (never from a
    working tree, whose ``build/`` may hold stale files) into ``destination``; return its path."""
    if not (harness / "pyproject.toml").is_file():
        raise ReleaseError(f"{harness} is not the harness's source checkout (no pyproject.toml): the release builds the harness from it")
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlgrade-harness-") as scratch:
        source = Path(scratch) / "dlgrade"
        for name in _HARNESS_SOURCES:
            if (harness / name).is_dir():
                shutil.copytree(harness / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                source.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(harness / name, source / name)
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", scratch, str(source)]
        built = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": _BUILD_DATE})
        wheels = sorted(Path(scratch).glob("*.whl"))
        if built.returncode != 0 or len(wheels) != 1:
            raise ReleaseError(f"building the harness's wheel failed:\n{built.stdout}{built.stderr}")
        return Path(shutil.copy(wheels[0], destination))
