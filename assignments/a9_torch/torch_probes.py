"""Test helpers for a9_torch that run beside the student's code.

The functions under test take and return torch objects (models, batches, optimizers, tensors).
In a grading run the student's notebook lives in a worker process and only plain data (numpy
arrays, numbers, strings, bools) crosses to the tests; any other object comes back as a handle.
So the tests build their models, batches and optimizers here, in the process where the student's
code runs, pass the handles to the student's functions, and ask this module for plain summaries
(``numpy``, ``summary``, ``modes``, ``calls``...). Run locally (in-process) it does the same in
the test's own process. It needs nothing but torch and numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

DTYPE = torch.float64


# ---------------------------------------------------------------- building what the tests pass


def tensor(values: np.ndarray, device: str = "cpu", requires_grad: bool = False) -> torch.Tensor:
    """A tensor with the dtype of ``values`` (float64 or int64) on ``device``."""
    t = torch.from_numpy(np.array(values)).to(device)
    return t.requires_grad_() if requires_grad else t


def batches(x: np.ndarray, y: np.ndarray, sizes: list[int], device: str = "cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A loader: ``(x, y)`` cut into consecutive batches of the given sizes (labels int64)."""
    loader, start = [], 0
    for size in sizes:
        xb = torch.from_numpy(np.array(x[start : start + size], dtype=np.float64)).to(device)
        yb = torch.from_numpy(np.array(y[start : start + size], dtype=np.int64)).to(device)
        loader.append((xb, yb))
        start += size
    return loader


def _set(linear: nn.Linear, weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(np.array(weight, dtype=np.float64)))
        linear.bias.copy_(torch.from_numpy(np.array(bias, dtype=np.float64)))
    return linear


def linear(weight: np.ndarray, bias: np.ndarray, device: str = "cpu") -> nn.Linear:
    """A float64 ``nn.Linear`` with the given ``weight (out, in)`` and ``bias (out,)``."""
    out_features, in_features = np.shape(weight)
    return _set(nn.Linear(in_features, out_features, dtype=DTYPE), weight, bias).to(device)


def mlp(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, p: float, device: str = "cpu") -> nn.Module:
    """The course's MLP, ``Linear -> ReLU -> Dropout(p) -> Linear``, float64, given weights."""
    first = linear(w1, b1)
    last = linear(w2, b2)
    return nn.Sequential(first, nn.ReLU(), nn.Dropout(p), last).to(device)


class Recorder(nn.Module):
    """Wraps a model; records ``(training, grad enabled, input device type)`` per forward call."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.log: list[tuple[bool, bool, str]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append((self.training, torch.is_grad_enabled(), x.device.type))
        return self.inner(x)


def calls(recorder: Recorder) -> list[tuple[bool, bool, str]]:
    """What the recorder saw: one ``(training, grad enabled, device type)`` per forward call."""
    return list(recorder.log)


def sgd(model: nn.Module, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)


def adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=lr)


def cross_entropy() -> nn.Module:
    return nn.CrossEntropyLoss()


def to_device(model: nn.Module, device: str) -> nn.Module:
    return model.to(device)


def set_mode(model: nn.Module, training: bool) -> nn.Module:
    return model.train(training)


def as_float64(model: nn.Module) -> nn.Module:
    return model.double()


# ---------------------------------------------------------------- plain summaries


def numpy(t: Any) -> np.ndarray:
    """A float64 copy of tensor ``t`` (detached, on the CPU)."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(t).__name__}")
    return t.detach().cpu().numpy().astype(np.float64)


def summary(value: Any) -> dict[str, Any]:
    """What kind of value this is, as plain data: for a tensor its shape, dtype, device, grad."""
    if not isinstance(value, torch.Tensor):
        return {"tensor": False, "type": type(value).__name__}
    return {
        "tensor": True,
        "type": type(value).__name__,
        "shape": tuple(int(s) for s in value.shape),
        "dtype": str(value.dtype),
        "device": value.device.type,
        "requires_grad": bool(value.requires_grad),
    }


def device_type(value: Any) -> str | None:
    """``value.type`` when ``value`` is a ``torch.device``, else ``None``."""
    return value.type if isinstance(value, torch.device) else None


def modes(model: nn.Module) -> list[bool]:
    """``training`` of the model and of every submodule."""
    return [bool(m.training) for m in model.modules()]


def parameters(model: nn.Module) -> list[np.ndarray]:
    """Every parameter as a float64 array, in ``model.parameters()`` order."""
    return [p.detach().cpu().numpy().astype(np.float64) for p in model.parameters()]


def parameter_devices(model: nn.Module) -> list[str]:
    return sorted({p.device.type for p in model.parameters()})


def forward(model: nn.Module, x: np.ndarray, training: bool) -> np.ndarray:
    """``model(x)`` in the given mode without a graph, as float64 (the mode is left as set)."""
    model.train(training)
    dtype = next(model.parameters()).dtype
    device = next(model.parameters()).device
    with torch.no_grad():
        return numpy(model(torch.from_numpy(np.array(x)).to(device=device, dtype=dtype)))


def _kind(module: nn.Module) -> str:
    for cls, name in ((nn.Linear, "Linear"), (nn.ReLU, "ReLU"), (nn.Dropout, "Dropout")):
        if isinstance(module, cls):
            return name
    return type(module).__name__


def _describe(module: nn.Module, inputs: tuple[Any, ...]) -> dict[str, Any]:
    info: dict[str, Any] = {"kind": _kind(module)}
    if isinstance(module, nn.Linear):
        info.update(
            in_features=int(module.in_features),
            out_features=int(module.out_features),
            weight=numpy(module.weight),
            bias=None if module.bias is None else numpy(module.bias),
        )
    elif isinstance(module, nn.Dropout):
        info.update(p=float(module.p))
    if inputs and isinstance(inputs[0], torch.Tensor):
        info["input"] = numpy(inputs[0])
    return info


def layers_in_call_order(model: nn.Module, x: np.ndarray, training: bool) -> list[dict[str, Any]]:
    """The leaf modules in the order one forward pass of ``x`` calls them, as plain data.

    Each entry has the module's ``kind`` (``Linear``, ``ReLU``, ``Dropout`` or its class name),
    its sizes and weights or ``p``, and the ``input`` it received. The order is the data flow,
    whatever order the modules were registered in. The pass runs in the given mode, no graph;
    the model's modes are restored afterwards.
    """
    saved = [(m, m.training) for m in model.modules()]
    seen: list[dict[str, Any]] = []
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda mod, args, out: seen.append(_describe(mod, args))) for m in leaves]
    try:
        model.train(training)
        parameter = next(model.parameters())
        with torch.no_grad():
            model(torch.from_numpy(np.array(x)).to(device=parameter.device, dtype=parameter.dtype))
    finally:
        for hook in hooks:
            hook.remove()
        for m, mode in saved:
            m.training = mode
    return seen


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


def device(kind: str) -> torch.device:
    """``torch.device(kind)``: what the tests pass as ``device``."""
    return torch.device(kind)


def cuda_available() -> bool:
    """Whether CUDA is really available here (whatever ``pretend_cuda`` says)."""
    return bool(_REAL_CUDA.get("is_available", torch.cuda.is_available)())


def manual_train_epoch(model: nn.Module, loader: list[tuple[torch.Tensor, torch.Tensor]], optimizer: torch.optim.Optimizer, loss_fn: nn.Module) -> list[float]:
    """The batch losses of one epoch, written out (the tests' expected values, run in the judge)."""
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# ---------------------------------------------------------------- one round trip per step
# (each call to a probe is a round trip to the worker when grading: a test builds its whole
# setting with one call, calls the student's function, and reads everything back with one more)


def train_setting(x: np.ndarray, y: np.ndarray, weight: np.ndarray, bias: np.ndarray, sizes: list[int], lr: float, momentum: float, device: str) -> dict[str, Any]:
    """A float64 Linear on ``device``, in EVAL mode and wrapped in a ``Recorder``, with SGD,
    cross-entropy and a CPU loader: the arguments of ``train_epoch``."""
    model = linear(weight, bias, device)
    return {
        "model": Recorder(model).train(False),
        "loader": batches(x, y, sizes),
        "optimizer": sgd(model, lr, momentum),
        "loss_fn": cross_entropy(),
        "device": torch.device(device),
    }


def mlp_setting(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, p: float, device: str, training: bool, x: np.ndarray | None = None) -> dict[str, Any]:
    """The course's MLP with the given weights in the given mode, wrapped in a ``Recorder``
    (which shares that mode), and ``x`` as a tensor on ``device``."""
    model = Recorder(mlp(w1, b1, w2, b2, p, device)).train(training)
    return {"model": model, "x": None if x is None else tensor(x, device), "device": torch.device(device)}


def inspect(*values: Any) -> list[dict[str, Any]]:
    """``summary`` of each value, with ``values`` (float64) added for tensors."""
    out = []
    for value in values:
        info = summary(value)
        if info["tensor"]:
            info["values"] = numpy(value)
        out.append(info)
    return out


def report(model: nn.Module) -> dict[str, Any]:
    """After a call: what a ``Recorder``-wrapped model saw and where it is now."""
    inner = model.inner if isinstance(model, Recorder) else model
    return {
        "calls": calls(model) if isinstance(model, Recorder) else [],
        "modes": modes(model),
        "parameters": parameters(inner),
        "devices": parameter_devices(inner),
    }


def probe_mlp(model: Any, x: np.ndarray, training: bool) -> dict[str, Any]:
    """For a model from ``build_mlp``: converted to float64, its layers in call order (see
    ``layers_in_call_order``) and, from a second pass in the same mode, its output."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"build_mlp must return a torch.nn.Module, got {type(model).__name__}")
    model.double()
    layers = layers_in_call_order(model, x, training)
    return {"layers": layers, "output": forward(model, x, training)}


OPTIMIZERS = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "RMSprop": torch.optim.RMSprop}


def mlp_train_setting(w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, p: float, x: np.ndarray, y: np.ndarray, sizes: list[int], optimizer: str, options: dict[str, Any], device: str, training: bool) -> dict[str, Any]:
    """The course's MLP (``Recorder``-wrapped, in the given mode) with ``torch.optim.<optimizer>(**options)``,
    cross-entropy and a CPU loader: the arguments of ``train_epoch``."""
    model = mlp(w1, b1, w2, b2, p, device)
    return {
        "model": Recorder(model).train(training),
        "loader": batches(x, y, sizes),
        "optimizer": OPTIMIZERS[optimizer](model.parameters(), **options),
        "loss_fn": cross_entropy(),
        "device": torch.device(device),
    }
