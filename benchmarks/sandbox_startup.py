"""Worker start-up: from starting a worker to the answer to its first load, as a new interpreter
and as an incarnation forked by the warm fork server (``grader.forkserver``, how grading starts
them), without a sandbox and at this machine's sandbox level.

    python benchmarks/sandbox_startup.py [REPEATS]

Prints the median over REPEATS (default 10) restarts of each, and the fork server's own start
(the first incarnation's, paid once per judge).
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

from grader.forkserver import ForkServer
from grader.launch import Launch
from grader.remote import Worker
from grader.sandbox import Sandbox


def start_times(worker: Worker, path: Path, repeats: int) -> tuple[float, float]:
    """The first start + load, and the median of ``repeats`` restarts + loads after it."""
    times = []
    for _ in range(repeats + 1):
        worker.close()
        start = time.perf_counter()
        worker.load(path, label=path.name)
        times.append(time.perf_counter() - start)
    worker.close()
    return times[0], statistics.median(times[1:])


def main(repeats: int) -> None:
    box = Sandbox()
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "tiny.py").write_text("import numpy as np\n\ndef f(x):\n    return np.asarray(x) * 2\n")
        folder = box.add_files(Path(scratch), "code")
        _, plain = start_times(Worker(launch=Launch(cwd=folder)), folder / "tiny.py", repeats)
        with contextlib.closing(ForkServer(Launch(cwd=folder))) as server:
            _, plain_forked = start_times(Worker(spawner=server.spawner()), folder / "tiny.py", repeats)
    _, boxed = start_times(Worker(launch=box.launch()), folder / "tiny.py", repeats)
    with contextlib.closing(ForkServer(box.launch(), sweep=True)) as server:
        server_start, boxed_forked = start_times(Worker(spawner=server.spawner()), folder / "tiny.py", repeats)
    box.close()
    print(f"worker start + first load, median of {repeats}:")
    print(f"  new interpreter: no sandbox {plain:.3f} s; sandbox level {box.level} {boxed:.3f} s")
    print(f"  forked by the fork server: no sandbox {plain_forked:.3f} s; sandbox level {box.level} {boxed_forked:.3f} s (the server's own start, once per judge: {server_start:.3f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
