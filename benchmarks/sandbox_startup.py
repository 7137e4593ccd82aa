"""Worker start-up in the sandbox: from starting the process to the answer to its first load.

    python benchmarks/sandbox_startup.py [REPEATS]

Prints the median over REPEATS (default 10) restarts, without a sandbox and at this machine's
sandbox level, and the level.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from grader.remote import Worker
from grader.sandbox import Sandbox


def median_start(worker: Worker, path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        worker.close()
        start = time.perf_counter()
        worker.load(path, label=path.name)
        times.append(time.perf_counter() - start)
    worker.close()
    return statistics.median(times)


def main(repeats: int) -> None:
    box = Sandbox()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "tiny.py").write_text("import numpy as np\n\ndef f(x):\n    return np.asarray(x) * 2\n")
        folder = box.add_files(Path(scratch), "code")
        plain = median_start(Worker(cwd=folder), folder / "tiny.py", repeats)
    boxed = median_start(Worker(**box.worker_options()), folder / "tiny.py", repeats)
    box.close()
    print(f"worker start + load (median of {repeats}): no sandbox {plain:.3f} s; sandbox level {box.level} {boxed:.3f} s (+{boxed - plain:.3f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
