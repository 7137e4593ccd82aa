"""The a6_batchnorm oracle against ``torch.nn.functional.batch_norm`` and ``torch.autograd``.

Everything runs in float64. Two implementations of the same formula differ only by rounding, so
results are compared with a bound on the absolute error scaled by the magnitude of the
quantities each result is computed from (see ``assert_close``), never with a bare ``rtol``: at
N = 2 the true ``dx`` is often ~1e-12 of its inputs while both sides carry ~1e-16 of rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.loader import load_reference

bn = load_reference("a6_batchnorm", "batchnorm")

# Unit roundoff is 1.1e-16; each result is a sum of at most N <= 8 products plus a few
# elementwise operations, so either implementation's error is below ~100 u * scale = 1e-14 * scale.
# 1e-9 leaves five orders of margin yet is ~1e6 times tighter than any formula bug
# (biased vs unbiased variance at N = 2 is a factor 2; a reversed momentum a factor >= 1.2).
TOLERANCE = 1e-9

SETTINGS = settings(max_examples=40, deadline=None)


def assert_within_scale(got: np.ndarray, want: np.ndarray, scale: np.ndarray, what: str) -> None:
    """``|got - want| <= TOLERANCE * scale`` elementwise, with the same shape and dtype float64."""
    __tracebackhide__ = True
    got = np.asarray(got)
    assert got.dtype == np.float64, f"{what}: dtype {got.dtype}, expected float64"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    bound = TOLERANCE * np.broadcast_to(scale, want.shape) + 1e-300
    err = np.abs(got - want)
    if not np.all(err <= bound):
        worst = np.unravel_index(np.argmax(err / bound), err.shape)
        raise AssertionError(
            f"{what}: worst entry {worst}: got {got[worst]!r}, torch {want[worst]!r}, "
            f"error {err[worst]:.3g} > bound {bound[worst]:.3g}"
        )


# ---------------------------------------------------------------------------------------------
# inputs


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def batchnorm_cases(draw: st.DrawFn, n: st.SearchStrategy[int] | None = None, momentum=None) -> dict:
    """One forward/backward problem: x, gamma, beta, running stats, hyper-parameters, dout."""
    n_value = draw(n if n is not None else st.sampled_from([2, 3, 2, 3, 4, 5, 8]))
    d = draw(st.integers(1, 5))
    return {
        "x": draw(arrays(np.float64, (n_value, d), elements=floats(-100, 100))),
        "gamma": draw(arrays(np.float64, (d,), elements=floats(-3, 3))),
        "beta": draw(arrays(np.float64, (d,), elements=floats(-3, 3))),
        "running_mean": draw(arrays(np.float64, (d,), elements=floats(-10, 10))),
        "running_var": draw(arrays(np.float64, (d,), elements=floats(0, 10))),
        "momentum": draw(momentum if momentum is not None else st.sampled_from([0.1, 0.5, 0.9]) | floats(0, 1)),
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.1])),
        # the upstream gradient is random: with dout = 1 the true dx of train mode is 0
        "dout": draw(arrays(np.float64, (n_value, d), elements=floats(-10, 10))),
    }


def torch_batchnorm(case: dict, train: bool) -> dict[str, np.ndarray]:
    """torch's forward output, updated running statistics and gradients for ``case``."""
    t = {k: torch.tensor(case[k], dtype=torch.float64) for k in ("x", "gamma", "beta", "running_mean", "running_var")}
    for k in ("x", "gamma", "beta"):
        t[k].requires_grad_(True)
    out = F.batch_norm(
        t["x"], t["running_mean"], t["running_var"], t["gamma"], t["beta"],
        training=train, momentum=case["momentum"], eps=case["eps"],
    )  # fmt: skip
    out.backward(torch.tensor(case["dout"], dtype=torch.float64))
    return {
        "out": out.detach().numpy(),
        "running_mean": t["running_mean"].numpy(),
        "running_var": t["running_var"].numpy(),
        "dx": t["x"].grad.numpy(),
        "dgamma": t["gamma"].grad.numpy(),
        "dbeta": t["beta"].grad.numpy(),
    }


def scales(case: dict, train: bool) -> dict[str, np.ndarray]:
    """Magnitude of the quantities each result is computed from (for ``assert_close``)."""
    x, dout, rm, rv = case["x"], case["dout"], case["running_mean"], case["running_var"]
    mu, var = (x.mean(axis=0), x.var(axis=0)) if train else (rm, rv)
    std = np.sqrt(var + case["eps"])
    spread = (np.abs(x).max(axis=0) + np.abs(mu)) / std  # bounds |x_hat| and its rounding
    dout_max = np.abs(dout).max(axis=0)
    return {
        "out": np.abs(case["gamma"]) * spread + np.abs(case["beta"]),
        "running_mean": np.abs(rm) + np.abs(x).max(axis=0),
        "running_var": np.abs(rv) + 4 * np.abs(x).max(axis=0) ** 2,
        "dx": np.abs(case["gamma"]) * dout_max / std * (1 + spread),
        "dgamma": np.abs(dout).sum(axis=0) * (1 + spread),
        "dbeta": np.abs(dout).sum(axis=0),
    }


def run_oracle(case: dict, train: bool) -> tuple[dict[str, np.ndarray], dict]:
    bn_param = {
        "mode": "train" if train else "eval",
        "momentum": case["momentum"],
        "eps": case["eps"],
        "running_mean": case["running_mean"].copy(),
        "running_var": case["running_var"].copy(),
    }
    out, cache = bn.batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param)
    dx, dgamma, dbeta = bn.batchnorm_backward(case["dout"], cache)
    got = {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
    got["running_mean"], got["running_var"] = bn_param["running_mean"], bn_param["running_var"]
    return got, bn_param


def check_against_torch(case: dict, train: bool) -> None:
    got, _ = run_oracle(case, train)
    want = torch_batchnorm(case, train)
    scale = scales(case, train)
    for key in want:
        assert_within_scale(got[key], want[key], scale[key], f"{'train' if train else 'eval'} {key}")


# ---------------------------------------------------------------------------------------------
# forward, running statistics and backward against torch


@SETTINGS
@given(batchnorm_cases())
def test_train_mode_matches_torch(case):
    check_against_torch(case, train=True)


@SETTINGS
@given(batchnorm_cases())
def test_eval_mode_matches_torch(case):
    check_against_torch(case, train=False)


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("momentum", [0.5, 0.9])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_small_batches_and_large_momentum_match_torch(n, momentum, data):
    """Where biased and unbiased variances differ most (N = 2: a factor 2) and the momentum
    convention matters (a reversed one weighs the batch by 0.5 or 0.1 instead of 0.5 or 0.9)."""
    case = data.draw(batchnorm_cases(n=st.just(n), momentum=st.just(momentum)))
    check_against_torch(case, train=True)


@settings(max_examples=15, deadline=None)
@given(st.lists(batchnorm_cases(), min_size=1, max_size=4))
def test_running_statistics_over_several_steps_match_torch(cases):
    """Several train steps on one layer, then eval: the running statistics carry over."""
    d = cases[0]["x"].shape[1]
    cases = [c for c in cases if c["x"].shape[1] == d]
    first = cases[0]
    bn_param = {"mode": "train", "momentum": first["momentum"], "eps": first["eps"]}
    running_mean, running_var = torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)
    for case in cases:
        bn.batchnorm_forward(case["x"], first["gamma"], first["beta"], bn_param)
        F.batch_norm(
            torch.tensor(case["x"]), running_mean, running_var, training=True,
            momentum=first["momentum"], eps=first["eps"],
        )  # fmt: skip
    state = {"running_mean": running_mean.numpy(), "running_var": running_var.numpy()}
    extent = max(np.abs(c["x"]).max() for c in cases)
    assert_within_scale(bn_param["running_mean"], state["running_mean"], 1 + extent, "running_mean after several steps")
    assert_within_scale(bn_param["running_var"], state["running_var"], 1 + 4 * extent**2, "running_var after several steps")

    final = {**cases[-1], "gamma": first["gamma"], "beta": first["beta"], "eps": first["eps"]}
    final.update(state)
    bn_param["mode"] = "eval"
    out, _ = bn.batchnorm_forward(final["x"], final["gamma"], final["beta"], bn_param)
    assert_within_scale(out, torch_batchnorm(final, train=False)["out"], scales(final, train=False)["out"], "eval out")


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_missing_keys_take_the_defaults(mode):
    """No eps, momentum or running statistics: eps 1e-5, momentum 0.1, zeros and ones."""
    rng = np.random.default_rng(6)
    n, d = 3, 4
    case = {
        "x": rng.normal(2.0, 3.0, (n, d)),
        "gamma": rng.normal(size=d),
        "beta": rng.normal(size=d),
        "running_mean": np.zeros(d),
        "running_var": np.ones(d),
        "momentum": 0.1,
        "eps": 1e-5,
        "dout": rng.normal(size=(n, d)),
    }
    bn_param = {"mode": mode}
    out, cache = bn.batchnorm_forward(case["x"], case["gamma"], case["beta"], bn_param)
    dx, dgamma, dbeta = bn.batchnorm_backward(case["dout"], cache)
    got = {"out": out, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}
    if mode == "train":
        got["running_mean"], got["running_var"] = bn_param["running_mean"], bn_param["running_var"]
    else:
        assert "running_mean" not in bn_param or np.array_equal(bn_param["running_mean"], np.zeros(d))
        assert "running_var" not in bn_param or np.array_equal(bn_param["running_var"], np.ones(d))
    want = torch_batchnorm(case, train=mode == "train")
    scale = scales(case, train=mode == "train")
    for key, value in got.items():
        assert_within_scale(value, want[key], scale[key], f"{mode} {key} with default bn_param")


# ---------------------------------------------------------------------------------------------
# the spec's other promises


@SETTINGS
@given(batchnorm_cases())
def test_eval_mode_leaves_running_statistics_unchanged(case):
    running_mean, running_var = case["running_mean"].copy(), case["running_var"].copy()
    _, bn_param = run_oracle(case, train=False)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)


@pytest.mark.parametrize("train", [True, False])
@SETTINGS
@given(case=batchnorm_cases())
def test_arguments_are_not_modified(train, case):
    """x, gamma, beta and dout are left alone; only bn_param's running statistics change."""
    before = {k: np.copy(v) for k, v in case.items()}
    run_oracle(case, train)
    for key, value in before.items():
        np.testing.assert_array_equal(case[key], value, err_msg=f"{key} was modified")


def test_cache_is_independent_of_later_calls():
    """A later forward call (which replaces the running statistics) must not change an earlier cache."""
    rng = np.random.default_rng(0)
    x1, x2, dout = rng.normal(size=(4, 3)), rng.normal(5, 2, size=(4, 3)), rng.normal(size=(4, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    for mode in ("train", "eval"):
        bn_param = {"mode": mode}
        _, cache = bn.batchnorm_forward(x1, gamma, beta, bn_param)
        expected = bn.batchnorm_backward(dout, cache)
        bn.batchnorm_forward(x2, gamma, beta, {**bn_param, "mode": "train"} if mode == "eval" else bn_param)
        for got, want in zip(bn.batchnorm_backward(dout, cache), expected):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [0, 1])
def test_train_mode_needs_two_samples(n):
    bn_param = {"mode": "train"}
    with pytest.raises(ValueError):
        bn.batchnorm_forward(np.ones((n, 3)), np.ones(3), np.zeros(3), bn_param)
    # torch agrees for N = 1
    if n == 1:
        with pytest.raises(ValueError):
            F.batch_norm(torch.ones(1, 3, dtype=torch.float64), torch.zeros(3), torch.ones(3), training=True)


def test_eval_mode_accepts_a_single_sample():
    rng = np.random.default_rng(1)
    case = {
        "x": rng.normal(size=(1, 4)), "gamma": rng.normal(size=4), "beta": rng.normal(size=4),
        "running_mean": rng.normal(size=4), "running_var": rng.uniform(0.5, 2, size=4),
        "momentum": 0.1, "eps": 1e-5, "dout": rng.normal(size=(1, 4)),
    }  # fmt: skip
    check_against_torch(case, train=False)


def test_running_var_is_unbiased_and_momentum_weighs_the_batch():
    """The two conventions where courses differ from PyTorch (CS231n: biased running_var and
    ``momentum * running + (1 - momentum) * batch``), on a case worked by hand."""
    x = np.array([[0.0], [2.0]])  # batch mean 1, biased variance 1, unbiased variance 2
    bn_param = {"mode": "train", "momentum": 0.9, "running_mean": np.array([10.0]), "running_var": np.array([5.0])}
    bn.batchnorm_forward(x, np.ones(1), np.zeros(1), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], [0.1 * 10 + 0.9 * 1], rtol=1e-15)
    np.testing.assert_allclose(bn_param["running_var"], [0.1 * 5 + 0.9 * 2], rtol=1e-15)
    t_mean, t_var = torch.tensor([10.0], dtype=torch.float64), torch.tensor([5.0], dtype=torch.float64)
    F.batch_norm(torch.tensor(x), t_mean, t_var, training=True, momentum=0.9)
    np.testing.assert_allclose(t_mean.numpy(), bn_param["running_mean"], rtol=1e-15)
    np.testing.assert_allclose(t_var.numpy(), bn_param["running_var"], rtol=1e-15)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError):
        bn.batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {"mode": "test"})
