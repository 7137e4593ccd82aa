"""The student release holds what students need and nothing from which a solution or a hidden
test could be read: (a) no line of a solution region, (b) no hidden test's name or line, (c) no
file off the allowlist. Writing it twice gives the same tree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

from grader.course import PROJECT_ROOT
from grader.release import BEGIN, END

from .conftest import COURSE, write_release

TOP_LEVEL = {
    "README.md",  # the students' README (ci/classroom/README.md)
    ".gitignore",
    ".github/workflows/classroom.yml",
    "requirements.txt",
    "constraints.txt",
    "harness/dlgrade-0.1.0-py3-none-any.whl",
}
HELPERS = {  # course modules the public tests need beside the student's code, reviewed as public
    "conftest.py",  # a9: the notebook and input fixtures, and the readers of what comes back
    "course_rng.py",  # the course's seeded generator
    "course_early_stopping.py",  # a5: the spec's early-stopping trace, for expected values
    "graph_runner.py",  # a3: builds graphs of the student's Value
    "optim_runner.py",  # a7: steps the student's optimizer
    "torch_inputs.py",  # a9: models and loaders built where the student's code runs
}
PUBLIC_BY_DESIGN = {  # lines of solution regions that public tests or helpers state themselves
    "N, C, H, W = x.shape": "a8 test_conv.py unpacks an input's shape",
    "f, c, kh, kw = shape": "a4 test_initializers.py computes the spec's fans",
    "if len(shape) == 2:": "a4 test_initializers.py computes the spec's fans",
    "for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):": "a4 test_initializers.py builds a network",
    "stds.append(float(h.std()))": "a4 test_initializers.py measures activations layer by layer",
    "for l in range(1, L + 1):": "a2 test_mlp.py walks the layers",
    "for x, y in loader:": "a9 torch_inputs.py: the expected losses of an epoch, computed in the judge",
    "loss = loss_fn(model(x), y)": "a9 torch_inputs.py: the expected losses of an epoch",
    "losses.append(loss.item())": "a9 torch_inputs.py: the expected losses of an epoch",
    "with torch.no_grad():": "a9 torch_inputs.py and its handout",
}


def _trivial(line: str) -> bool:
    """Blank, or at most two words (``return out``, ``else:``, ``loss.backward()``)."""
    return len(re.findall(r"\w+", line)) <= 2


def _lines(path: Path) -> list[str]:
    """The stripped lines of a released text file; a notebook's cells (sources and outputs)."""
    if path.suffix == ".ipynb":
        notebook = nbformat.read(str(path), as_version=4)
        texts = [cell.source for cell in notebook.cells] + [str(o) for cell in notebook.cells for o in cell.get("outputs", [])]
    elif path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            texts = [wheel.read(name).decode() for name in wheel.namelist()]
    else:
        texts = [path.read_text()]
    return [line.strip() for text in texts for line in text.splitlines()]


def _released_lines(release: Path) -> dict[str, set[str]]:
    """Every line of every file of the release (the harness wheel's files included), per file."""
    return {str(p.relative_to(release)): set(_lines(p)) for p in release.rglob("*") if p.is_file()}


def _solution_lines() -> set[str]:
    lines: set[str] = set()
    for path in sorted(COURSE.reference_dir.rglob("*")):
        if path.suffix not in (".py", ".ipynb"):
            continue
        inside = False
        for line in _lines(path):
            if line in (BEGIN, END):
                inside = line == BEGIN
            elif inside and not _trivial(line):
                lines.add(line)
    return lines


def _hidden_tests() -> list[Path]:
    return sorted(COURSE.assignments_dir.glob("*/hidden/**/*.py"))


def test_the_release_holds_only_allowlisted_files(student_release):
    files = {str(p.relative_to(student_release)) for p in student_release.rglob("*") if p.is_file() or p.is_symlink()}
    print("\n".join(sorted(files)))
    allowed = set(TOP_LEVEL)
    for assignment in COURSE.assignments():
        folder = f"assignments/{assignment}"
        allowed |= {f"{folder}/README.md"} | {f"{folder}/{name}" for name in COURSE.student_files(assignment)}
        allowed |= {f"{folder}/{p.name}" for p in (COURSE.assignments_dir / assignment).glob("test_*.py")}
        allowed |= {f"{folder}/{name}" for name in HELPERS if (COURSE.assignments_dir / assignment / name).is_file()}
    assert files - allowed == set(), "files off the allowlist"
    assert allowed - files == set(), "files the students need are missing"
    assert not any("reference" in Path(f).parts or "hidden" in Path(f).parts for f in files)


def test_no_line_of_a_solution_region_is_released(student_release):
    solutions = _solution_lines()
    assert len(solutions) > 200  # the check looks at the real solutions
    leaks = {f"{name}: {line}" for name, lines in _released_lines(student_release).items() for line in lines & solutions if line not in PUBLIC_BY_DESIGN}
    assert not leaks, "\n".join(sorted(leaks))
    stale = {line for line in PUBLIC_BY_DESIGN if line not in solutions}
    assert not stale, f"no longer solution lines, drop them from PUBLIC_BY_DESIGN: {stale}"


def test_no_hidden_test_name_or_line_is_released(student_release):
    names, lines = set(), set()
    for path in _hidden_tests():
        source = path.read_text()
        names |= {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
        lines |= {line.strip() for line in source.splitlines() if not _trivial(line)}
    public = {line for a in COURSE.assignments() for name in COURSE.public_files(a) for line in _lines(COURSE.assignments_dir / a / name)}
    public |= {line for path in (PROJECT_ROOT / "grader").glob("*.py") for line in _lines(path)}
    hidden_only = lines - public  # hidden tests share imports and checks with the public tests and the harness
    assert len(names) > 50 and len(hidden_only) > 300  # the check looks at the real hidden tests
    released = _released_lines(student_release)
    leaked_lines = {f"{name}: {line}" for name, text in released.items() for line in text & hidden_only}
    assert not leaked_lines, "\n".join(sorted(leaked_lines))
    words = {word for text in released.values() for line in text for word in re.findall(r"\w+", line)}
    assert not names & words, sorted(names & words)


def test_the_release_is_the_same_every_time(student_release, tmp_path):
    again = write_release(tmp_path / "again")
    first = {p.relative_to(student_release): p.read_bytes() for p in student_release.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_the_release_never_writes_into_an_existing_folder(student_release):
    done = subprocess.run([sys.executable, "-m", "grader", "release", "--student", str(student_release)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 2
    assert "exists and is not an empty folder" in done.stderr and "Traceback" not in done.stderr
