"""The fixed cost of grading an assignment: what ``grade`` spends besides the tests themselves.

    python benchmarks/judge_overhead.py [--assignments N] [--repeats R] [--jobs J] [--checkout DIR]

Writes a course of N assignments whose tests cost almost nothing (each calls one numpy function
of the student's once; the test modules import torch, as the real course's public tests do),
grades its reference with ``python -m grader grade`` (sandbox on) once with one assignment and
once with all N, and prints the medians over R repeats of wall time and CPU time (user + sys,
children included) and the fixed cost per assignment, (all - one) / (N - 1). ``--checkout``
grades with another checkout of dlgrade (its ``.venv``), to compare before and after a change;
``--jobs`` is passed to ``grade`` when given (a checkout without the option takes none).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from speed import run_once  # this folder's speed.py: wall and CPU of a command

STUDENT = "import numpy as np\n\n\ndef double(x):\n    return 2 * np.asarray(x, dtype=np.float64)\n"
TEST = """import numpy as np
import pytest
import torch  # noqa: F401  (the real course's tests compare with torch)

from grader import assert_close


@pytest.mark.points(1)
def test_double(student):
    assert_close(student("{name}.py").double(np.arange(3.0)), 2 * np.arange(3.0))
"""


def write_course(root: Path, count: int) -> list[str]:
    names = [f"b{i}_overhead" for i in range(count)]
    for name in names:
        for folder in (root / "assignments" / name, root / "reference" / name):
            folder.mkdir(parents=True)
            (folder / f"{name}.py").write_text(STUDENT)
        (root / "assignments" / name / f"test_{name}.py").write_text(TEST.format(name=name))
    return names


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``command`` and every process it started (``speed.run_once``),
    which must succeed."""
    run = run_once(command, cwd)
    if run.status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
    return run.wall, run.cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    python = str(args.checkout / ".venv" / "bin" / "python")
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    with tempfile.TemporaryDirectory(prefix="dlgrade-overhead-") as scratch:
        course = Path(scratch) / "course"
        names = write_course(course, args.assignments)
        results: dict[int, list[tuple[float, float]]] = {1: [], args.assignments: []}
        for _ in range(args.repeats):
            for count in results:
                chosen = [a for name in names[:count] for a in ("--assignment", name)]
                command = [python, "-m", "grader", "grade", str(course / "reference"), "--course", str(course), *chosen, *jobs, "--out", str(Path(scratch) / "out.json")]
                results[count].append(timed(command, args.checkout))
    medians = {count: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)) for count, runs in results.items()}
    (wall1, cpu1), (walln, cpun) = medians[1], medians[args.assignments]
    per = args.assignments - 1
    print(f"checkout {args.checkout}, median of {args.repeats}{', jobs ' + str(args.jobs) if args.jobs else ''}")
    print(f"  1 assignment:  wall {wall1:6.2f} s  cpu {cpu1:6.2f} s")
    print(f"  {args.assignments} assignments: wall {walln:6.2f} s  cpu {cpun:6.2f} s")
    print(f"  fixed cost per further assignment: wall {(walln - wall1) / per:.3f} s  cpu {(cpun - cpu1) / per:.3f} s")


if __name__ == "__main__":
    main()
