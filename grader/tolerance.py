"""Closeness of a student's float64 result to the expected one, with type checks first.

The course's contract (the students' README, ``ci/classroom/README.md``: "How results are
compared") calls a result correct when it agrees with the exact value to about six significant
digits, relative to the magnitude of the quantities it is computed from.
Hence the defaults:

* ``RTOL = 1e-6``: six significant digits. Float64 carries about 16, and a valid but different
  order of operations in a well-conditioned computation changes a result by a few units of
  ``n * 2.2e-16`` (``n`` the number of terms), so a correct implementation sits at least six
  orders of magnitude inside the band, while a real bug (a wrong axis, a missing 1/N, a
  transposed gradient) changes results by far more than one part in a million.
* ``ATOL = 1e-9``: for expected values at or near zero computed from O(1) quantities, where the
  absolute rounding error of a sum of O(1) terms is about ``1e-15`` per term. Pass ``scale`` (the
  magnitude of the inputs) when a result is computed from larger quantities: the absolute
  tolerance is then ``max(atol, rtol * scale)``.

An entry passes when ``|actual - expected| <= max(atol, rtol * scale) + rtol * |expected|``.
NaN and inf in ``actual`` never pass, whatever ``expected`` holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RTOL = 1e-6
ATOL = 1e-9


def _fail(message: str) -> None:
    __tracebackhide__ = True
    raise AssertionError(message)


def describe(value: Any) -> str:
    """A short description of a value's type for messages: ``ndarray float32 (3, 4)``."""
    if isinstance(value, np.ndarray):
        kind = "ndarray" if type(value) is np.ndarray else f"{type(value).__name__} (an ndarray subclass)"
        return f"{kind} of dtype {value.dtype} and shape {value.shape}"
    return type(value).__name__


def check_array_type(actual: Any, shape: tuple[int, ...], *, what: str = "result") -> np.ndarray:
    """Assert that ``actual`` is a plain ``np.ndarray`` of float64 with ``shape``; return it."""
    __tracebackhide__ = True
    if type(actual) is not np.ndarray:
        _fail(f"{what}: expected a numpy float64 array of shape {shape}, got {describe(actual)}")
    if actual.dtype != np.float64:
        _fail(f"{what}: expected dtype float64, got {actual.dtype} (shape {actual.shape})")
    if actual.shape != tuple(shape):
        _fail(f"{what}: expected shape {tuple(shape)}, got {actual.shape}")
    return actual


def check_scalar_type(actual: Any, *, what: str = "result") -> float:
    """Assert that ``actual`` is a scalar number a float is due as; return it as a float.

    Accepted: a Python float, ``np.float64`` or a 0-d float64 array, and (the handout: ``0`` is as
    good as ``0.0``) a Python int or numpy integer scalar, which are exact. Never a bool, a
    lower-precision float, a tensor or any other object.
    """
    __tracebackhide__ = True
    if type(actual) is np.ndarray and actual.shape == () and actual.dtype == np.float64:
        return float(actual)
    if type(actual) in (float, np.float64):
        return float(actual)
    if type(actual) is int or (isinstance(actual, np.integer) and type(actual).__module__ == "numpy"):
        try:
            return float(actual)
        except OverflowError:
            _fail(f"{what}: the integer {actual} is too large to be a float")
    _fail(f"{what}: expected a float (Python float or numpy float64), got {describe(actual)}")
    raise AssertionError  # unreachable: _fail raised


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    scale: float = 0.0,
    where: Any = None,
    what: str = "result",
) -> None:
    """Assert that ``actual`` equals ``expected`` (an array or a float) within tolerance.

    Checks in order: the type (a plain ``np.ndarray``, never a subclass or a look-alike; a float,
    or an int of the right value, where ``expected`` is a scalar), the dtype (float64), the shape,
    finiteness, then closeness. The message names the worst entry, its expected and actual
    values and how many entries miss. ``where``: a boolean mask (broadcast to the shape) of the
    entries to compare, the others free (a subgradient at a kink); indices stay those of
    ``actual``, which a comparison of ``actual[mask]`` would lose.
    """
    __tracebackhide__ = True
    expected_array = np.asarray(expected, dtype=np.float64)
    scalar_expected = isinstance(expected, (float, int, np.floating)) and not isinstance(expected, bool)
    if scalar_expected or (expected_array.shape == () and type(actual) is not np.ndarray):
        got = np.asarray(check_scalar_type(actual, what=what))
    else:
        got = check_array_type(actual, expected_array.shape, what=what)
    compared = _mask(where, expected_array.shape)
    bad = ~np.isfinite(got) & compared
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(f"{what}: contains {got[index] if index else got} at index {index} (expected {expected_array[index]:.10g}); NaN and inf are never correct")
    limit = max(atol, rtol * scale) + rtol * np.abs(expected_array)
    with np.errstate(invalid="ignore"):  # entries left out by ``where`` may be NaN or inf
        error = np.abs(got - expected_array)
        excess = np.where(compared, error - limit, -np.inf)
    misses = excess > 0
    if misses.any():
        worst = np.unravel_index(int(np.argmax(excess)), error.shape) if error.ndim else ()
        worst = tuple(int(i) for i in worst)
        at = f" at index {worst}" if worst else ""
        _fail(
            f"{what}: {int(misses.sum())} of {int(compared.sum())} entries differ; worst{at}: "
            f"expected {expected_array[worst]:.10g}, got {got[worst]:.10g} "
            f"(difference {error[worst]:.3g}, allowed {limit[worst]:.3g})"
        )


def _mask(where: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``where`` as a boolean mask of ``shape`` (every entry when it is None)."""
    if where is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(where)
    if mask.dtype != np.bool_:
        raise TypeError(f"where={where!r}: give a boolean mask (e.g. x != 0), not an array of {mask.dtype}")
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(f"where of shape {mask.shape} does not broadcast to the compared shape {shape}") from None
