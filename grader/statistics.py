"""Statistical assertions for stochastic student code: dropout masks, weight initializers.

Every assertion accepts a correct implementation except with probability at most ``alpha``
(default ``1e-9``), whatever the seed. The bounds are rigorous tail inequalities, not normal
approximations, so the guarantee holds at every sample size:

* **Binomial fraction** (Chernoff): for ``k ~ Binomial(n, p)`` and ``q > p``,
  ``P(k/n >= q) <= exp(-n * KL(q || p))`` and likewise below ``p``. Accepting
  ``KL(k/n || p) <= ln(2/alpha) / n`` on the side ``k/n`` lies fails a correct sampler with
  probability at most ``alpha``.
* **Normal mean**: ``mean(x) ~ N(mu, sigma^2 / n)`` exactly, so ``|mean - mu| <= z sigma / sqrt(n)``
  with ``z = Phi^-1(1 - alpha/2)`` (6.11 at ``alpha = 1e-9``).
* **Normal variance** (Laurent & Massart 2000): for ``X ~ chi2(k)``,
  ``P(X - k >= 2 sqrt(k t) + 2t) <= e^-t`` and ``P(k - X >= 2 sqrt(k t)) <= e^-t``. With
  ``X = (n - 1) s^2 / sigma^2`` and ``t = ln(2/alpha)``.
* **Bounded variables** (Hoeffding): for iid ``y_i`` in ``[lo, hi]``,
  ``P(|mean(y) - E y| >= eps) <= 2 exp(-2 n eps^2 / (hi - lo)^2)``.

An assertion that makes several checks splits ``alpha`` evenly among them (a union bound).
``tests/test_statistics.py`` measures the false-fail rate and the power by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from statistics import NormalDist

import numpy as np

ALPHA = 1e-9
"""Default false-fail probability of one assertion for a correct implementation."""

_NORMAL_TAIL_Z = 2.0
_NORMAL_TAIL_P = 2 * NormalDist().cdf(-_NORMAL_TAIL_Z)  # P(|Z| > 2) = 0.0455


def _kl_bernoulli(q: float, p: float) -> float:
    """KL(Bernoulli(q) || Bernoulli(p)), with 0 log 0 = 0."""

    def term(a: float, b: float) -> float:
        return 0.0 if a == 0 else a * math.log(a / b)

    return term(q, p) + term(1 - q, 1 - p)


def binomial_band(n: int, p: float, alpha: float = ALPHA) -> tuple[float, float]:
    """The interval ``[lo, hi]`` of fractions ``k/n`` accepted for ``Binomial(n, p)`` at ``alpha``.

    ``lo`` and ``hi`` solve ``KL(q || p) = ln(2/alpha) / n`` below and above ``p`` (bisection).
    """
    if p <= 0.0:
        return 0.0, 0.0
    if p >= 1.0:
        return 1.0, 1.0
    budget = math.log(2 / alpha) / n

    def solve(inside: float, outside: float) -> float:
        if _kl_bernoulli(outside, p) <= budget:
            return outside
        for _ in range(200):
            middle = (inside + outside) / 2
            if _kl_bernoulli(middle, p) <= budget:
                inside = middle
            else:
                outside = middle
        return inside

    return solve(p, 0.0), solve(p, 1.0)


def _samples(x: object, what: str) -> np.ndarray:
    array = np.asarray(x, dtype=np.float64).ravel()
    if array.size == 0:
        raise AssertionError(f"{what}: no samples to test")
    if not np.all(np.isfinite(array)):
        raise AssertionError(f"{what}: contains NaN or inf")
    return array


def assert_fraction(hits: object, p: float, *, alpha: float = ALPHA, what: str = "events") -> None:
    """Assert that the boolean array ``hits`` looks like ``n`` independent Bernoulli(p) draws.

    The fraction of True must lie in :func:`binomial_band`; with ``p`` 0 or 1 it must be exact.
    """
    flags = np.asarray(hits, dtype=bool).ravel()
    n = flags.size
    if n == 0:
        raise AssertionError(f"{what}: no samples to test")
    fraction = float(flags.mean())
    lo, hi = binomial_band(n, p, alpha)
    if not lo <= fraction <= hi:
        raise AssertionError(
            f"{what}: fraction {fraction:.5f} of {n} samples, expected {p:.5f} "
            f"(accepted range [{lo:.5f}, {hi:.5f}]; a correct implementation falls outside it "
            f"with probability below {alpha:g})"
        )


def assert_zero_fraction(x: object, p: float, *, alpha: float = ALPHA, what: str = "output") -> None:
    """Assert that each entry of ``x`` is zero independently with probability ``p`` (dropout).

    Entries of ``x`` that were zero before dropping count as zeros too: test with nonzero inputs.
    """
    assert_fraction(np.asarray(x) == 0, p, alpha=alpha, what=f"{what}: zero fraction")


def assert_mean(samples: object, mean: float, std: float, *, alpha: float = ALPHA, what: str = "samples") -> None:
    """Assert that iid ``N(mean, std^2)`` samples have that mean: ``|x̄ - mean| <= z std / sqrt(n)``."""
    x = _samples(samples, what)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    half_width = z * std / math.sqrt(x.size)
    observed = float(x.mean())
    if not abs(observed - mean) <= half_width:
        raise AssertionError(
            f"{what}: sample mean {observed:.6g} over {x.size} samples, expected {mean:.6g} "
            f"± {half_width:.3g} (std {std:.6g}, false-fail probability {alpha:g})"
        )


def chi2_band(k: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Bounds ``[lo, hi]`` on ``X / k`` for ``X ~ chi2(k)``, each side violated w.p. <= alpha/2."""
    t = math.log(2 / alpha)
    lo = max(0.0, k - 2 * math.sqrt(k * t)) / k
    hi = (k + 2 * math.sqrt(k * t) + 2 * t) / k
    return lo, hi


def assert_std(samples: object, std: float, *, alpha: float = ALPHA, what: str = "samples") -> None:
    """Assert that iid normal samples have standard deviation ``std``.

    ``s^2 / std^2`` (``s`` with ``ddof=1``) must lie in ``chi2_band(n - 1)``: at ``n = 2048`` and
    ``alpha = 1e-9`` that is about ``[0.80, 1.21]``, so a variance off by a factor 2 is caught.
    """
    x = _samples(samples, what)
    if x.size < 2:
        raise AssertionError(f"{what}: need at least 2 samples to test a standard deviation")
    lo, hi = chi2_band(x.size - 1, alpha)
    ratio = float(x.var(ddof=1)) / std**2 if std > 0 else math.inf
    if std == 0:
        if np.all(x == x[0]):
            return
        raise AssertionError(f"{what}: expected constant samples, got std {x.std():.6g}")
    if not lo <= ratio <= hi:
        raise AssertionError(
            f"{what}: sample std {math.sqrt(ratio) * std:.6g} over {x.size} samples, expected {std:.6g} "
            f"(accepted {math.sqrt(lo) * std:.6g} to {math.sqrt(hi) * std:.6g}; "
            f"false-fail probability {alpha:g})"
        )


def assert_normal(samples: object, mean: float, std: float, *, alpha: float = ALPHA, what: str = "samples") -> None:
    """Assert iid ``N(mean, std^2)``: its mean, its std, and its tails.

    The tail check counts samples beyond ``mean ± 2 std`` (a Binomial(n, 0.0455)); a uniform
    distribution of the same variance has none there, so it tells normal from uniform.
    """
    third = alpha / 3
    assert_mean(samples, mean, std, alpha=third, what=what)
    assert_std(samples, std, alpha=third, what=what)
    x = _samples(samples, what)
    assert_fraction(
        np.abs(x - mean) > _NORMAL_TAIL_Z * std,
        _NORMAL_TAIL_P,
        alpha=third,
        what=f"{what}: fraction beyond {_NORMAL_TAIL_Z:g} std (normal tails)",
    )


def assert_uniform(samples: object, bound: float, *, alpha: float = ALPHA, what: str = "samples") -> None:
    """Assert iid ``U(-bound, bound)``: support, reach, mean and second moment.

    * every ``|x| <= bound`` (exact for a correct sampler, up to one rounding);
    * ``max |x| >= bound (1 - u)`` where ``(1 - u)^n = alpha/4``;
    * ``|mean(x)| <= bound sqrt(2 ln(8/alpha) / n)`` (Hoeffding on ``[-bound, bound]``);
    * ``|mean(x^2) - bound^2/3| <= bound^2 sqrt(ln(8/alpha) / (2n))`` (Hoeffding on ``[0, bound^2]``),
      which catches a bound off by ``sqrt(3)``.
    """
    x = _samples(samples, what)
    n = x.size
    quarter = alpha / 4
    largest = float(np.abs(x).max())
    if largest > bound * (1 + 1e-12):
        raise AssertionError(f"{what}: value {largest:.6g} outside the support [-{bound:.6g}, {bound:.6g}]")
    reach = bound * quarter ** (1 / n)
    if largest < reach:
        raise AssertionError(
            f"{what}: the largest |value| is {largest:.6g}, but {n} draws from U(-{bound:.6g}, {bound:.6g}) "
            f"reach beyond {reach:.6g} (false-fail probability {quarter:g})"
        )
    mean_width = bound * math.sqrt(2 * math.log(2 / quarter) / n)
    if abs(float(x.mean())) > mean_width:
        raise AssertionError(f"{what}: sample mean {x.mean():.6g}, expected 0 ± {mean_width:.3g}")
    second = float(np.mean(x**2))
    second_width = bound**2 * math.sqrt(math.log(2 / quarter) / (2 * n))
    if abs(second - bound**2 / 3) > second_width:
        raise AssertionError(
            f"{what}: mean of squares {second:.6g}, expected bound**2/3 = {bound**2 / 3:.6g} "
            f"± {second_width:.3g} (std {math.sqrt(second):.6g} vs {bound / math.sqrt(3):.6g})"
        )


def one_failure(check: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run a statistical check (``assert_normal(w, 0.0, std)`` as ``one_failure(assert_normal, w, 0.0, std)``);
    whichever of its parts fails (mean, std, tails, support), fail from this one line, so that
    Hypothesis shrinks one failure rather than one per part."""
    __tracebackhide__ = True
    try:
        check(*args, **kwargs)
    except AssertionError as error:
        message = str(error)
    else:
        return
    raise AssertionError(message)  # outside the except: no chained context, one origin
