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
    raise NotImplementedError("Implement _through_mask: see the assignment's README.md")


def dropout_forward(
    x: np.ndarray, p: float, train: bool, rng: np.random.Generator
) -> tuple[np.ndarray, DropoutCache]:
    """``x (any shape)`` -> ``out`` of the same shape.

    Train: ``out = x * keep * (1 / (1 - p))`` with ``keep ~ Bernoulli(1 - p)`` per element. Eval: ``out = x``.
    """
    raise NotImplementedError("Implement dropout_forward: see the assignment's README.md")


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    """``dx = dout * keep * (1 / (1 - p))``: the same mask and scale as the forward pass."""
    raise NotImplementedError("Implement dropout_backward: see the assignment's README.md")
