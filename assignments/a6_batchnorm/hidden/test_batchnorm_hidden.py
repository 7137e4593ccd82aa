"""Hidden tests for batchnorm.py (instructor only): the student against the reference oracle.

Both modes, the running statistics in ``bn_param`` over several steps, small batches (N = 2 and 3,
where the biased and unbiased variances differ most), momenta other than 0.1 and 0.5, several
``eps``, every subset of missing keys, the backward pass from caches of either mode with a random
upstream gradient (after another forward call, as in a network of two layers), and the
``ValueError`` for one sample in train mode.
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, student_raises
from grader import strategies as dl

fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
    phases=[phase for phase in settings.default.phases if phase is not Phase.explain],
)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = st.tuples(st.sampled_from([2, 3]), st.integers(1, 6)) | dl.shapes(min_batch=2, max_side=8)
MOMENTA = st.sampled_from([0.01, 0.2, 0.3, 0.7, 0.9, 0.99]) | st.floats(0.01, 0.99).filter(lambda m: abs(m - 0.5) > 0.02 and abs(m - 0.1) > 0.02)
EPSILONS = st.sampled_from([1e-5, 1e-3, 1e-2]) | dl.epsilons()
KEYS = ("eps", "momentum", "running_mean", "running_var")


def make_case(seed, shape):
    """``x`` with columns of different spreads (std 0.01 to 10) and offsets, ``gamma``, ``beta``,
    and running statistics."""
    r = np.random.default_rng(seed)
    n, d = shape
    x = r.standard_normal((n, d)) * r.choice([0.01, 0.3, 1.0, 10.0], size=d) + r.uniform(-5, 5, size=d)
    gamma = r.uniform(0.5, 2.0, size=d) * r.choice([-1.0, 1.0], size=d)
    layout = dl.LAYOUTS[seed % len(dl.LAYOUTS)]  # x, gamma, beta as callers may pass them
    return (*(dl.laid_out(a, layout) for a in (x, gamma, r.standard_normal(d))), r.standard_normal(d), r.uniform(0.5, 2.0, size=d))


def run_both(bn, ref, x, gamma, beta, bn_param):
    """The student's and the reference's forward on their own copies of ``bn_param``."""
    shared = bn.share(copy.deepcopy(bn_param))
    out, cache = bn.batchnorm_forward(x, gamma, beta, shared)
    expected_param = copy.deepcopy(bn_param)
    expected, ref_cache = ref.batchnorm_forward(x, gamma, beta, expected_param)
    return (out, cache, bn.fetch(shared)), (expected, ref_cache, expected_param)


def compare_state(state, expected_param, d, where):
    __tracebackhide__ = True
    if type(state) is not dict:
        raise AssertionError(f"{where}: bn_param should stay a dict, got {type(state).__name__}")
    for key in ("running_mean", "running_var"):
        if key in expected_param:
            if key not in state:
                raise AssertionError(f"{where}: bn_param should hold {key!r}; it has {sorted(state)}")
            check_array_type(state[key], (d,), what=f"{where}: bn_param[{key!r}]")
            assert_close(state[key], expected_param[key], what=f"{where}: bn_param[{key!r}]")


@pytest.mark.points(3)
@fixture_ok
@given(shape=SHAPES, seed=SEEDS, eps=EPSILONS, momentum=MOMENTA)
def test_hidden_train_forward_and_running_statistics(student, reference, shape, seed, eps, momentum):
    bn, ref = student("batchnorm.py"), reference("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    bn_param = {"mode": "train", "eps": eps, "momentum": momentum, "running_mean": rm, "running_var": rv}
    (out, _, state), (expected, _, expected_param) = run_both(bn, ref, x, gamma, beta, bn_param)
    where = f"train, N={shape[0]}, momentum={momentum}, eps={eps:g}"
    # out sums gamma * x_hat and beta: its rounding (another valid variance formula) is relative to them
    assert_close(out, expected, scale=float(np.abs(expected - beta).max() + np.abs(beta).max()), what=f"batchnorm_forward output ({where})")
    compare_state(state, expected_param, shape[1], where)


@pytest.mark.points(2)
@fixture_ok
@given(shape=SHAPES | st.tuples(st.just(1), st.integers(1, 6)), seed=SEEDS, eps=EPSILONS, momentum=MOMENTA)
def test_hidden_eval_forward(student, reference, shape, seed, eps, momentum):
    bn, ref = student("batchnorm.py"), reference("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    bn_param = {"mode": "eval", "eps": eps, "momentum": momentum, "running_mean": rm, "running_var": rv}
    (out, _, state), (expected, _, expected_param) = run_both(bn, ref, x, gamma, beta, bn_param)
    where = f"eval, N={shape[0]}, eps={eps:g}"
    assert_close(out, expected, what=f"batchnorm_forward output ({where})")
    compare_state(state, expected_param, shape[1], where)


@pytest.mark.points(3)
@fixture_ok
@given(
    d=st.integers(1, 5),
    batches=st.lists(st.integers(2, 7), min_size=2, max_size=5),
    seed=SEEDS,
    eps=EPSILONS,
    momentum=MOMENTA,
)
def test_hidden_several_train_steps_then_eval(student, reference, d, batches, seed, eps, momentum):
    """The running statistics after each of several train steps (one dict throughout), then eval with them."""
    bn, ref = student("batchnorm.py"), reference("batchnorm.py")
    r = np.random.default_rng(seed)
    gamma, beta = r.uniform(0.5, 2.0, size=d), r.standard_normal(d)
    shared = bn.share({"mode": "train", "eps": eps, "momentum": momentum})
    expected_param = {"mode": "train", "eps": eps, "momentum": momentum}
    for step, n in enumerate(batches):
        x = r.standard_normal((n, d)) * r.uniform(0.5, 3.0, size=d) + r.uniform(-3, 3, size=d)
        out, _ = bn.batchnorm_forward(x, gamma, beta, shared)
        expected, _ = ref.batchnorm_forward(x, gamma, beta, expected_param)
        where = f"train step {step} (batches of sizes {batches[: step + 1]}, momentum={momentum})"
        assert_close(out, expected, what=f"batchnorm_forward output, {where}")
        compare_state(bn.fetch(shared), expected_param, d, where)
    state = bn.fetch(shared)
    state["mode"] = expected_param["mode"] = "eval"
    x = r.standard_normal((3, d)) * 2
    out, _ = bn.batchnorm_forward(x, gamma, beta, bn.share(state))
    expected, _ = ref.batchnorm_forward(x, gamma, beta, expected_param)
    assert_close(out, expected, what=f"batchnorm_forward output in eval mode after train steps of sizes {batches}")


@pytest.mark.points(3)
@fixture_ok
@given(shape=SHAPES, seed=SEEDS, eps=EPSILONS, mode=st.sampled_from(["train", "eval"]))
def test_hidden_backward_from_either_mode(student, reference, shape, seed, eps, mode):
    bn, ref = student("batchnorm.py"), reference("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    dout = np.random.default_rng(seed).standard_normal(shape)
    bn_param = {"mode": mode, "eps": eps, "momentum": 0.2, "running_mean": rm, "running_var": rv}
    (_, cache, _), (_, ref_cache, _) = run_both(bn, ref, x, gamma, beta, bn_param)
    # another layer's forward (the other mode, another shape) before this cache's backward, as in a
    # network of two batchnorm layers: the backward reads its own cache, not state kept from the latest call
    other = {"mode": "eval" if mode == "train" else "train", "eps": 1e-3, "momentum": 0.3}
    x2, gamma2, beta2, _, _ = make_case(seed + 1, (shape[0] + 1, shape[1] + 1))
    bn.batchnorm_forward(x2, gamma2, beta2, bn.share(other))
    grads = bn.batchnorm_backward(dout, cache)
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, ref_cache)
    if not (isinstance(grads, tuple) and len(grads) == 3):
        raise AssertionError(f"batchnorm_backward should return a tuple (dx, dgamma, dbeta), got {type(grads).__name__}")
    where = f"{mode}, N={shape[0]}, eps={eps:g}, after another forward call in {other['mode']} mode: read everything from the cache"
    # dx sums terms of size |gamma * dout| / std that cancel: judge it relative to them
    std = np.sqrt((x.var(axis=0) if mode == "train" else rv) + eps)
    assert_close(grads[0], dx, scale=float(np.abs(gamma * dout).max() / std.min()), what=f"batchnorm_backward dx ({where})")
    assert_close(grads[1], dgamma, scale=float(np.abs(dout).sum(axis=0).max()), what=f"batchnorm_backward dgamma ({where})")
    assert_close(grads[2], dbeta, scale=float(np.abs(dout).sum(axis=0).max()), what=f"batchnorm_backward dbeta ({where})")


@pytest.mark.points(2)
@fixture_ok
@given(shape=SHAPES, seed=SEEDS, mode=st.sampled_from(["train", "eval"]), present=st.sets(st.sampled_from(KEYS)))
def test_hidden_missing_keys_take_their_defaults(student, reference, shape, seed, mode, present):
    bn, ref = student("batchnorm.py"), reference("batchnorm.py")
    x, gamma, beta, rm, rv = make_case(seed, shape)
    x = x * 1e-2  # column variances down to 1e-8: the default eps matters
    full = {"eps": 1e-3, "momentum": 0.3, "running_mean": rm, "running_var": rv}
    bn_param = {"mode": mode, **{k: full[k] for k in sorted(present)}}
    (out, cache, state), (expected, ref_cache, expected_param) = run_both(bn, ref, x, gamma, beta, bn_param)
    where = f"{mode}, bn_param with keys {sorted(bn_param)}"
    assert_close(out, expected, what=f"batchnorm_forward output ({where})")
    if mode == "train":
        compare_state(state, expected_param, shape[1], where)
    dout = np.random.default_rng(seed).standard_normal(shape)
    grads = bn.batchnorm_backward(dout, cache)
    dx, _, _ = ref.batchnorm_backward(dout, ref_cache)
    if not (isinstance(grads, tuple) and len(grads) == 3):
        raise AssertionError(f"batchnorm_backward should return a tuple (dx, dgamma, dbeta), got {type(grads).__name__}")
    std = np.sqrt((x.var(axis=0) if mode == "train" else expected_param.get("running_var", 1.0)) + expected_param.get("eps", 1e-5))
    assert_close(grads[0], dx, scale=float(np.abs(gamma * dout).max() / np.min(std)), what=f"batchnorm_backward dx ({where})")


@pytest.mark.points(1)
def test_hidden_single_sample_train_raises_and_eval_works(student, reference, rng):
    bn, ref = student("batchnorm.py"), reference("batchnorm.py")
    for d in (1, 2, 5):
        x, gamma, beta = rng.standard_normal((1, d)), rng.uniform(0.5, 2, size=d), rng.standard_normal(d)
        rm, rv = rng.standard_normal(d), rng.uniform(0.5, 2, size=d)
        train = {"mode": "train", "eps": 1e-3, "momentum": 0.3, "running_mean": rm, "running_var": rv}
        if not student_raises(ValueError, lambda: bn.batchnorm_forward(x, gamma, beta, bn.share(copy.deepcopy(train)))):
            raise AssertionError(f"batchnorm_forward(x of shape {x.shape}, mode='train') should raise ValueError")
        (out, _, _), (expected, _, _) = run_both(bn, ref, x, gamma, beta, {**train, "mode": "eval"})
        assert_close(out, expected, what=f"batchnorm_forward output (eval, N=1, D={d})")
