"""The statistical assertions: false-fail rate and power, measured by simulation.

The bounds are rigorous (Chernoff, Laurent-Massart, Hoeffding), so a correct sampler fails at a
rate at most ``alpha``. A rate of 1e-9 cannot be observed directly: the simulations run each
assertion at ``alpha = 0.05`` (where a wrong constant in a bound would show as an excess of
failures) and at the default 1e-9 (where nothing may fail), and measure the power against the
bugs the course cares about at the default ``alpha``.
"""

import math

import numpy as np
import pytest

from grader.statistics import (
    ALPHA,
    assert_fraction,
    assert_mean,
    assert_normal,
    assert_std,
    assert_uniform,
    assert_zero_fraction,
    binomial_band,
    chi2_band,
)

RUNS = 2000


def failure_rate(check, sampler, runs=RUNS, seed=0):
    rng = np.random.default_rng(seed)
    failures = 0
    for _ in range(runs):
        try:
            check(sampler(rng))
        except AssertionError:
            failures += 1
    return failures / runs


CORRECT_CASES = {
    "fraction": (lambda s, a: assert_fraction(s, 0.3, alpha=a), lambda r: r.random(500) < 0.3),
    "zeros": (lambda s, a: assert_zero_fraction(s, 0.2, alpha=a), lambda r: np.where(r.random(800) < 0.2, 0.0, 1.5)),
    "mean": (lambda s, a: assert_mean(s, 1.0, 2.0, alpha=a), lambda r: r.normal(1.0, 2.0, 200)),
    "std": (lambda s, a: assert_std(s, 2.0, alpha=a), lambda r: r.normal(0.0, 2.0, 200)),
    "normal": (lambda s, a: assert_normal(s, 0.0, 0.5, alpha=a), lambda r: r.normal(0.0, 0.5, 300)),
    "uniform": (lambda s, a: assert_uniform(s, 3.0, alpha=a), lambda r: r.uniform(-3.0, 3.0, 300)),
}


@pytest.mark.parametrize("name", CORRECT_CASES)
def test_false_fail_rate_is_below_alpha(name):
    check, sampler = CORRECT_CASES[name]
    # The mean's bound is exact (rate = alpha); the others are conservative (rate << alpha).
    # Allow the simulation's own noise: four standard deviations of a Binomial(RUNS, 0.05).
    assert failure_rate(lambda s: check(s, 0.05), sampler) <= 0.05 + 4 * math.sqrt(0.05 * 0.95 / RUNS)
    assert failure_rate(lambda s: check(s, ALPHA), sampler, runs=500, seed=1) == 0.0


# Each bug at the default alpha, on the sample sizes the course's tests use.
BUGS = {
    "dropout p as keep probability (p=0.2)": (
        lambda s: assert_zero_fraction(s, 0.2), lambda r: np.where(r.random(10_000) < 0.8, 0.0, 1.0)),
    "dropout rate off by 0.02 (p=0.3)": (
        lambda s: assert_zero_fraction(s, 0.3), lambda r: np.where(r.random(50_000) < 0.32, 0.0, 1.0)),
    "variance doubled (fan swap on a 2:1 weight)": (
        lambda s: assert_std(s, 1.0), lambda r: r.normal(0.0, math.sqrt(2.0), 2048)),
    "variance halved (missing gain sqrt(2))": (
        lambda s: assert_normal(s, 0.0, 1.0), lambda r: r.normal(0.0, math.sqrt(0.5), 2048)),
    "uniform instead of normal, same variance": (
        lambda s: assert_normal(s, 0.0, 1.0), lambda r: r.uniform(-math.sqrt(3), math.sqrt(3), 4096)),
    "normal instead of uniform, same variance": (
        lambda s: assert_uniform(s, math.sqrt(3)), lambda r: r.normal(0.0, 1.0, 4096)),
    "uniform bound missing sqrt(3)": (
        lambda s: assert_uniform(s, 3.0), lambda r: r.uniform(-3 / math.sqrt(3), 3 / math.sqrt(3), 1024)),
    "mean shifted by 0.2 std": (
        lambda s: assert_mean(s, 0.0, 1.0), lambda r: r.normal(0.2, 1.0, 4096)),
}


@pytest.mark.parametrize("bug", BUGS)
def test_power_against_planted_bugs(bug):
    check, sampler = BUGS[bug]
    assert failure_rate(check, sampler, runs=200) == 1.0


def test_binomial_band_is_the_chernoff_bound():
    lo, hi = binomial_band(100_000, 0.3)
    assert 0.29 < lo < 0.3 < hi < 0.31
    assert binomial_band(10, 0.0) == (0.0, 0.0)
    assert binomial_band(10, 1.0) == (1.0, 1.0)


def test_chi2_band_width_at_2048_samples():
    lo, hi = chi2_band(2047)
    assert 0.78 < lo < 0.82 and 1.18 < hi < 1.24


def test_exact_cases():
    assert_zero_fraction(np.zeros(10), 1.0)
    assert_zero_fraction(np.ones(10), 0.0)
    with pytest.raises(AssertionError):
        assert_zero_fraction(np.array([0.0] + [1.0] * 9), 0.0)


def test_messages_say_what_was_expected():
    with pytest.raises(AssertionError, match=r"zero fraction: fraction 0\.80000 of 1000 samples, expected 0\.20000"):
        assert_zero_fraction(np.where(np.arange(1000) < 800, 0.0, 1.0), 0.2, what="dropout output")
    with pytest.raises(AssertionError, match="outside the support"):
        assert_uniform(np.array([0.0, 2.0]), 1.0)
    with pytest.raises(AssertionError, match="NaN"):
        assert_std(np.array([1.0, np.nan]), 1.0)
