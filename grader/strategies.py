"""Hypothesis strategies for deep-learning inputs: arrays, images with conv/pool geometry, labels,
hyper-parameters.

Defaults are chosen to expose the common bugs: shapes are not square and batches hold more than
one example (a transposed gradient, a wrong axis or a missing 1/N then shows), magnitudes are
bounded (``|x| <= 10`` unless asked otherwise). Where a test needs smoothness, ``kinks`` keeps
every entry at least ``gap`` away from the given points and ``distinct`` keeps entries apart
(no max-pool ties); a gradient check's step is ``1e-6 max(1, |x|)``, far below the default gap of
``1e-3``. Where a test checks the handout's leniency, ``on_kinks`` puts entries exactly on them and
``tied_arrays`` makes ties.

Arrays come in the memory layouts callers pass (``LAYOUTS``): C-contiguous, Fortran-ordered (a
transposed array) and non-contiguous slices of a larger buffer, so code that reshapes a view,
writes through ``ravel()`` or indexes a flattened buffer meets them. The worker receives each
array in the same kind of layout (``grader.wire``).

Every strategy takes plain values or strategies for its size arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SearchStrategy = st.SearchStrategy
LAYOUTS = ("C", "F", "sliced")


def _strategy(value: Any) -> SearchStrategy[Any]:
    return value if isinstance(value, SearchStrategy) else st.just(value)


def _integers_except(low: int, high: int, excluded: int) -> SearchStrategy[int]:
    """An integer in ``[low, high]`` other than ``excluded``, drawn without filtering (rejection
    sampling costs examples): ``[low, high - 1]`` with the values from ``excluded`` up moved one up."""
    if not low <= excluded <= high or low == high:
        return st.integers(low, high)
    return st.integers(low, high - 1).map(lambda v: v + 1 if v >= excluded else v)


def _floats_avoiding(low: float, high: float, centre: float, radius: float) -> SearchStrategy[float]:
    """A float in ``[low, high]`` farther than ``radius`` from ``centre``, without filtering."""
    below = st.floats(low, centre - radius, exclude_max=True) if low < centre - radius else st.nothing()
    above = st.floats(centre + radius, high, exclude_min=True) if centre + radius < high else st.nothing()
    return below | above


@st.composite
def shapes(draw: Any, ndim: int | SearchStrategy[int] = 2, *, min_side: int = 1, max_side: int = 6, min_batch: int = 2, square: bool = False) -> tuple[int, ...]:
    """A shape of ``ndim`` sides in ``[min_side, max_side]``, the first (batch) at least ``min_batch``.

    Unless ``square``, shapes with two or more dimensions never have all sides equal.
    """
    n = draw(_strategy(ndim))
    side = st.integers(min_side, max_side)
    first = draw(st.integers(max(min_batch, min_side), max(max_side, min_batch)))
    rest = [draw(side) for _ in range(n - 1)]
    shape = (first, *rest)
    if not square and n >= 2 and len(set(shape)) == 1:
        shape = (first, *rest[:-1], rest[-1] + 1)
    return shape


def laid_out(x: np.ndarray, layout: str) -> np.ndarray:
    """``x``'s values in ``layout``: ``"C"`` as is, ``"F"`` Fortran-ordered, ``"sliced"`` a view of
    every other element, on every axis, of a buffer twice as long (non-contiguous)."""
    if layout == "C" or x.ndim == 0:
        return x
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "sliced":
        base = np.zeros(tuple(2 * n for n in x.shape), dtype=x.dtype)
        view = base[tuple(slice(None, None, 2) for _ in x.shape)]
        view[...] = x
        return view
    raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")


@st.composite
def layer_sizes(draw: Any, *, max_layers: int = 3, max_width: int = 7, deep_layers: int = 12, deep_widths: tuple[int, int] = (2, 3)) -> list[int]:
    """``[D, H1, ..., HL]``: ``L`` layers, no two neighbouring sizes equal, ``D <= max_width - 1``.

    Shallow networks (``1 <= L <= max_layers``, widths ``2..max_width``) or, about as often, deep
    ones (``10 <= L <= deep_layers``) on the cheap widths ``deep_widths``: the sizes of ten or
    more layers are what expose ordering parameters by the text of their names ("W1", "W10",
    "W2"). ``deep_layers=0``: shallow only.
    """
    deep = deep_layers >= 10 and draw(st.booleans())
    depth = draw(st.integers(10, deep_layers) if deep else st.integers(1, max_layers))
    low, high = deep_widths if deep else (2, max_width)
    sizes = [draw(st.integers(1, max_width - 1))]
    for _ in range(depth):
        sizes.append(draw(_integers_except(low, high, sizes[-1])))
    return sizes


def _keep_away(x: np.ndarray, kinks: tuple[float, ...], gap: float) -> np.ndarray:
    for k in kinks:
        near = np.abs(x - k) < gap
        x = np.where(near, k + np.where(x >= k, gap, -gap), x)
    return x


def _spread(x: np.ndarray, gap: float) -> np.ndarray:
    """Move values apart so that every pair differs by at least ``gap`` (order kept)."""
    flat = x.ravel().copy()
    order = np.argsort(flat, kind="stable")
    values = flat[order]
    for i in range(1, values.size):
        values[i] = max(values[i], values[i - 1] + gap)
    flat[order] = values
    return flat.reshape(x.shape)


@st.composite
def arrays(
    draw: Any,
    shape: tuple[int, ...] | SearchStrategy[tuple[int, ...]] | None = None,
    *,
    magnitude: float = 10.0,
    kinks: tuple[float, ...] = (),
    gap: float = 1e-3,
    distinct: bool = False,
    on_kinks: tuple[float, ...] = (),
    layouts: tuple[str, ...] = LAYOUTS,
) -> np.ndarray:
    """A float64 array with entries in ``[-magnitude, magnitude]``, in one of ``layouts``.

    ``shape`` defaults to :func:`shapes`. ``kinks``: keep every entry ``gap`` away from these
    points. ``distinct``: all entries pairwise ``gap`` apart (no ties). ``on_kinks``: set a
    random subset of entries exactly to these points (for leniency at kinks).
    """
    shape = draw(_strategy(shape) if shape is not None else shapes())
    elements = st.floats(-magnitude, magnitude, allow_nan=False, allow_infinity=False, width=64)
    x = draw(hnp.arrays(np.float64, shape, elements=elements)).astype(np.float64)
    if kinks:
        x = _keep_away(x, tuple(kinks), gap)
    if distinct:
        x = _spread(x, gap)
    if on_kinks:
        mask = draw(hnp.arrays(np.bool_, shape))
        which = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, len(on_kinks) - 1)))
        x = np.where(mask, np.asarray(on_kinks, dtype=np.float64)[which], x)
    return laid_out(x, draw(st.sampled_from(layouts)))


@st.composite
def tied_arrays(draw: Any, shape: tuple[int, ...] | SearchStrategy[tuple[int, ...]] | None = None, *, levels: int = 3, layouts: tuple[str, ...] = LAYOUTS) -> np.ndarray:
    """A float64 array of small integers (``levels`` distinct values): ties everywhere."""
    shape = draw(_strategy(shape) if shape is not None else shapes())
    values = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, levels - 1)))
    return laid_out(values.astype(np.float64), draw(st.sampled_from(layouts)))


@st.composite
def labels(draw: Any, n: int | SearchStrategy[int], num_classes: int | SearchStrategy[int], *, layouts: tuple[str, ...] = LAYOUTS) -> np.ndarray:
    """An int64 array ``(n,)`` of class labels in ``[0, num_classes)``."""
    n, c = draw(_strategy(n)), draw(_strategy(num_classes))
    return laid_out(draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1))), draw(st.sampled_from(layouts)))


@st.composite
def logits_and_labels(draw: Any, *, magnitude: float = 10.0, max_batch: int = 6, max_classes: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``(N, C)`` with ``N != C``, ``N >= 2``, ``C >= 2``, and labels ``(N,)``."""
    n = draw(st.integers(2, max_batch))
    c = draw(_integers_except(2, max_classes, n))
    logits = draw(arrays((n, c), magnitude=magnitude))
    return logits, draw(labels(n, c))


@dataclass(frozen=True)
class ConvCase:
    """A consistent convolution: ``x (N, C, H, W)``, ``w (F, C, KH, KW)``, ``stride``, ``padding``."""

    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    stride: int
    padding: int

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        n, _, h, w = self.x_shape
        f, _, kh, kw = self.w_shape
        s, p = self.stride, self.padding
        return n, f, (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1


@st.composite
def conv_cases(draw: Any, *, max_batch: int = 3, max_channels: int = 3, max_filters: int = 3, max_size: int = 8, max_kernel: int = 4, max_stride: int = 3, max_padding: int = 2) -> ConvCase:
    """A convolution geometry whose kernel fits the padded input; ``H != W`` and ``C != F`` by default."""
    n = draw(st.integers(2, max_batch))
    c = draw(st.integers(1, max_channels))
    f = draw(_integers_except(1, max_filters, c))
    h = draw(st.integers(2, max_size))
    w = draw(_integers_except(2, max_size, h))
    padding = draw(st.integers(0, max_padding))
    kh = draw(st.integers(1, min(max_kernel, h + 2 * padding)))
    kw = draw(st.integers(1, min(max_kernel, w + 2 * padding)))
    stride = draw(st.integers(1, max_stride))
    return ConvCase((n, c, h, w), (f, c, kh, kw), stride, padding)


@dataclass(frozen=True)
class PoolCase:
    """A consistent max-pool: ``x (N, C, H, W)``, ``kernel_size``, ``stride`` (``None``: the kernel)."""

    x_shape: tuple[int, int, int, int]
    kernel_size: int
    stride: int | None

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.x_shape
        s = self.stride or self.kernel_size
        k = self.kernel_size
        return n, c, (h - k) // s + 1, (w - k) // s + 1


@st.composite
def pool_cases(draw: Any, *, max_batch: int = 3, max_channels: int = 3, max_size: int = 9, max_kernel: int = 3, overlapping: bool | None = None) -> PoolCase:
    """A pooling geometry with the kernel inside the input, ``H != W``.

    ``overlapping=True`` forces ``stride < kernel_size``, ``False`` forces ``stride=None``;
    ``None`` draws either.
    """
    n = draw(st.integers(2, max_batch))
    c = draw(st.integers(1, max_channels))
    k = draw(st.integers(2 if overlapping else 1, max_kernel))
    h = draw(st.integers(k, max_size))
    w = draw(_integers_except(k, max_size, h))
    if overlapping is True:
        stride: int | None = draw(st.integers(1, k - 1))
    elif overlapping is False:
        stride = None
    else:
        stride = draw(st.one_of(st.none(), st.integers(1, k + 1)))
    return PoolCase((n, c, h, w), k, stride)


def probabilities(*, min_value: float = 0.05, max_value: float = 0.95, avoid_half: bool = True) -> SearchStrategy[float]:
    """A probability in ``[min_value, max_value]``; not 0.5 by default (a keep/drop swap hides there)."""
    return _floats_avoiding(min_value, max_value, 0.5, 0.05) if avoid_half else st.floats(min_value, max_value)


def learning_rates(min_value: float = 1e-4, max_value: float = 0.5) -> SearchStrategy[float]:
    """A learning rate, log-uniform in ``[min_value, max_value]``."""
    return st.floats(np.log(min_value), np.log(max_value)).map(lambda v: float(np.exp(v)))


def momenta(min_value: float = 0.1, max_value: float = 0.95) -> SearchStrategy[float]:
    """A momentum coefficient (SGD momentum, RMSprop alpha), not 0.5 by default range."""
    return _floats_avoiding(min_value, max_value, 0.5, 0.02)


def betas() -> SearchStrategy[tuple[float, float]]:
    """Adam's ``(beta1, beta2)``: ``beta1`` in ``[0.5, 0.95]``, ``beta2`` in ``[0.9, 0.9999]``."""
    return st.tuples(st.floats(0.5, 0.95), st.floats(0.9, 0.9999))


def weight_decays(max_value: float = 0.1) -> SearchStrategy[float]:
    """A weight decay in ``[1e-3, max_value]`` (never 0: a bug that ignores it must show)."""
    return st.floats(1e-3, max_value)


def epsilons() -> SearchStrategy[float]:
    """An ``eps`` for adaptive optimizers or batchnorm, log-uniform in ``[1e-8, 1e-2]``."""
    return st.floats(np.log(1e-8), np.log(1e-2)).map(lambda v: float(np.exp(v)))
