"""PyTorch as an oracle in the judge's process: on one intra-op thread.

The tensors a course's tests compare with are tiny; waking a thread pool for each operation on
a busy machine costs more than the computation itself (the grading worker runs with one thread
already). ``import torch`` happens on first use, so only the tests that compare with PyTorch pay
for it (about 1 s)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def torch_one_thread() -> Iterator[Any]:
    """``with torch_one_thread() as torch:`` the ``torch`` module, set to one intra-op thread for
    the block; the number it had is restored after it, even when the block raises."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield torch
    finally:
        torch.set_num_threads(threads)
