"""Fixtures of the a9_torch tests: the student's notebook and the probes that run beside it.

``probes`` is ``torch_probes.py`` served by the harness's ``helper`` fixture: it runs where the
student's code runs (a worker process when grading, this process otherwise), builds the models,
batches and optimizers the student's functions get, and reports plain data back.
``local_probes`` is the same file loaded in this (the judge's) process, for expected values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.loader import load_module_from_path

PROBES = "torch_probes.py"
NOTEBOOK = "torch_practice.ipynb"


@pytest.fixture(scope="session")
def local_probes() -> Any:
    return load_module_from_path(Path(__file__).resolve().parent / PROBES, name="a9_torch_local_probes")


@pytest.fixture
def nb(student: Any) -> Any:
    """The student's notebook module (``student("torch_practice.ipynb")``)."""
    return student(NOTEBOOK)


@pytest.fixture
def probes(helper: Any) -> Any:
    """``torch_probes`` where the student's code runs (a worker when grading)."""
    return helper(PROBES)


class A9:
    """What an a9 test works with: the student's notebook, the probes beside it, the local probes."""

    def __init__(self, nb: Any, probes: Any, local: Any) -> None:
        self.nb, self.probes, self.local = nb, probes, local

    def __repr__(self) -> str:
        return "<a9: the notebook and its probes>"


@pytest.fixture
def a9(student: Any, helper: Any, local_probes: Any) -> A9:
    """The notebook, the probes where it runs, and the local probes, in one plain object.

    (Tests with ``@given`` take this rather than the modules themselves: Hypothesis looks up
    attributes of its fixtures' values, and a student module answers a missing name by failing
    the test; so this object is opaque to it, repr included.)
    """
    return A9(student(NOTEBOOK), helper(PROBES), local_probes)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Any:
    """Run torch on one thread in this process: the tests' tensors are tiny, and on a shared
    machine several threads per tiny operation are many times slower (a grading worker already
    runs with one thread)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
