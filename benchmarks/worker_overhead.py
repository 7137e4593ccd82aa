"""Cost of the process boundary: one call, one gradient check, in-process vs in a worker.

    python benchmarks/worker_overhead.py

Prints the median of repeated runs for each; the student module is the a1 reference oracle.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from grader.course import PROJECT_ROOT, Course
from grader.gradcheck import check_layer_gradient
from grader.loader import load_module_from_path
from grader.remote import Worker


def median_seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    path = Course(PROJECT_ROOT).oracle("a1_foundations", "activations.py")
    local = load_module_from_path(path)
    worker = Worker()
    start = time.perf_counter()
    remote = worker.load(path, label="activations.py")
    startup = time.perf_counter() - start
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 10))
    big = rng.standard_normal((64, 128))

    rows = [
        ("worker start + load", startup, None),
        ("call sigmoid_forward (8x10)", median_seconds(lambda: local.sigmoid_forward(x), 200), median_seconds(lambda: remote.sigmoid_forward(x), 200)),
        ("call sigmoid_forward (64x128)", median_seconds(lambda: local.sigmoid_forward(big), 200), median_seconds(lambda: remote.sigmoid_forward(big), 200)),
        ("gradient check sigmoid (80 entries)", median_seconds(lambda: check_layer_gradient(local.sigmoid_forward, local.sigmoid_backward, {"x": x}, rng=rng, max_entries=80), 20),
         median_seconds(lambda: check_layer_gradient(remote.sigmoid_forward, remote.sigmoid_backward, {"x": x}, rng=rng, max_entries=80), 20)),
    ]
    worker.close()
    print(f"{'what':40} {'in-process':>12} {'worker':>12}")
    for what, inproc, remote_time in rows:
        if remote_time is None:
            print(f"{what:40} {'':>12} {inproc * 1e3:10.1f} ms")
        else:
            print(f"{what:40} {inproc * 1e6:9.0f} us {remote_time * 1e6:9.0f} us")


if __name__ == "__main__":
    main()
