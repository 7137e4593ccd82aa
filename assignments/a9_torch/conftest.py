"""Fixtures of the a9_torch tests: the student's notebook, the inputs built beside it, and the
readers that turn what comes back into plain data in this (the judge's) process.

``inputs`` is ``torch_inputs.py`` served by the harness's ``helper`` fixture: it runs where the
student's code runs (a worker process when grading, this process otherwise) and builds the models,
batches and optimizers the student's functions get. It measures nothing. ``local_inputs`` is the
same file loaded in this process, for expected values.

Every fact that earns a point is taken here from plain data: a returned value or a tensor read
through its own ``tolist()``, ``device`` and ``requires_grad``, parameters read through the model's
``state_dict()``, outputs of forward passes the test runs itself, compared with values the test
computes. Whether a function switched a mode or autograd off is judged by its consequences
(outputs, losses, parameters and gradients afterwards), never by a report from the student's process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import torch_one_thread
from grader.loader import load_module_from_path
from grader.remote import StudentCodeError

INPUTS = "torch_inputs.py"
NOTEBOOK = "torch_practice.ipynb"
PLAIN = (np.ndarray, np.generic, list, tuple, dict, str, bytes, int, float, bool, type(None))
MAX_STATE_ENTRIES = 64


@dataclass(frozen=True)
class Tensor:
    """A tensor as plain data: its values (float64), the type of its device, whether it requires grad."""

    values: np.ndarray
    device: str
    requires_grad: bool

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)


def read_tensor(value: Any, what: str) -> Tensor:
    """``value`` (a tensor, or a handle to one) as plain data, read through the tensor's own
    ``tolist()``, ``device.type`` and ``requires_grad``; anything else fails, saying what it is."""
    __tracebackhide__ = True
    if isinstance(value, PLAIN):
        raise AssertionError(f"{what} must be a torch.Tensor, got a {type(value).__name__}")
    device, requires_grad = value.device.type, value.requires_grad
    if not (isinstance(device, str) and isinstance(requires_grad, bool)):
        raise AssertionError(f"{what} must be a torch.Tensor, got {value!r}")
    return Tensor(np.array(value.tolist(), dtype=np.float64), device, requires_grad)


def read_state(model: Any, what: str) -> list[tuple[str, np.ndarray]]:
    """``model.state_dict()`` as ``(name, float64 array)`` pairs in its order (parameters in
    registration order, then any buffers), at most ``MAX_STATE_ENTRIES``, read with ``dict``'s
    own methods from the dict the model returned (whatever its class says of itself)."""
    __tracebackhide__ = True
    if isinstance(model, PLAIN):
        raise AssertionError(f"{what} must be a torch.nn.Module, got a {type(model).__name__}")
    state = model.state_dict()
    if not isinstance(state, dict):
        raise AssertionError(f"{what}.state_dict() must return a dict, got {state!r}")
    entries = []
    for name, value in list(dict.items(state))[:MAX_STATE_ENTRIES]:
        if isinstance(value, PLAIN):
            raise AssertionError(f"{what}: state entry {name!r} must be a torch.Tensor, got a {type(value).__name__}")
        entries.append((str(name), np.array(value.tolist(), dtype=np.float64)))
    return entries


def device_type(value: Any) -> str | None:
    """``value.type`` of a returned ``torch.device`` ("cpu", "cuda"), read from the object itself;
    None for plain data (a string is not a device) or an object without a string ``type``."""
    if isinstance(value, PLAIN):
        return None
    try:
        kind = value.type
    except (AttributeError, StudentCodeError):
        return None
    return kind if isinstance(kind, str) else None


@pytest.fixture(scope="session")
def local_inputs() -> Any:
    return load_module_from_path(Path(__file__).resolve().parent / INPUTS, name="a9_torch_local_inputs")


class A9:
    """What an a9 test works with: the student's notebook, the inputs built beside it, the local
    inputs (this process), and forward passes run by the test itself."""

    def __init__(self, nb: Any, inputs: Any, local: Any) -> None:
        self.nb, self.inputs, self.local = nb, inputs, local

    def __repr__(self) -> str:
        return "<a9: the notebook and the inputs beside it>"

    tensor = staticmethod(read_tensor)
    state = staticmethod(read_state)
    device_type = staticmethod(device_type)

    def forward(self, model: Any, x: np.ndarray, device: str, what: str) -> np.ndarray:
        """``model(x)`` with ``x`` a float64 tensor on ``device`` built beside the model (the
        student's process), in the model's current mode, read back."""
        __tracebackhide__ = True
        return read_tensor(model(self.inputs.tensor(np.asarray(x, dtype=np.float64), device)), what).values

    def forward_here(self, model: Any, x: np.ndarray, what: str) -> np.ndarray:
        """``model(x)`` for a model of this process (the oracle's), on the CPU."""
        return read_tensor(model(self.local.tensor(np.asarray(x, dtype=np.float64))), what).values

    def check_dropout_as_built(self, model: Any, p: float) -> None:
        """The course's MLP (``torch_inputs.mlp``) still has the dropout rate it was built with:
        a submission that rebuilt or edited the inputs beside it does not get to pass them on."""
        __tracebackhide__ = True
        got = getattr(model, "2").p
        assert got == p, f"the model given to your function has dropout p = {got!r}, but the test built it with p = {p!r}"

    def float64_model(self, model: Any, what: str) -> Any:
        """``model`` (what ``build_mlp`` returned) converted by its own ``double()``; plain data fails."""
        __tracebackhide__ = True
        if isinstance(model, PLAIN):
            raise AssertionError(f"{what} must return a torch.nn.Module, got a {type(model).__name__}")
        model.double()
        return model

    def mlp_parameters(self, model: Any, d: int, h: int, c: int, what: str) -> list[tuple[np.ndarray, ...]]:
        """The two Linear layers of a model from ``build_mlp``, read through its ``state_dict()``:
        ``(W1, b1, W2, b2)`` for each order of its two (weight, bias) pairs that fits Linear(d, h)
        then Linear(h, c) (registration order need not be call order; with d = h = c both fit)."""
        __tracebackhide__ = True
        arrays = [value for _, value in read_state(model, what)]
        shapes = [a.shape for a in arrays]
        expected = f"the weight and bias of Linear({d}, {h}) and of Linear({h}, {c}): {[(h, d), (h,), (c, h), (c,)]}"
        assert len(arrays) == 4 and [a.ndim for a in arrays] == [2, 1, 2, 1], f"{what}: the model's parameters have shapes {shapes}; expected {expected}"
        pairs = [(arrays[0], arrays[1]), (arrays[2], arrays[3])]
        fits = [
            (w1, b1, w2, b2)
            for (w1, b1), (w2, b2) in (pairs, pairs[::-1])
            if w1.shape == (h, d) and b1.shape == (h,) and w2.shape == (c, h) and b2.shape == (c,)
        ]
        assert fits, f"{what}: the model's parameters have shapes {shapes}; expected {expected}"
        return fits


@pytest.fixture
def a9(student: Any, helper: Any, local_inputs: Any) -> A9:
    """The notebook, the inputs where it runs, and the local inputs, in one plain object.

    (Tests with ``@given`` take this rather than the modules themselves: Hypothesis looks up
    attributes of its fixtures' values, and a student module answers a missing name by failing
    the test; so this object is opaque to it, repr included.)
    """
    return A9(student(NOTEBOOK), helper(INPUTS), local_inputs)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> Any:
    """Run torch on one thread in this process (``grader.torch_oracle``)."""
    with torch_one_thread():
        yield
