"""Public tests for activations.py: run them with ``pytest assignments/a1_foundations``.

They check properties that define each function, gradients against central differences of YOUR
OWN forward pass (with a random upstream gradient), stability for |x| up to 1e4, and that your
functions leave their arguments alone. At a kink (ReLU at exactly 0) any subgradient is accepted.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, check_layer_gradient
from grader import strategies as dl

# `student` is a function-scoped fixture that holds no per-example state: safe under @given
fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
ANY_SHAPE = dl.shapes(ndim=st.integers(1, 3))
ALPHAS = st.sampled_from([0.01, 0.1, 0.2, 0.3]) | st.floats(0.001, 0.9)
LARGE = 1e4  # the handout's "stable" range


def assert_between(actual, a, b, *, where, what):
    """Every entry of ``actual`` in the mask ``where`` lies between ``a`` and ``b`` (in either
    order), up to rounding; the message names the entry by its index in ``actual``."""
    __tracebackhide__ = True
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    slack = 1e-9 + 1e-6 * np.abs(hi - lo)
    bad = ((actual < lo - slack) | (actual > hi + slack)) & where
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise AssertionError(f"{what}: entry {list(i)} is {actual[i]:.10g}, expected a value between {lo[i]:.10g} and {hi[i]:.10g}")


def assert_close_with_appended(actual, expected, x, appended, *, what):
    """Compare the result of one call on ``x.ravel()`` followed by the values ``appended``, in two
    parts whose indices a student can look up: the entries for ``x`` (the input shown) in ``x``'s
    shape, then those for the appended values."""
    __tracebackhide__ = True
    n = x.size
    actual = check_array_type(actual, (n + len(appended),), what=f"{what} (called on x.ravel() followed by {appended})")
    assert_close(actual[:n].reshape(x.shape), expected[:n].reshape(x.shape), what=f"{what} for x (called on x.ravel() followed by {appended})")
    assert_close(actual[n:], expected[n:], what=f"{what} for the values {appended} (appended to x.ravel() in the call)")


def reference_sigmoid(x):
    """sigmoid through tanh, exact and stable: 1/(1+e^-x) = (1 + tanh(x/2)) / 2."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# ---------------------------------------------------------------------------------- ReLU
@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, on_kinks=(0.0,)))
def test_relu_forward_is_max_of_x_and_zero(student, x):
    act = student("activations.py")
    out, _ = act.relu_forward(x)
    assert_close(out, np.maximum(x, 0.0), what="relu_forward output")


@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, kinks=(0.0,)), seed=SEEDS)
def test_relu_backward_matches_numerical_gradient(student, x, seed):
    act = student("activations.py")
    check_layer_gradient(act.relu_forward, act.relu_backward, {"x": x}, rng=np.random.default_rng(seed))


@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, on_kinks=(0.0,)), seed=SEEDS)
def test_relu_backward_accepts_any_subgradient_at_zero(student, x, seed):
    act = student("activations.py")
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    _, cache = act.relu_forward(x)
    dx = check_array_type(act.relu_backward(dout, cache), x.shape, what="relu_backward dx")
    kink = x == 0
    assert_close(dx, np.where(x > 0, dout, 0.0), where=~kink, what="relu_backward dx away from x == 0")
    assert_between(dx, 0.0 * dout, dout, where=kink, what="relu_backward dx at x == 0 (any subgradient in [0, 1] times dout)")


# ---------------------------------------------------------------------------- leaky ReLU
@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, on_kinks=(0.0,)), alpha=ALPHAS)
def test_leaky_relu_forward_scales_negatives_by_alpha(student, x, alpha):
    act = student("activations.py")
    out, _ = act.leaky_relu_forward(x, alpha=alpha)
    assert_close(out, np.where(x > 0, x, alpha * x), what=f"leaky_relu_forward output (alpha={alpha})")


@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE))
def test_leaky_relu_default_alpha_is_0_01(student, x):
    act = student("activations.py")
    out, _ = act.leaky_relu_forward(x)
    assert_close(out, np.where(x > 0, x, 0.01 * x), what="leaky_relu_forward output with the default alpha")


@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, kinks=(0.0,)), alpha=ALPHAS, seed=SEEDS)
def test_leaky_relu_backward_matches_numerical_gradient(student, x, alpha, seed):
    act = student("activations.py")
    check_layer_gradient(
        act.leaky_relu_forward, act.leaky_relu_backward, {"x": x}, kwargs={"alpha": alpha},
        rng=np.random.default_rng(seed), what=f"leaky_relu_backward (alpha={alpha})",
    )


@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, on_kinks=(0.0,)), alpha=ALPHAS, seed=SEEDS)
def test_leaky_relu_backward_accepts_any_subgradient_at_zero(student, x, alpha, seed):
    act = student("activations.py")
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    _, cache = act.leaky_relu_forward(x, alpha=alpha)
    dx = check_array_type(act.leaky_relu_backward(dout, cache), x.shape, what="leaky_relu_backward dx")
    kink = x == 0
    assert_close(dx, np.where(x > 0, dout, alpha * dout), where=~kink, what=f"leaky_relu_backward dx away from 0 (alpha={alpha})")
    assert_between(dx, alpha * dout, dout, where=kink, what="leaky_relu_backward dx at x == 0")


# ------------------------------------------------------------------------------- sigmoid
@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE))
def test_sigmoid_forward_values(student, x):
    act = student("activations.py")
    out, _ = act.sigmoid_forward(x)
    assert_close(out, reference_sigmoid(x), what="sigmoid_forward output")


@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, magnitude=LARGE))
def test_sigmoid_is_stable_for_large_inputs(student, x):
    act = student("activations.py")
    appended = [-LARGE, -800.0, -40.0, 40.0, 800.0, LARGE]
    called = np.concatenate([x.ravel(), appended])
    out, cache = act.sigmoid_forward(called)
    s = reference_sigmoid(called)
    assert_close_with_appended(out, s, x, appended, what="sigmoid_forward output at large |x|")
    dout = np.linspace(-1.0, 1.0, called.size)
    assert_close_with_appended(act.sigmoid_backward(dout, cache), dout * s * (1 - s), x, appended, what="sigmoid_backward dx at large |x| (dout = linspace(-1, 1))")


@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE), seed=SEEDS)
def test_sigmoid_backward_matches_numerical_gradient(student, x, seed):
    act = student("activations.py")
    check_layer_gradient(act.sigmoid_forward, act.sigmoid_backward, {"x": x}, rng=np.random.default_rng(seed))


# ---------------------------------------------------------------------------------- tanh
@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, magnitude=LARGE))
def test_tanh_forward_values_and_stability(student, x):
    act = student("activations.py")
    appended = [-LARGE, -400.0, 400.0, LARGE]
    called = np.concatenate([x.ravel(), appended])
    out, _ = act.tanh_forward(called)
    assert_close_with_appended(out, np.tanh(called), x, appended, what="tanh_forward output")


@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, magnitude=3.0), seed=SEEDS)
def test_tanh_backward_matches_numerical_gradient(student, x, seed):
    act = student("activations.py")
    check_layer_gradient(act.tanh_forward, act.tanh_backward, {"x": x}, rng=np.random.default_rng(seed))


# ------------------------------------------------------------------- softmax, log_softmax
@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE))
def test_softmax_rows_are_distributions_proportional_to_exp(student, x):
    act = student("activations.py")
    p = check_array_type(act.softmax(x), x.shape, what="softmax output")
    assert np.all(p >= 0), "softmax output has negative entries"
    assert_close(p.sum(axis=-1, keepdims=True), np.ones(x.shape[:-1] + (1,)), what="softmax: sum over the last axis")
    top = np.argmax(x, axis=-1)[..., None]
    x_top = np.take_along_axis(x, top, axis=-1)
    p_top = np.take_along_axis(p, top, axis=-1)
    # p_i / p_max = exp(x_i - x_max): with the sums above this pins softmax down exactly
    assert_close(p, p_top * np.exp(x - x_top), what="softmax: entries relative to the row's largest")


@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, magnitude=LARGE))
def test_softmax_is_stable_for_large_inputs(student, x):
    act = student("activations.py")
    x = np.concatenate([x, np.full(x.shape[:-1] + (1,), LARGE)], axis=-1)
    p = act.softmax(x)
    called = "x: the x shown with a last column of 1e4 appended"
    assert_close(p, act.softmax(x - LARGE), what=f"softmax(x) vs softmax(x - 1e4) (softmax ignores a shift; {called})")
    assert_close(p.sum(axis=-1, keepdims=True), np.ones(x.shape[:-1] + (1,)), what=f"softmax at |x| up to 1e4: sum over the last axis ({called})")


@pytest.mark.points(2)
@fixture_ok
@given(x=dl.arrays(ANY_SHAPE, magnitude=LARGE))
def test_log_softmax_is_a_normalised_shift_of_x(student, x):
    act = student("activations.py")
    lp = check_array_type(act.log_softmax(x), x.shape, what="log_softmax output")
    assert np.all(np.isfinite(lp)), "log_softmax gives -inf or NaN: take the log of the sum, not of softmax"
    assert np.all(lp <= 1e-12), "log_softmax has positive entries"
    # log_softmax(x) = x - c with one c per row, and sum(exp(.)) = 1 over the row
    shift = x - lp
    assert_close(shift, np.broadcast_to(shift[..., :1], x.shape), scale=LARGE, what="log_softmax: x - log_softmax(x) within a row")
    assert_close(np.exp(lp).sum(axis=-1, keepdims=True), np.ones(x.shape[:-1] + (1,)), what="log_softmax: sum of exp over the last axis")


@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(dl.shapes(ndim=st.integers(2, 3), min_side=2)))
def test_softmax_is_over_the_last_axis_of_any_number_of_leading_axes(student, x):
    act = student("activations.py")
    p = act.softmax(x)
    for index in np.ndindex(*x.shape[:-1]):
        assert_close(p[index], act.softmax(x[index]), what=f"softmax of the whole array at {index} vs softmax of that row alone")


@pytest.mark.points(1)
def test_softmax_and_log_softmax_agree_with_torch(student, rng):
    import torch  # only the tests that compare with PyTorch pay for importing it

    act = student("activations.py")
    x = rng.standard_normal((3, 4, 5)) * np.array([1.0, 100.0, LARGE])[:, None, None]
    t = torch.from_numpy(x)
    assert_close(act.softmax(x), torch.softmax(t, dim=-1).numpy(), what="softmax vs torch.softmax")
    assert_close(act.log_softmax(x), torch.log_softmax(t, dim=-1).numpy(), scale=LARGE, what="log_softmax vs torch.log_softmax")


# ------------------------------------------------------------------------------ contract
def arrays_unchanged(after, before):
    """Every array in ``before`` (an array, or one inside tuples) still holds its values in
    ``after``: such an array can only have changed in place. Lists, dicts and objects of your own
    may change (a memo added to a dict cache is yours), so they are not compared."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)
    if isinstance(before, tuple):
        return isinstance(after, tuple) and len(after) == len(before) and all(map(arrays_unchanged, after, before))
    return True


PAIRS = [
    ("relu_forward", "relu_backward", {}),
    ("leaky_relu_forward", "leaky_relu_backward", {"alpha": 0.2}),
    ("sigmoid_forward", "sigmoid_backward", {}),
    ("tanh_forward", "tanh_backward", {}),
]


@pytest.mark.points(1)
@pytest.mark.parametrize("forward, backward, kwargs", PAIRS, ids=[p[0].removesuffix("_forward") for p in PAIRS])
def test_forward_and_backward_leave_their_arguments_unmodified(student, rng, forward, backward, kwargs):
    act = student("activations.py")
    x = rng.standard_normal((4, 3)) * 3
    dout = rng.standard_normal((4, 3))
    x_shared = act.share(x.copy())
    _, cache = getattr(act, forward)(x_shared, **kwargs)
    assert np.array_equal(act.fetch(x_shared), x), f"{forward} modified its input x"
    dout_shared, cache_shared = act.share(dout.copy()), act.share(cache)
    first = getattr(act, backward)(dout_shared, cache_shared)
    assert np.array_equal(act.fetch(dout_shared), dout), f"{backward} modified dout"
    assert arrays_unchanged(act.fetch(cache_shared), cache), (
        f"{backward} modified an array of the cache it was given: when the cache holds x itself, "
        "that is the caller's input array"
    )
    second = getattr(act, backward)(dout, cache_shared)
    assert_close(second, first, what=f"{backward} called a second time with the same cache (was the cache modified?)")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_functions_leave_their_argument_unmodified(student, rng, name):
    act = student("activations.py")
    x = rng.standard_normal((3, 5))
    shared = act.share(x.copy())
    getattr(act, name)(shared)
    assert np.array_equal(act.fetch(shared), x), f"{name} modified its input"


@pytest.mark.points(2)
def test_activations_import_no_banned_library_and_run(student):
    """numpy only (no torch, scipy, ...); and the file must be implemented: every function runs."""
    act = student("activations.py")
    act.assert_no_banned_imports()
    x = np.array([[-1.0, 2.0], [0.5, -3.0]])
    for forward, backward, kwargs in PAIRS:
        _, cache = getattr(act, forward)(x, **kwargs)
        getattr(act, backward)(np.ones_like(x), cache)
    act.softmax(x)
    act.log_softmax(x)
