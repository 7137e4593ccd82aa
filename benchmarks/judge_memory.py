"""The judge's peak memory: under a forged 256 MiB answer, and for whole grading runs.

    python benchmarks/judge_memory.py [ASSIGNMENT ...]    (default: a1_foundations a9_torch)

1. A sandboxed worker whose student file writes a 256 MiB answer straight to the answer pipe:
   the judge's peak resident memory before and after (it must stay under the message cap).
2. ``python -m grader grade examples/submission --assignment A`` per assignment: the peak
   resident memory of the largest process of the run (the pytest judge, or the worker).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from grader import wire
from grader.remote import StudentCodeError, Worker
from grader.sandbox import Sandbox

FORGED = """
import os, sys
fd = int(sys.argv[2])
size = 256 << 20
os.write(fd, size.to_bytes(8, "big"))
chunk = b"\\0" * (1 << 20)
for _ in range(size >> 20):
    os.write(fd, chunk)
"""
MIB = 1 << 20


def peak_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def forged_answer() -> None:
    box = Sandbox()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "forged.py").write_text(FORGED)
        folder = box.add_files(Path(scratch), "code")
    worker = Worker(timeout=60, load_timeout=60, launch=box.launch())
    before = peak_mib()
    try:
        worker.load(folder / "forged.py", label="forged.py")
    except StudentCodeError as error:
        verdict = str(error).splitlines()[0][:120]
    worker.close()
    box.close()
    print(f"forged 256 MiB answer (cap {wire.MAX_MESSAGE_BYTES / MIB:g} MiB): judge peak {before:.0f} -> {peak_mib():.0f} MiB; verdict: {verdict}")


def grading_runs(assignments: list[str]) -> None:
    root = Path(__file__).resolve().parents[1]
    for assignment in assignments:
        before = peak_mib(resource.RUSAGE_CHILDREN)
        command = [sys.executable, "-m", "grader", "grade", str(root / "examples" / "submission"), "--assignment", assignment, "--format", "json"]
        run = subprocess.run(command, cwd=root, capture_output=True, text=True)
        after = peak_mib(resource.RUSAGE_CHILDREN)
        print(f"grade {assignment}: exit {run.returncode}, largest process of the run {after:.0f} MiB" + (" (no larger than an earlier run's)" if after == before else ""))


if __name__ == "__main__":
    forged_answer()
    grading_runs(sys.argv[1:] or ["a1_foundations", "a9_torch"])
