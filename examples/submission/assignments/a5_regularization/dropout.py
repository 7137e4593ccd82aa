"""Inverted dropout (a5_regularization, ``dropout.py``).

``p`` is the probability of DROPPING an element (as in ``torch.nn.functional.dropout``). In
training each element is zeroed independently with probability ``p`` and the survivors are
scaled by ``1 / (1 - p)``, so the expected output equals the input and evaluation needs no
rescaling: there the layer is the identity.
"""

from __future__ import annotations

import numpy as np

DropoutCache = tuple[np.ndarray, float]


def _through_mask(a: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """``a * (1 / (1 - p))`` where ``keep``, else 0; all zeros when ``p == 1`` (nothing survives).

    Multiplying by the scale, rather than dividing by ``1 - p``, rounds exactly as PyTorch does.
    """
    if p == 1:
        return np.zeros(np.shape(a), dtype=np.float64)
    scale = 1.0
    return np.where(keep, a * scale, 0.0)


def dropout_forward(
    x: np.ndarray, p: float, train: bool, rng: np.random.Generator
) -> tuple[np.ndarray, DropoutCache]:
    """``x (any shape)`` -> ``out`` of the same shape.

    Train: ``out = x * keep * (1 / (1 - p))`` with ``keep ~ Bernoulli(1 - p)`` per element. Eval: ``out = x``.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p={p!r} is the probability of dropping an element; it must lie in [0, 1]")
    x = np.asarray(x, dtype=np.float64)
    if not train:
        keep = np.ones(x.shape, dtype=bool)
        return x, (keep, 0.0)  # p = 0 in the cache: the gradient passes through unchanged
    keep = rng.random(x.shape) >= p  # True with probability 1 - p
    return _through_mask(x, keep, p), (keep, p)


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    """``dx = dout * keep * (1 / (1 - p))``: the same mask and scale as the forward pass."""
    keep, p = cache
    return _through_mask(np.asarray(dout, dtype=np.float64), keep, p)
