"""Bad input is not slow: an assignment whose every function hangs, graded end to end.

    python benchmarks/hanging.py [--assignment a1_foundations] [--case NAME ...] [-- GRADE OPTIONS]

Writes four submissions of the assignment in which every student function (as named in the
course's stubs; a notebook's in its code cells, written back as one code cell) hangs in its own way, grades each with ``python -m grader grade SUB --assignment A
--format json --hidden-visibility visible`` (every public and hidden test, sandboxed) and prints per submission the wall and
CPU time of the run (the process and its children, as ``speed.py`` counts them), the points,
the seconds the tests themselves took (the rest is start-up) and the slowest three, how many
tests were reported and how many of them name the budget, and how many failed without a reason:

* ``busy_loop``: ``while True: pass``
* ``sleep``: ``time.sleep(3600)``
* ``ignores_sigterm``: SIGTERM (and SIGINT, SIGALRM) ignored at import, then a busy loop
* ``memory_bomb``: 100 MiB blocks appended forever, a refused allocation swallowed

Anything after ``--`` goes to ``grade`` (e.g. ``-- --student-budget 120``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from grader.course import PROJECT_ROOT, Course
from grader.notebook import code_cells
from speed import run_once  # this folder's speed.py: wall and CPU of a command

HANGS = {
    "busy_loop": ("", "    while True:\n        pass\n"),
    "sleep": ("import time\n", "    time.sleep(3600)\n"),
    "ignores_sigterm": (
        "import signal\nfor _s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):\n    signal.signal(_s, signal.SIG_IGN)\n",
        "    while True:\n        pass\n",
    ),
    "memory_bomb": (
        "",
        "    hog = []\n    while True:\n        try:\n            hog.append(bytearray(100 << 20))\n        except MemoryError:\n            pass\n",
    ),
}


def functions_of(stub: Path) -> list[str]:
    """The top-level function names of a student file (a notebook: of its code cells)."""
    sources = code_cells(stub) if stub.suffix == ".ipynb" else [stub.read_text()]
    return [node.name for source in sources for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]


def write_student_file(path: Path, source: str) -> None:
    """``source`` as the student file ``path``: a notebook holds it in one code cell."""
    if path.suffix == ".ipynb":
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)
    else:
        path.write_text(source)


def write_submission(course: Course, assignment: str, case: str, folder: Path) -> int:
    """A submission of ``assignment`` whose every function hangs as ``case`` says; the number of
    functions written."""
    header, body = HANGS[case]
    count = 0
    target = folder / assignment
    target.mkdir(parents=True)
    for name in course.student_files(assignment):
        functions = functions_of(course.assignments_dir / assignment / name)
        count += len(functions)
        text = header + "".join(f"\n\ndef {f}(*args, **kwargs):\n{body}" for f in functions)
        write_student_file(target / name, text)
    return count


def grade(submission: Path, assignment: str, out: Path, extra: list[str]) -> dict[str, object]:
    """Grade ``submission``: wall and CPU seconds (children included) and what the report says."""
    command = [sys.executable, "-m", "grader", "grade", str(submission), "--assignment", assignment, "--format", "json", "--hidden-visibility", "visible", "--out", str(out), *extra]
    run = run_once(command, PROJECT_ROOT)
    row: dict[str, object] = {"exit": run.status, "wall_s": round(run.wall, 1), "cpu_s": round(run.cpu, 1), "cpu_source": run.cpu_source}
    if not out.is_file():
        row["error"] = run.stderr[-500:]
        return row
    report = json.loads(out.read_text())
    assignments = report["assignments"].values()
    tests = [t for a in assignments for t in a["tests"]]
    row.update(
        tests=len(tests),
        passed=sum(t["outcome"] == "passed" for t in tests),
        earned=report["earned"],
        budget_spent=sum("budget" in t["message"] for t in tests),
        without_reason=sum(t["outcome"] != "passed" and not t["message"].strip() for t in tests),
        errors=[a["error"] for a in assignments if a["error"]],
        tests_s=round(sum(t["duration"] for t in tests), 1),
        slowest=[(t["name"], round(t["duration"], 1)) for t in sorted(tests, key=lambda t: -t["duration"])[:3]],
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a1_foundations")
    parser.add_argument("--case", action="append", choices=HANGS, help="only this submission (repeatable; default all four)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args, extra = parser.parse_known_args()
    extra = [e for e in extra if e != "--"]
    course = Course(PROJECT_ROOT)
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        for case in args.case or list(HANGS):
            folder = Path(scratch) / case
            functions = write_submission(course, args.assignment, case, folder)
            rows[case] = {"functions": functions, **grade(folder, args.assignment, Path(scratch) / f"{case}.json", extra)}
            print(case, json.dumps(rows[case]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"assignment": args.assignment, "grade_options": extra, "cpus": os.cpu_count(), "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
