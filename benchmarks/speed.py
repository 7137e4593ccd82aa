"""How fast grading is: dlgrade on the course, a roster in parallel, and beside nbgrader, Otter and pytest.

    python benchmarks/speed.py [--runs 3] [--n 6] [--out benchmarks/results/speed.json] [--quick] [--only GROUP]

Every figure is the median of ``--runs`` runs (default 3) of one command, as wall time and as CPU
time (user + system of the command and every process it started: counted in a cgroup of its own
when run as root, else ``getrusage`` of the processes it waited for), with
what the run reported (points, tests) so that a fast failure is not mistaken for a fast grade.
Only the project's public commands are timed:

1. **course**: ``python -m grader grade reference`` (every assignment, public and hidden tests,
   sandboxed), the same with ``--assignment a1_foundations``, and the instructor's check of a1
   (``pytest assignments/a1_foundations -p no:cacheprovider --dlgrade-against-reference``: the
   student profile on public and hidden tests, the oracle in place of the student's code).
2. **batch**: ``python -m grader batch`` of a roster of ``--n`` copies of the reference's a1
   (``--assignment a1_foundations``) with ``--jobs 1`` and ``--jobs 2``, and of ``--n``/2 copies
   (cost per submission should not grow with N; 2 jobs should be at least 1.8x faster on 2 cores).
   N is 6 by default: one a1 takes 15 to 60 s on a shared 2-core machine, so that the batch's
   four timings (N and N/2, 1 and 2 jobs) stay within a few minutes per run.
3. **student**: for every assignment, a student's run, ``pytest assignments/<a>`` in the
   students' release (``release --student``: public tests only) whose student files are the
   reference's, beside its floor: plain pytest (the harness's plugin off) collecting one trivial
   test in a module that imports the third-party modules the assignment's tests and solutions
   import (numpy, hypothesis, torch...), and those modules' submodules that the run loads on
   first use (``torch._dynamo``, which ``torch.optim``'s first step imports), with the ratio of
   the two. Both run with bytecode written and read (as on a student's machine), after one
   untimed run, which records the modules the student's run imported.
4. **homework**: the same three numpy functions and checks (``benchmarks/homework/``: a tiny
   course, its ``checks.py``, the solution in ``reference/hw_numpy/ops.py``) graded by dlgrade
   (``grade --course benchmarks/homework``, sandboxed, and the student profile's ``pytest``), by
   nbgrader (``nbgrader autograde``) and by Otter-Grader (``otter run``, no container), each
   installed from the package index into its own cached virtual environment
   (``benchmarks/.venvs/``; a tool that cannot be installed is skipped with the reason), and by
   plain pytest on the same checks, with and without hypothesis's plugin (the floor).

Prints a table (and the batch's speed-up and cost per submission) and writes it all as JSON to
``--out`` with the machine's description. ``--quick``: one run each and N = 4, to try it out;
``--only course|batch|student|homework`` (repeatable): only those groups.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from grader.course import Course
from grader.imports import imported_names

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = ROOT / "benchmarks" / "homework"
VENVS = ROOT / "benchmarks" / ".venvs"
A1 = "a1_foundations"
HW = "hw_numpy"
# The competitors, pinned (the versions measured), with the numpy of constraints.txt and a kernel.
TOOLS = {
    "nbgrader": ["nbgrader==0.9.6", "numpy==2.4.6"],
    "otter": ["otter-grader==7.0.0", "ipykernel", "numpy==2.4.6"],
}
sys.path.insert(0, str(HOMEWORK))
from checks import CHECKS  # noqa: E402  (the homework's checks, one table for every tool)


@dataclass
class Row:
    """One timed command: its medians over the runs, every run's figures, what it reported."""

    group: str
    what: str
    command: str = ""
    wall_s: float | None = None
    cpu_s: float | None = None
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    result: str = ""
    skipped: str = ""
    cpu_source: str = ""


@dataclass
class Run:
    wall: float
    cpu: float
    status: int
    stdout: str
    stderr: str
    cpu_source: str  # "cgroup" or "rusage" (see run_once)


CGROUP_ROOTS = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))


def cgroup_cpu_seconds(group: Path) -> float:
    """CPU seconds of every process that ever ran in ``group`` (cgroup v1 cpuacct, or v2 cpu.stat)."""
    if (group / "cpuacct.usage").is_file():
        return int((group / "cpuacct.usage").read_text()) / 1e9
    usage = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
    return int(usage["usage_usec"]) / 1e6


def new_cgroup() -> Path | None:
    """A fresh cgroup that counts CPU time, where this process may make one (root); else None."""
    for root in CGROUP_ROOTS:
        if (root / "cpuacct.usage").is_file() or (root / "cgroup.controllers").is_file():
            group = root / f"dlgrade-speed-{os.getpid()}-{time.monotonic_ns()}"
            try:
                group.mkdir()
                cgroup_cpu_seconds(group)
                return group
            except (OSError, KeyError, ValueError):
                try:
                    group.rmdir()
                except OSError:
                    pass
    return None


def run_once(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``command`` to the end: its wall seconds, and the CPU seconds of it and of every
    process it started. CPU comes from a cgroup of its own where one can be made (it also counts
    sandboxed workers, whose namespace's init is killed before it can pass their time on);
    else from ``getrusage`` of the children this process waited for."""
    group = new_cgroup()
    join = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None  # type: ignore[operator]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, preexec_fn=join)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if group is not None:
        cpu = cgroup_cpu_seconds(group)
        try:
            group.rmdir()
        except OSError:  # a process it left behind is still in it
            pass
    return Run(wall, cpu, done.returncode, done.stdout, done.stderr, "cgroup" if group else "rusage")


def measure(
    row: Row, command: list[str], *, runs: int, cwd: Path = ROOT, env: dict[str, str] | None = None,
    before: Callable[[], None] | None = None, result: Callable[[Run], str],
) -> Row:  # fmt: skip
    """Time ``command`` ``runs`` times (``before`` each, untimed) into ``row``; ``result`` says
    what the last run reported."""
    row.command = " ".join(command)
    for _ in range(runs):
        if before is not None:
            before()
        done = run_once(command, cwd, env)
        row.walls.append(round(done.wall, 2))
        row.cpus.append(round(done.cpu, 2))
    row.wall_s = round(statistics.median(row.walls), 2)
    row.cpu_s = round(statistics.median(row.cpus), 2)
    row.result = result(done)
    row.cpu_source = done.cpu_source
    print(f"  {row.group}: {row.what}: {row.wall_s} s wall, {row.cpu_s} s CPU; {row.result}", file=sys.stderr, flush=True)
    return row


# -- what a run reported -------------------------------------------------------------------
def report_points(path: Path) -> Callable[[Run], str]:
    """Points of a ``grade --format json`` report."""

    def read(run: Run) -> str:
        if not path.is_file():
            return f"exit {run.status}, no report: {tail(run.stderr)}"
        report = json.loads(path.read_text())
        tests = [t for a in report["assignments"].values() for t in a["tests"]]
        lost = [f"{t['name']}: {t['message'].splitlines()[0][:100]}" for t in tests if t["outcome"] == "failed"]
        errors = [f"{name}: {a['error'][:100]}" for name, a in report["assignments"].items() if a["error"]]
        shown = "; ".join((errors + lost)[:3])
        return f"{report['earned']:g}/{report['possible']:g} points, {len(tests)} tests" + (f" (lost: {shown})" if shown else "")

    return read


def pytest_summary(run: Run) -> str:
    """pytest's last summary line (``57 passed in 3.1s``), without the time."""
    lines = [line.strip("= ") for line in run.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    return re.sub(r" in [\d.]+s.*", "", lines[-1]) if lines else f"exit {run.status}: {tail(run.stdout + run.stderr)}"


def batch_result(run: Run) -> str:
    line = next((l for l in run.stdout.splitlines() if l.startswith("dlgrade batch:")), "")
    match = re.search(r"(\d+ of \d+) submissions fully graded", line)
    return f"{match.group(1)} graded" if match else f"exit {run.status}: {tail(run.stderr)}"


def tail(text: str) -> str:
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:160] if lines else "(no output)"


# -- the competitors' environments -----------------------------------------------------------
def tool_venv(name: str) -> Path | str:
    """The cached virtual environment of tool ``name`` (installed on first use), or why there is none."""
    venv = VENVS / name
    stamp = venv / "installed.txt"
    wanted = "\n".join(TOOLS[name])
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    print(f"  installing {name} into {venv} ...", file=sys.stderr, flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a virtual environment: {tail(made.stderr)}"
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *TOOLS[name]], capture_output=True, text=True)
    if pip.returncode != 0:
        return f"pip install {' '.join(TOOLS[name])} failed: {tail(pip.stderr)}"
    stamp.write_text(wanted)
    return venv


def tool_env(venv: Path) -> dict[str, str]:
    """The environment a tool runs in: its own ``bin`` first (its kernel, its ``alembic``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def solution_code() -> str:
    """The homework's solution as a student would hand it in (the reference, markers and all:
    they are comments)."""
    return (HOMEWORK / "reference" / HW / "ops.py").read_text()


def nbgrader_metadata(grade_id: str, **flags: object) -> dict[str, object]:
    cell = {"grade_id": grade_id, "schema_version": 3, "locked": False, "solution": False, "grade": False, "task": False}
    return {"nbgrader": {**cell, **flags}}


def setup_nbgrader(folder: Path, venv: Path) -> Path:
    """An nbgrader course: the instructor's notebook (a solution cell, a graded test cell per
    check), the assignment generated, one student's submission (the solved notebook)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells.append(nbformat.v4.new_code_cell(solution_code(), metadata=nbgrader_metadata("ops", solution=True)))
    for name, check in CHECKS.items():
        cell = nbformat.v4.new_code_cell(f"import numpy as np\n{check}", metadata=nbgrader_metadata(f"test_{name}", grade=True, locked=True, points=1))
        notebook.cells.append(cell)
    (folder / "source" / HW).mkdir(parents=True)
    nbformat.write(notebook, folder / "source" / HW / f"{HW}.ipynb")
    (folder / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "speed"\n'
        f'c.CourseDirectory.db_assignments = [dict(name="{HW}")]\nc.CourseDirectory.db_students = [dict(id="student")]\n'
    )
    generated = subprocess.run(["nbgrader", "generate_assignment", HW, "--force"], cwd=folder, env=tool_env(venv), capture_output=True, text=True)
    if generated.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed: {tail(generated.stderr)}")
    (folder / "submitted" / "student" / HW).mkdir(parents=True)
    shutil.copy(folder / "source" / HW / f"{HW}.ipynb", folder / "submitted" / "student" / HW)
    return folder


def nbgrader_result(folder: Path, venv: Path) -> Callable[[Run], str]:
    def read(run: Run) -> str:
        exported = subprocess.run(["nbgrader", "export"], cwd=folder, env=tool_env(venv), capture_output=True, text=True)
        grades = folder / "grades.csv"
        if exported.returncode != 0 or not grades.is_file():
            return f"exit {run.status}, no grades: {tail(run.stderr)}"
        row = next(csv.DictReader(grades.open()))
        return f"{float(row['score']):g}/{float(row['max_score']):g} points"

    return read


def setup_otter(folder: Path, venv: Path) -> Path:
    """Otter's autograder zip (``otter generate`` from a test file per check, OK format) and the
    student's notebook."""
    (folder / "tests").mkdir(parents=True)
    for name, check in CHECKS.items():
        case = {"code": f">>> import numpy as np\n>>> {check}", "hidden": False, "locked": False}
        test = {"name": name, "points": 1, "suites": [{"cases": [case], "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
        (folder / "tests" / f"{name}.py").write_text(f"OK_FORMAT = True\n\ntest = {test!r}\n")
    generated = subprocess.run(["otter", "generate"], cwd=folder, env=tool_env(venv), capture_output=True, text=True)
    if generated.returncode != 0 or not (folder / "autograder.zip").is_file():
        raise RuntimeError(f"otter generate failed: {tail(generated.stdout + generated.stderr)}")
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells.append(nbformat.v4.new_code_cell(solution_code()))
    nbformat.write(notebook, folder / f"{HW}.ipynb")
    (folder / "out").mkdir()
    return folder


def otter_result(folder: Path) -> Callable[[Run], str]:
    def read(run: Run) -> str:
        results = folder / "out" / "results.json"
        if not results.is_file():
            return f"exit {run.status}, no results: {tail(run.stdout + run.stderr)}"
        scored = [t for t in json.loads(results.read_text())["tests"] if "max_score" in t]
        if not scored:
            return f"no scored tests: {tail(results.read_text())}"
        return f"{sum(t['score'] for t in scored):g}/{sum(t['max_score'] for t in scored):g} points"

    return read


# -- the three groups -----------------------------------------------------------------------
def course_rows(scratch: Path, runs: int) -> list[Row]:
    python = sys.executable
    whole, one = scratch / "grade-all.json", scratch / "grade-a1.json"
    return [
        measure(Row("course", "grade reference, every assignment (sandboxed)"), [python, "-m", "grader", "grade", "reference", "--format", "json", "--hidden-visibility", "visible", "--out", str(whole)], runs=runs, result=report_points(whole)),
        measure(Row("course", f"grade reference, {A1} (sandboxed)"), [python, "-m", "grader", "grade", "reference", "--assignment", A1, "--format", "json", "--hidden-visibility", "visible", "--out", str(one)], runs=runs, result=report_points(one)),
        measure(Row("course", f"instructor: pytest assignments/{A1} --dlgrade-against-reference"), [python, "-m", "pytest", f"assignments/{A1}", "-q", "-p", "no:cacheprovider", "--dlgrade-against-reference"], runs=runs, result=pytest_summary),
    ]  # fmt: skip


def roster_of(scratch: Path, n: int) -> Path:
    """A roster of ``n`` students, each handing in the reference's a1."""
    roster = scratch / f"roster-{n}"
    for i in range(n):
        shutil.copytree(ROOT / "reference" / A1, roster / f"student{i:03d}" / A1, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return roster


def batch_rows(scratch: Path, runs: int, n: int) -> dict[tuple[int, int], Row]:
    """The batch's rows by (roster size, jobs)."""
    rows = {}
    for size in (n, max(1, n // 2)):
        roster = roster_of(scratch, size)
        for jobs in (1, 2):
            out = scratch / f"batch-{size}-{jobs}"
            command = [sys.executable, "-m", "grader", "batch", str(roster), "--out", str(out), "--jobs", str(jobs), "--assignment", A1, "--no-progress"]
            row = Row("batch", f"batch {size} x {A1}, --jobs {jobs}")
            rows[size, jobs] = measure(row, command, runs=runs, before=lambda out=out: shutil.rmtree(out, ignore_errors=True), result=batch_result)
    return rows


def third_party_imports(folder: Path) -> list[str]:
    """The third-party modules (``matplotlib.figure``, ``torch.nn.functional``) that the files of
    ``folder`` (an assignment's tests, conftest, solutions and notebooks) import, anywhere in
    them: not the standard library's, the harness's or the course's own."""
    skipped = {*sys.stdlib_module_names, *(path.stem for path in folder.rglob("*.py")), "grader", "__future__"}
    found: set[str] = set()
    for path in [*folder.rglob("*.py"), *folder.rglob("*.ipynb")]:
        found |= imported_names(path)
        if "torch_one_thread" in path.read_text():  # the harness's context manager imports torch for the test
            found.add("torch")
    return sorted(name for name in found if name.split(".")[0] not in skipped)


MODULE_RECORDER = '''"""The benchmark's pytest plugin: at the session's end, the name of every imported module."""
import os
import sys


def pytest_sessionfinish(session):
    with open(os.environ["DLGRADE_SPEED_MODULES"], "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
'''


def loaded_on_first_use(modules: list[str], record: Path, env: dict[str, str], cwd: Path) -> list[str]:
    """Of the modules a run imported (as ``record`` lists them), the submodules of ``modules``'
    packages that importing ``modules`` alone does not load (``torch._dynamo``): the outermost
    of each, as importing it loads the rest."""
    packages = {m.split(".")[0] for m in modules}
    used = {m for m in record.read_text().split() if m.split(".")[0] in packages}
    listing = "".join(f"import {m}\n" for m in ["sys", *modules]) + "print('\\n'.join(sys.modules))"
    eager = set(subprocess.run([sys.executable, "-c", listing], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.split())
    lazy = used - eager
    return sorted(m for m in lazy if m.rpartition(".")[0] not in lazy)


def solved_release(scratch: Path) -> Path:
    """The students' release (``release --student``) with every student file replaced by the
    reference's: the repository of a student who solved every assignment."""
    release = scratch / "release"
    subprocess.run([sys.executable, "-m", "grader", "release", "--student", str(release)], cwd=ROOT, check=True, capture_output=True)
    for source, student in Course(ROOT).release_pairs():
        shutil.copyfile(source, release / student.relative_to(ROOT))
    return release


def student_rows(scratch: Path, runs: int) -> dict[str, tuple[Row, Row]]:
    """Each assignment's (student run, its floor)."""
    python = sys.executable
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    release = solved_release(scratch)
    (scratch / "dlgrade_speed_modules.py").write_text(MODULE_RECORDER)
    record = scratch / "modules.txt"
    recording = {**env, "PYTHONPATH": str(scratch), "DLGRADE_SPEED_MODULES": str(record)}
    rows = {}
    for assignment in Course(release).assignments():
        modules = third_party_imports(release / "assignments" / assignment)
        student = [python, "-m", "pytest", f"assignments/{assignment}", "-q", "-p", "no:cacheprovider"]
        run_once([*student, "-p", "dlgrade_speed_modules"], release, recording)  # bytecode written, as a second run on a student's machine finds it
        lazy = loaded_on_first_use(modules, record, env, release)
        floor = scratch / "floor" / assignment
        floor.mkdir(parents=True)
        (floor / "pytest.ini").write_text("[pytest]\n")
        (floor / "test_floor.py").write_text("".join(f"import {m}  # noqa: F401\n" for m in modules + lazy) + "\n\ndef test_nothing():\n    pass\n")
        plain = [python, "-m", "pytest", str(floor / "test_floor.py"), "-q", "-p", "no:cacheprovider", "-p", "no:dlgrade", "-c", str(floor / "pytest.ini"), "--rootdir", str(floor)]
        run_once(plain, release, env)
        first_use = f"; on first use {', '.join(lazy)}" if lazy else ""
        rows[assignment] = (
            measure(Row("student", f"pytest assignments/{assignment}"), student, runs=runs, cwd=release, env=env, result=pytest_summary),
            measure(Row("student", f"floor: plain pytest importing {', '.join(modules)}{first_use}"), plain, runs=runs, cwd=release, env=env, result=pytest_summary),
        )
    return rows


def student_figures(rows: dict[str, tuple[Row, Row]]) -> dict[str, float]:
    """Each assignment's student run over its floor (wall)."""
    figures = {}
    for run, floor in rows.values():
        if run.wall_s and floor.wall_s:
            figures[f"{run.what} / its floor"] = round(run.wall_s / floor.wall_s, 2)
    return figures


def homework_rows(scratch: Path, runs: int) -> list[Row]:
    python = sys.executable
    submission = scratch / "hw-submission"
    (submission / HW).mkdir(parents=True)
    (submission / HW / "ops.py").write_text(solution_code())
    graded = scratch / "hw-grade.json"
    rows = [
        measure(Row("homework", "dlgrade grade (sandboxed)"), [python, "-m", "grader", "grade", str(submission), "--course", str(HOMEWORK), "--format", "json", "--out", str(graded)], runs=runs, result=report_points(graded)),
        measure(Row("homework", "dlgrade student: pytest"), [python, "-m", "pytest", f"assignments/{HW}", "-q", "-p", "no:cacheprovider", "--dlgrade-against-reference"], cwd=HOMEWORK, runs=runs, result=pytest_summary),
    ]  # fmt: skip
    for name, label, setup, command, reading in (
        ("nbgrader", "nbgrader autograde", setup_nbgrader, ["nbgrader", "autograde", HW, "--force"], nbgrader_result),
        ("otter", "Otter-Grader otter run", setup_otter, ["otter", "run", "-a", "autograder.zip", f"{HW}.ipynb", "-o", "out", "--no-logo"], lambda folder, venv: otter_result(folder)),
    ):
        row = Row("homework", label)
        venv = tool_venv(name)
        if isinstance(venv, str):
            row.skipped = venv
            rows.append(row)
            continue
        try:
            folder = setup(scratch / name, venv)
        except RuntimeError as error:
            row.skipped = str(error)
            rows.append(row)
            continue
        rows.append(measure(row, command, cwd=folder, env=tool_env(venv), runs=runs, result=reading(folder, venv)))
    ini = scratch / "plain" / "pytest.ini"
    ini.parent.mkdir()
    ini.write_text("[pytest]\n")
    env = {**os.environ, "HOMEWORK_OPS": str(submission / HW / "ops.py")}
    plain = [python, "-m", "pytest", str(HOMEWORK / "plain" / "test_ops.py"), "-q", "-p", "no:cacheprovider", "-c", str(ini), "--rootdir", str(ini.parent)]
    rows.append(measure(Row("homework", "plain pytest"), plain, env=env, runs=runs, result=pytest_summary))
    rows.append(measure(Row("homework", "plain pytest -p no:hypothesispytest"), [*plain, "-p", "no:hypothesispytest"], env=env, runs=runs, result=pytest_summary))
    return rows


# -- output ---------------------------------------------------------------------------------
def batch_figures(rows: dict[tuple[int, int], Row], n: int) -> dict[str, float]:
    """2 jobs' speed-up at N and N/2, and the cost per submission (wall, --jobs 1) at N and N/2."""
    wall = {key: row.wall_s for key, row in rows.items() if row.wall_s}
    half = max(1, n // 2)
    figures = {}
    for size in (n, half):
        if (size, 1) in wall and (size, 2) in wall:
            figures[f"speed-up of --jobs 2 at N={size}"] = round(wall[size, 1] / wall[size, 2], 2)
        if (size, 1) in wall:
            figures[f"wall s per submission, --jobs 1, N={size}"] = round(wall[size, 1] / size, 2)
    return figures


def machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def show(rows: list[Row], figures: dict[str, float], runs: int) -> None:
    table = Table(title=f"dlgrade speed (median of {runs} run{'s' if runs > 1 else ''}; CPU: user+sys, children included)")
    for column, justify in (("group", "left"), ("what", "left"), ("wall s", "right"), ("CPU s", "right"), ("reported", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        if row.skipped:
            table.add_row(row.group, row.what, "-", "-", f"skipped: {row.skipped}")
        else:
            table.add_row(row.group, row.what, f"{row.wall_s:.2f}", f"{row.cpu_s:.2f}", row.result)
    console = Console(width=160)
    console.print(table)
    for name, value in figures.items():
        console.print(f"{name}: {value:g}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure, the median is shown (default 3)")
    parser.add_argument("--n", type=int, default=6, help="students in the batch's roster (default 6; N/2 is timed too)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speed.json", help="the JSON to write (default benchmarks/results/speed.json)")
    parser.add_argument("--quick", action="store_true", help="one run each and N = 4: to try the script out")
    parser.add_argument("--only", action="append", choices=("course", "batch", "student", "homework"), help="only this group (repeatable; default all)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.n = 1, 4
    if args.runs < 1 or args.n < 1:
        parser.error(f"runs={args.runs!r} and n={args.n!r} must be at least 1")
    groups = args.only or ["course", "batch", "student", "homework"]
    described = machine()
    rows: list[Row] = []
    batch: dict[tuple[int, int], Row] = {}
    student: dict[str, tuple[Row, Row]] = {}
    with tempfile.TemporaryDirectory(prefix="dlgrade-speed-") as scratch:
        if "course" in groups:
            rows += course_rows(Path(scratch), args.runs)
        if "batch" in groups:
            batch = batch_rows(Path(scratch), args.runs, args.n)
            rows += batch.values()
        if "student" in groups:
            student = student_rows(Path(scratch), args.runs)
            rows += [row for pair in student.values() for row in pair]
        if "homework" in groups:
            rows += homework_rows(Path(scratch), args.runs)
    figures = {**batch_figures(batch, args.n), **student_figures(student)}
    show(rows, figures, args.runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": described, "runs": args.runs, "n": args.n, "rows": [asdict(r) for r in rows], "figures": figures}
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
