"""Numerical gradient checks by central differences in float64.

For a function ``f`` with array output ``y`` and an upstream gradient ``g`` (random normal, never
all ones: ``d/dx sum(softmax(x)) = 0`` would hide every bug), the scalar ``L = sum(g * y)`` has

    dL/dx[i] ≈ (L(x + h e_i) - L(x - h e_i)) / (2h),   h = H * max(1, |x[i]|)

with truncation error ``O(h^2 f''')`` and rounding error about ``eps |L| / h``. An entry passes
when ``|analytic - numeric| <= rtol * max(|analytic|, |numeric|) + atol_scale * (1 + |L|)``: with
``H = 1e-6`` the rounding term is about ``2e-10 (1 + |L|)``, a hundred times below the default
``atol_scale = 1e-8``, and ``rtol = 1e-5`` is far above the ``1e-12`` truncation error of smooth
functions on O(1) inputs. Inputs must stay at least ``10 h`` away from kinks (see
``grader.strategies``).

Cost: two evaluations of ``f`` per checked entry; inputs with more than ``max_entries`` entries
are checked on a random sample of that many. Every evaluation of one check, the unperturbed one
included, is sent as a single batch, so a student function running in a worker process costs one
round trip per check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.tolerance import check_array_type, check_scalar_type, describe

H = 1e-6
RTOL = 1e-5
ATOL_SCALE = 1e-8
MAX_ENTRIES = 40

Call = tuple[tuple[Any, ...], dict[str, Any]]


def call_many(func: Callable[..., Any], calls: Sequence[Call], pick: int | None = None) -> list[Any]:
    """Evaluate ``func(*args, **kwargs)`` for each call, keeping element ``pick`` of each result.

    A student function served by a worker process (``grader.worker``) does all of them in one
    round trip through its ``map_calls``; a plain function is called in a loop.
    """
    batched = getattr(func, "map_calls", None)
    if batched is not None:
        return batched(list(calls), pick)
    results = []
    for args, kwargs in calls:
        result = func(*args, **kwargs)
        results.append(result if pick is None else result[pick])
    return results


@dataclass(frozen=True)
class EntryError:
    """One checked entry: which argument, where, and both gradients."""

    argument: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    excess: float  # |analytic - numeric| minus the allowed difference; > 0 fails


def _sample_indices(shape: tuple[int, ...], max_entries: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= max_entries else np.sort(rng.choice(size, max_entries, replace=False))
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in flat]


def check_gradient(
    func: Callable[..., Any],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, Any],
    *,
    rng: np.random.Generator,
    dout: np.ndarray | None = None,
    kwargs: Mapping[str, Any] | None = None,
    pick: int | None = None,
    h: float = H,
    rtol: float = RTOL,
    atol_scale: float = ATOL_SCALE,
    max_entries: int = MAX_ENTRIES,
    what: str = "gradient",
) -> None:
    """Assert that ``analytic[name]`` is the gradient of ``sum(dout * func(...))`` w.r.t. ``inputs[name]``.

    ``func`` is called as ``func(*inputs.values(), **kwargs)``, element ``pick`` of its result
    taken (``0`` for ``(out, cache)`` and ``(loss, grad)``). ``dout`` is the upstream gradient
    (``None`` for a scalar output). ``analytic`` names the arguments to check, each a claimed
    gradient of that argument's shape. Raises ``AssertionError`` naming the worst entry.
    """
    __tracebackhide__ = True
    kwargs = dict(kwargs or {})
    names = list(inputs)
    base = [np.array(inputs[n], dtype=np.float64) for n in names]
    for name, grad in analytic.items():
        check_array_type(grad, base[names.index(name)].shape, what=f"{what} d{name}")

    plan: list[tuple[str, tuple[int, ...], float]] = []
    calls: list[Call] = []
    for name in analytic:
        position = names.index(name)
        for index in _sample_indices(base[position].shape, max_entries, rng):
            step = h * max(1.0, abs(float(base[position][index])))
            for sign in (+1.0, -1.0):
                args = [a.copy() for a in base]
                args[position][index] += sign * step
                calls.append((tuple(args), kwargs))
            plan.append((name, index, step))

    unperturbed, *outputs = call_many(func, [(tuple(base), kwargs), *calls], pick)
    objective = _scalar_objective(unperturbed, dout, what)
    values = [_scalar_objective(out, dout, what) for out in outputs]
    atol = atol_scale * (1.0 + abs(objective))

    errors = []
    for k, (name, index, step) in enumerate(plan):
        numeric = (values[2 * k] - values[2 * k + 1]) / (2 * step)
        claimed = float(analytic[name][index])
        allowed = rtol * max(abs(claimed), abs(numeric)) + atol
        errors.append(EntryError(name, index, claimed, numeric, abs(claimed - numeric) - allowed))
    worst = max(errors, key=lambda e: e.excess)
    failing = sum(e.excess > 0 for e in errors)
    if not np.isfinite(worst.analytic) or worst.excess > 0:
        raise AssertionError(
            f"{what}: {failing} of {len(errors)} checked entries disagree with central differences; "
            f"worst: d{worst.argument}{list(worst.index)} is {worst.analytic:.10g}, "
            f"numerically {worst.numeric:.10g}"
        )


def _scalar_objective(out: Any, dout: np.ndarray | None, what: str) -> float:
    __tracebackhide__ = True
    if dout is None:
        return check_scalar_type(out, what=f"{what}: forward output")
    if type(out) is not np.ndarray or out.shape != dout.shape:
        raise AssertionError(f"{what}: forward output should be an array of shape {dout.shape}, got {describe(out)}")
    return float(np.sum(np.asarray(out, dtype=np.float64) * dout))


def check_layer_gradient(
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    inputs: Mapping[str, np.ndarray],
    *,
    rng: np.random.Generator,
    wrt: Sequence[str] | None = None,
    kwargs: Mapping[str, Any] | None = None,
    what: str | None = None,
    **options: Any,
) -> None:
    """Gradient-check a ``forward(...) -> (out, cache)`` / ``backward(dout, cache)`` pair.

    ``backward`` returns the gradients of the arguments named in ``wrt`` (default: all of
    ``inputs``), in that order: one array, or a tuple when ``wrt`` names several. The upstream
    gradient is drawn from ``rng`` (standard normal, same shape as ``out``).
    """
    __tracebackhide__ = True
    wrt = list(wrt or inputs)
    label = what or f"{getattr(backward, '__name__', 'backward')}"
    out, cache = forward(*inputs.values(), **dict(kwargs or {}))
    if type(out) is not np.ndarray:
        raise AssertionError(f"{label}: forward output should be a numpy array, got {describe(out)}")
    dout = rng.standard_normal(out.shape)
    grads = backward(dout.copy(), cache)
    if len(wrt) == 1:
        grads = (grads,)
    elif not isinstance(grads, tuple) or len(grads) != len(wrt):
        raise AssertionError(f"{label}: expected a tuple of {len(wrt)} gradients ({', '.join('d' + n for n in wrt)}), got {describe(grads)}")
    check_gradient(
        forward,
        inputs,
        dict(zip(wrt, grads, strict=True)),
        rng=rng,
        dout=dout,
        kwargs=kwargs,
        pick=0,
        what=label,
        **options,
    )
