"""Public tests for batchnorm.py: run them with ``pytest assignments/a6_batchnorm``.

They check the forward pass in both modes against the handout's formulas, the running statistics
written back into ``bn_param`` (PyTorch's momentum convention, the UNBIASED variance), the defaults
for missing keys, the ``ValueError`` for a single sample in train mode, your backward pass against
central differences of YOUR OWN forward pass (random upstream gradient: with ``dout = 1`` the
true ``dx`` is 0 and every bug would hide), and everything against
``torch.nn.functional.batch_norm`` with autograd. ``bn_param`` is passed with ``bn.share`` and
read back with ``bn.fetch``, so the tests see your updates however your code runs.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, check_layer_gradient, student_raises, torch_one_thread
from grader import strategies as dl

# `student` is a function-scoped fixture that holds no per-example state: safe under @given
fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
    phases=[phase for phase in settings.default.phases if phase is not Phase.explain],  # keep failing runs short
)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = dl.shapes(min_batch=2, max_side=6)
SMALL_BATCHES = st.tuples(st.sampled_from([2, 3]), st.integers(1, 5)).filter(lambda s: s[0] != s[1])
MOMENTA = st.sampled_from([0.05, 0.1, 0.3, 0.75, 0.9, 1.0]) | st.floats(0.01, 0.99)
EPSILONS = st.just(1e-5) | dl.epsilons()


def make_case(seed, shape, spreads=(0.01, 0.3, 1.0, 10.0), offset=5.0, min_var=0.0):
    """``x`` whose columns have different spreads (std 0.01 to 10 by default) and offsets, ``gamma``,
    ``beta`` (in a memory layout the seed picks), and running statistics (variances in [0.5, 2]).
    Columns whose variance falls below ``min_var`` are stretched about their mean up to it."""
    r = np.random.default_rng(seed)
    n, d = shape
    x = r.standard_normal((n, d)) * r.choice(spreads, size=d) + r.uniform(-offset, offset, size=d)
    if min_var > 0:
        mean = x.mean(axis=0)
        x = mean + (x - mean) * np.sqrt(np.maximum(1.0, min_var / np.maximum(x.var(axis=0), 1e-300)))
    gamma = r.uniform(0.5, 2.0, size=d) * r.choice([-1.0, 1.0], size=d)
    beta = r.standard_normal(d)
    layout = dl.LAYOUTS[seed % len(dl.LAYOUTS)]  # x, gamma, beta as callers may pass them
    return (*(dl.laid_out(a, layout) for a in (x, gamma, beta)), r.standard_normal(d), r.uniform(0.5, 2.0, size=d))


# For central differences (step 1e-6 max(1, |x|)) on the train-mode layer: the normalised output
# curves on the scale of each column's std, so columns keep a variance of at least 1e-2 and
# moderate offsets. Then truncation stays below the rounding error: over 30,000 checked entries
# the largest |analytic - numeric| was 8% of the allowed difference.
SMOOTH = {"spreads": (0.3, 1.0, 3.0), "offset": 1.0, "min_var": 1e-2}


def forward_with(bn, x, gamma, beta, bn_param):
    """Run the student's forward with a shared ``bn_param``; return ``out`` and the dict afterwards."""
    shared = bn.share(bn_param)
    out, _ = bn.batchnorm_forward(x, gamma, beta, shared)
    check_array_type(out, x.shape, what=f"batchnorm_forward output ({bn_param['mode']})")
    state = bn.fetch(shared)
    if type(state) is not dict:
        raise AssertionError(f"bn_param should stay a dict, got {type(state).__name__}")
    return out, state


def running_statistics(state, d):
    """``(running_mean, running_var)`` from the dict after a train-mode call, checked for type and shape."""
    for key in ("running_mean", "running_var"):
        if key not in state:
            raise AssertionError(f"after a train-mode call bn_param should hold {key!r}; it has {sorted(state)}")
        check_array_type(state[key], (d,), what=f"bn_param[{key!r}]")
    return state["running_mean"], state["running_var"]


def normalise(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def output_scale(out, beta):
    """The size of the normalised term ``gamma * x_hat`` of a train-mode ``out``: its rounding is
    relative to it. A valid batch variance rounds differently (``E[x^2] - mu^2``); with ``var + eps``
    as small as 1e-8, where ``gamma * x_hat`` and ``beta`` cancel (``out`` near 0), ``out`` moves by
    more than 1e-6 of itself, yet by under 1e-7 of ``max |gamma * x_hat|``."""
    return float(np.abs(out - beta).max())


# ------------------------------------------------------------------------------ train-mode forward
@pytest.mark.points(2)
@fixture_ok
@given(shape=SHAPES, seed=SEEDS, eps=EPSILONS, momentum=MOMENTA)
@example(shape=(2, 4), seed=2617684811, eps=3.5755385040675096e-08, momentum=0.1)  # var + eps ~ 1e-7, out ~ -0.006
def test_train_normalises_with_the_batch_mean_and_biased_variance(student, shape, seed, eps, momentum):
    bn = student("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    bn_param = {"mode": "train", "eps": eps, "momentum": momentum, "running_mean": rm, "running_var": rv}
    out, _ = forward_with(bn, x, gamma, beta, bn_param)
    expected = normalise(x, gamma, beta, x.mean(axis=0), x.var(axis=0), eps)
    assert_close(out, expected, scale=output_scale(expected, beta), what=f"batchnorm_forward output (train, eps={eps:g})")


@pytest.mark.points(2)
@fixture_ok
@given(shape=SMALL_BATCHES | SHAPES, seed=SEEDS, momentum=MOMENTA)
def test_train_updates_the_running_statistics(student, shape, seed, momentum):
    """running = (1 - momentum) * running + momentum * batch statistic, with the UNBIASED variance."""
    bn = student("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": momentum, "running_mean": rm.copy(), "running_var": rv.copy()}
    _, state = forward_with(bn, x, gamma, beta, bn_param)
    got_mean, got_var = running_statistics(state, shape[1])
    where = f"(momentum={momentum}, N={shape[0]})"
    assert_close(got_mean, (1 - momentum) * rm + momentum * x.mean(axis=0), what=f"running_mean after a train step {where}")
    assert_close(got_var, (1 - momentum) * rv + momentum * x.var(axis=0, ddof=1), what=f"running_var after a train step {where}: the UNBIASED batch variance (ddof=1)")


@pytest.mark.points(1)
def test_train_with_a_single_sample_raises_value_error(student, rng):
    """With N = 1 the unbiased variance is undefined: train mode refuses it."""
    bn = student("batchnorm.py")
    for d in (1, 3, 4):
        x, gamma, beta = rng.standard_normal((1, d)), np.ones(d), np.zeros(d)
        bn_param = bn.share({"mode": "train"})
        if not student_raises(ValueError, lambda: bn.batchnorm_forward(x, gamma, beta, bn_param)):
            raise AssertionError(f"batchnorm_forward(x of shape {x.shape}, mode='train') should raise ValueError")


# ------------------------------------------------------------------------------ eval-mode forward
@pytest.mark.points(2)
@fixture_ok
@given(shape=SHAPES | st.tuples(st.just(1), st.integers(1, 5)), seed=SEEDS, eps=EPSILONS)
def test_eval_uses_the_running_statistics_and_leaves_them(student, shape, seed, eps):
    bn = student("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    bn_param = {"mode": "eval", "eps": eps, "momentum": 0.3, "running_mean": rm.copy(), "running_var": rv.copy()}
    out, state = forward_with(bn, x, gamma, beta, bn_param)
    assert_close(out, normalise(x, gamma, beta, rm, rv, eps), what=f"batchnorm_forward output (eval, N={shape[0]})")
    for key, before in (("running_mean", rm), ("running_var", rv)):
        if not (type(state.get(key)) is np.ndarray and np.array_equal(state[key], before)):
            raise AssertionError(f"an eval-mode call changed bn_param[{key!r}]: eval must leave the running statistics alone")


# ------------------------------------------------------------------------------ defaults
@pytest.mark.points(2)
@pytest.mark.parametrize("n", [2, 5])
def test_missing_keys_take_their_defaults(student, rng, n):
    """A dict holding only "mode": eps 1e-5, momentum 0.1, running statistics zeros and ones."""
    bn = student("batchnorm.py")
    d = 4
    # column variances near 1e-5, where eps = 1e-5 changes the output by a large factor
    x = rng.standard_normal((n, d)) * 3e-3 + rng.uniform(-1, 1, size=d)
    gamma, beta = rng.uniform(0.5, 2.0, size=d), rng.standard_normal(d)
    out, state = forward_with(bn, x, gamma, beta, {"mode": "train"})
    assert_close(out, normalise(x, gamma, beta, x.mean(axis=0), x.var(axis=0), 1e-5), what="batchnorm_forward output (train, default eps=1e-5)")
    got_mean, got_var = running_statistics(state, d)
    assert_close(got_mean, 0.1 * x.mean(axis=0), what="running_mean after one train step from the defaults (zeros, momentum 0.1)")
    assert_close(got_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), what="running_var after one train step from the defaults (ones, momentum 0.1)")
    out, _ = forward_with(bn, x, gamma, beta, {"mode": "eval"})
    assert_close(out, normalise(x, gamma, beta, 0.0, 1.0, 1e-5), what="batchnorm_forward output (eval, default running statistics and eps)")


# ------------------------------------------------------------------------------ backward
@pytest.mark.points(3)
@fixture_ok
@given(shape=SMALL_BATCHES | SHAPES, seed=SEEDS, eps=EPSILONS)
def test_train_backward_matches_numerical_gradient(student, shape, seed, eps):
    bn = student("batchnorm.py")
    x, gamma, beta, _, _ = make_case(seed, shape, **SMOOTH)
    check_layer_gradient(
        bn.batchnorm_forward, bn.batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta},
        rng=np.random.default_rng(seed), kwargs={"bn_param": {"mode": "train", "eps": eps, "momentum": 0.1}},
        what="batchnorm_backward (train)",
    )


@pytest.mark.points(2)
@fixture_ok
@given(shape=SHAPES, seed=SEEDS, eps=EPSILONS)
def test_eval_backward_matches_numerical_gradient(student, shape, seed, eps):
    bn = student("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    check_layer_gradient(
        bn.batchnorm_forward, bn.batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta},
        rng=np.random.default_rng(seed),
        kwargs={"bn_param": {"mode": "eval", "eps": eps, "momentum": 0.1, "running_mean": rm, "running_var": rv}},
        what="batchnorm_backward (eval)",
    )


# ------------------------------------------------------------------------------ against PyTorch
@pytest.mark.points(3)
@fixture_ok
@given(shape=SMALL_BATCHES | SHAPES, seed=SEEDS, eps=EPSILONS, momentum=MOMENTA, mode=st.sampled_from(["train", "eval"]))
def test_matches_torch_batch_norm_and_autograd(student, shape, seed, eps, momentum, mode):
    import torch.nn.functional as F

    bn = student("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    dout = np.random.default_rng(seed).standard_normal(shape)
    shared = bn.share({"mode": mode, "eps": eps, "momentum": momentum, "running_mean": rm.copy(), "running_var": rv.copy()})
    out, cache = bn.batchnorm_forward(x, gamma, beta, shared)
    grads = bn.batchnorm_backward(dout, cache)
    state = bn.fetch(shared)

    with torch_one_thread() as torch:
        tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
        t_out = F.batch_norm(tx, t_rm, t_rv, tg, tb, training=mode == "train", momentum=momentum, eps=eps)
        t_out.backward(torch.tensor(dout))

    where = f"({mode}, N={shape[0]}, momentum={momentum}, eps={eps:g})"
    expected = t_out.detach().numpy()
    assert_close(out, expected, scale=output_scale(expected, beta) if mode == "train" else 0.0, what=f"batchnorm_forward output {where}")
    if not (isinstance(grads, tuple) and len(grads) == 3):
        raise AssertionError(f"batchnorm_backward should return a tuple (dx, dgamma, dbeta), got {type(grads).__name__}")
    # dx sums terms of size |gamma * dout| / std that cancel: judge it relative to them
    scale = float(np.abs(gamma * dout).max() / np.sqrt((x.var(axis=0) if mode == "train" else rv) + eps).min())
    assert_close(grads[0], tx.grad.numpy(), scale=scale, what=f"batchnorm_backward dx {where}")
    assert_close(grads[1], tg.grad.numpy(), scale=float(np.abs(dout).sum(axis=0).max()), what=f"batchnorm_backward dgamma {where}")
    assert_close(grads[2], tb.grad.numpy(), what=f"batchnorm_backward dbeta {where}")
    got_mean, got_var = running_statistics(state, shape[1])
    assert_close(got_mean, t_rm.numpy(), what=f"running_mean {where}")
    assert_close(got_var, t_rv.numpy(), what=f"running_var {where}")


# ------------------------------------------------------------------------------ hygiene
@pytest.mark.points(1)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_inputs_are_left_unmodified(student, rng, mode):
    bn = student("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(int(rng.integers(2**32)), (5, 3))
    dout = rng.standard_normal(x.shape)
    shared = [bn.share(a.copy()) for a in (x, gamma, beta)]
    bn_param = bn.share({"mode": mode, "running_mean": rm.copy(), "running_var": rv.copy()})
    _, cache = bn.batchnorm_forward(*shared, bn_param)
    shared_dout = bn.share(dout.copy())
    bn.batchnorm_backward(shared_dout, cache)
    for name, handle, original in (("x", shared[0], x), ("gamma", shared[1], gamma), ("beta", shared[2], beta), ("dout", shared_dout, dout)):
        if not np.array_equal(bn.fetch(handle), original):
            raise AssertionError(f"batchnorm ({mode}) modified its argument {name}; compute new arrays instead")


@pytest.mark.points(1)
def test_batchnorm_imports_only_numpy_and_runs(student):
    """numpy only (no torch, scipy, sklearn, ...); and the file must be implemented: both functions run."""
    bn = student("batchnorm.py")
    bn.assert_no_banned_imports()
    x = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]])
    for mode in ("train", "eval"):
        _, cache = bn.batchnorm_forward(x, np.ones(3), np.zeros(3), bn.share({"mode": mode}))
        bn.batchnorm_backward(np.ones_like(x), cache)
