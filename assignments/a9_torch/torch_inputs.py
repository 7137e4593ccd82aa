"""The inputs of a9_torch's tests, built where the student's code runs.

The functions under test take torch objects (models, batches, optimizers, tensors). In a grading
run the student's notebook lives in a worker process and only plain data crosses to the tests, so
the tests build those objects here, in the student's process, from numbers they chose, and pass
the handles on. Nothing here measures anything: every verdict is taken in the tests' own process
from plain data (returned values, the parameters read back through the model's ``state_dict``,
outputs of forward passes) compared with what the tests compute themselves. ``manual_train_epoch``
and ``load_parameters`` serve the tests' own process (expected values). Needs only torch and numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

DTYPE = torch.float64
OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "RMSprop": torch.optim.RMSprop}


def tensor(values: np.ndarray, device: str = "cpu") -> torch.Tensor:
    """A tensor with the dtype of ``values`` (float64 or int64) on ``device``."""
    return torch.from_numpy(np.array(values)).to(device)


def batches(x: np.ndarray, y: np.ndarray, sizes: list[int], device: str = "cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A loader: ``(x, y)`` cut into consecutive batches of the given sizes (labels int64)."""
    loader, start = [], 0
    for size in sizes:
        xb = torch.from_numpy(np.array(x[start : start + size], dtype=np.float64)).to(device)
        yb = torch.from_numpy(np.array(y[start : start + size], dtype=np.int64)).to(device)
        loader.append((xb, yb))
        start += size
    return loader


def load_parameters(model: nn.Module, values: list[np.ndarray]) -> nn.Module:
    """Copy ``values`` into ``model.parameters()``, in order (shapes must match)."""
    parameters = list(model.parameters())
    if len(parameters) != len(values):
        raise ValueError(f"the model has {len(parameters)} parameters, got {len(values)} arrays")
    with torch.no_grad():
        for parameter, value in zip(parameters, values):
            parameter.copy_(torch.from_numpy(np.array(value, dtype=np.float64)))
    return model


def linear(weight: np.ndarray, bias: np.ndarray, device: str = "cpu") -> nn.Linear:
    """A float64 ``nn.Linear`` with the given ``weight (out, in)`` and ``bias (out,)``."""
    out_features, in_features = np.shape(weight)
    return load_parameters(nn.Linear(in_features, out_features, dtype=DTYPE), [weight, bias]).to(device)


def mlp(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, p: float, device: str = "cpu") -> nn.Sequential:
    """The course's MLP, ``Linear -> ReLU -> Dropout(p) -> Linear``, float64, given weights."""
    return nn.Sequential(linear(w1, b1), nn.ReLU(), nn.Dropout(p), linear(w2, b2)).to(device)


def sgd(model: nn.Module, lr: float, momentum: float = 0.0) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def cross_entropy() -> nn.Module:
    return nn.CrossEntropyLoss()


_REAL_CUDA: dict[str, Any] = {}


def pretend_cuda(available: bool | None) -> None:
    """Make ``torch.cuda.is_available()`` (and ``device_count()``) say ``available``; ``None`` undoes it."""
    if not _REAL_CUDA:
        _REAL_CUDA.update(is_available=torch.cuda.is_available, device_count=torch.cuda.device_count)
    if available is None:
        torch.cuda.is_available = _REAL_CUDA["is_available"]
        torch.cuda.device_count = _REAL_CUDA["device_count"]
    else:
        torch.cuda.is_available = lambda: available
        torch.cuda.device_count = lambda: 1 if available else 0


def cuda_available() -> bool:
    """Whether CUDA is really available here (whatever ``pretend_cuda`` says)."""
    return bool(_REAL_CUDA.get("is_available", torch.cuda.is_available)())


def manual_train_epoch(model: nn.Module, loader: list[tuple[torch.Tensor, torch.Tensor]], optimizer: torch.optim.Optimizer, loss_fn: nn.Module) -> list[float]:
    """The batch losses of one epoch in train mode, written out (expected values, in the tests' process)."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# ---------------------------------------------------------------- one round trip per setting


def train_setting(x: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, sizes: list[int], lr: float, momentum: float, device: str) -> dict[str, Any]:
    """A float64 Linear on ``device`` with SGD, cross-entropy and a CPU loader: the arguments of ``train_epoch``."""
    model = linear(weight, bias, device)
    return {"model": model, "loader": batches(x, y, sizes), "optimizer": sgd(model, lr, momentum), "loss_fn": cross_entropy(), "device": torch.device(device)}


def mlp_setting(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, p: float, device: str, training: bool, x: np.ndarray | None = None, grads: list[np.ndarray] | None = None) -> dict[str, Any]:
    """The course's MLP with the given weights in the given mode, ``x`` as a tensor on ``device``,
    and, with ``grads``, those arrays as the parameters' ``.grad`` (in ``parameters()`` order)."""
    model = mlp(w1, b1, w2, b2, p, device).train(training)
    for parameter, grad in zip(model.parameters(), grads or []):
        parameter.grad = tensor(np.array(grad, dtype=np.float64), device)
    return {"model": model, "x": None if x is None else tensor(x, device), "device": torch.device(device)}


def mlp_train_setting(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, p: float, x: np.ndarray, y: np.ndarray, sizes: list[int], optimizer: str, options: dict[str, Any], device: str, training: bool) -> dict[str, Any]:
    """The course's MLP (in the given mode) with ``torch.optim.<optimizer>(**options)``,
    cross-entropy and a CPU loader: the arguments of ``train_epoch``."""
    model = mlp(w1, b1, w2, b2, p, device).train(training)
    return {
        "model": model,
        "loader": batches(x, y, sizes),
        "optimizer": OPTIMIZERS[optimizer](model.parameters(), **options),
        "loss_fn": cross_entropy(),
        "device": torch.device(device),
    }
