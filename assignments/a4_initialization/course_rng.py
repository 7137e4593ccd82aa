"""A course helper, not a file to edit: random generators and initializers where YOUR code runs.

When grading, your functions run in a separate process, and neither a ``numpy.random.Generator``
nor a Python function can be copied there. The tests ask this helper, which runs beside your
code, to make them: generators seeded as the test says, numpy's global random state (to check
that your code leaves it alone), and simple initializers to hand to your ``activation_stds``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def generator(seed: int) -> np.random.Generator:
    """A fresh generator seeded with ``seed``."""
    return np.random.default_rng(seed)


def seed_global(seed: int) -> None:
    """Seed numpy's global (legacy) random state."""
    np.random.seed(seed)


def global_state() -> tuple[Any, ...]:
    """numpy's global (legacy) random state as plain data: ``(name, keys, pos, has_gauss, cached)``."""
    return tuple(np.random.get_state())


def normal_weights(shape: Any, rng: np.random.Generator, std: float) -> np.ndarray:
    """``N(0, std^2)`` weights of ``shape``: one ``rng.normal`` call (the tests repeat it exactly)."""
    return rng.normal(0.0, std, size=tuple(int(s) for s in shape))


class NormalInitializer:
    """``init_fn(shape, rng)`` drawing ``N(0, std^2)``; ``calls`` lists the shapes it was asked for."""

    def __init__(self, std: float) -> None:
        self.std = std
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, shape: Any, rng: np.random.Generator) -> np.ndarray:
        self.calls.append(tuple(int(s) for s in shape))
        return normal_weights(shape, rng, self.std)


def normal_initializer(std: float) -> NormalInitializer:
    """An initializer for ``activation_stds``: ``N(0, std^2)`` from the ``rng`` it is given."""
    return NormalInitializer(std)


def zeros_initializer() -> Any:
    """An initializer for ``activation_stds`` that returns zeros (and draws nothing)."""
    return lambda shape, rng: np.zeros(tuple(int(s) for s in shape))
