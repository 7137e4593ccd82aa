"""Weight initialization (a4_initialization, the student's ``init.ipynb``).

Weight layouts:

* linear ``W`` of shape ``(fan_in, fan_out) = (D, M)``, so that ``out = x @ W`` (the transpose of
  ``torch.nn.Linear.weight``, which is ``(out, in)``);
* convolution ``w`` of shape ``(F, C, KH, KW)`` as in PyTorch, with ``fan_in = C * KH * KW`` and
  ``fan_out = F * KH * KW``.

Any other number of dimensions raises ``ValueError``. Every initializer returns a new float64
array and draws only from its ``rng`` argument (a ``numpy.random.Generator``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

Shape = Sequence[int]
Initializer = Callable[[tuple[int, int], np.random.Generator], np.ndarray]


def compute_fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: ``(D, M)`` for a linear ``(D, M)``; ``(C*KH*KW, F*KH*KW)`` for a conv."""
    ### BEGIN SOLUTION
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        fan_in, fan_out = shape
        return fan_in, fan_out
    if len(shape) == 4:
        f, c, kh, kw = shape
        receptive_field = kh * kw
        return c * receptive_field, f * receptive_field
    raise ValueError(
        f"shape={shape!r} has {len(shape)} dimensions; expected a linear weight (fan_in, fan_out) "
        "or a convolution weight (F, C, KH, KW)"
    )
    ### END SOLUTION


def _fan(shape: Shape, mode: str) -> int:
    """The fan named by ``mode`` ("fan_in" or "fan_out")."""
    ### BEGIN SOLUTION
    fan_in, fan_out = compute_fans(shape)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode={mode!r}; expected 'fan_in' or 'fan_out'")
    ### END SOLUTION


def zeros_init(shape: Shape) -> np.ndarray:
    """All zeros, of ``shape``."""
    ### BEGIN SOLUTION
    compute_fans(shape)  # validates the number of dimensions
    return np.zeros(tuple(shape), dtype=np.float64)
    ### END SOLUTION


def lecun_normal(shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """``N(0, 1 / fan_in)``: std ``sqrt(1 / fan_in)``."""
    ### BEGIN SOLUTION
    fan_in, _ = compute_fans(shape)
    std = math.sqrt(1.0 / fan_in)
    return rng.normal(0.0, std, size=tuple(shape))
    ### END SOLUTION


def xavier_normal(shape: Shape, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    ### BEGIN SOLUTION
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=tuple(shape))
    ### END SOLUTION


def xavier_uniform(shape: Shape, rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (same variance as xavier_normal)."""
    ### BEGIN SOLUTION
    fan_in, fan_out = compute_fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=tuple(shape))
    ### END SOLUTION


def kaiming_normal(shape: Shape, rng: np.random.Generator, mode: str = "fan_in") -> np.ndarray:
    """``N(0, std^2)`` with ``std = sqrt(2 / fan)`` for ReLU networks (He et al., 2015)."""
    ### BEGIN SOLUTION
    std = math.sqrt(2.0 / _fan(shape, mode))
    return rng.normal(0.0, std, size=tuple(shape))
    ### END SOLUTION


def kaiming_uniform(shape: Shape, rng: np.random.Generator, mode: str = "fan_in") -> np.ndarray:
    """``U(-a, a)`` with ``a = sqrt(6 / fan)`` (same variance as kaiming_normal)."""
    ### BEGIN SOLUTION
    a = math.sqrt(6.0 / _fan(shape, mode))
    return rng.uniform(-a, a, size=tuple(shape))
    ### END SOLUTION


def activation_stds(
    init_fn: Initializer, layer_sizes: Sequence[int], x: np.ndarray, rng: np.random.Generator
) -> list[float]:
    """Std (over all elements, ``ddof=0``) of each layer's post-ReLU activations.

    ``layer_sizes = [D, H1, ..., HL]``, ``x (N, D)``: layer ``l`` computes
    ``h_l = relu(h_{l-1} @ W_l)`` with ``W_l = init_fn((H_{l-1}, H_l), rng)`` and a zero bias.
    Returns ``L`` Python floats.
    """
    ### BEGIN SOLUTION
    h = np.asarray(x, dtype=np.float64)
    stds = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        w = init_fn((fan_in, fan_out), rng)
        h = np.maximum(h @ w, 0.0)  # the zero bias adds nothing
        stds.append(float(h.std()))
    return stds
    ### END SOLUTION
