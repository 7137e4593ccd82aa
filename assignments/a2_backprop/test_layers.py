"""Public tests for layers.py: run them with ``pytest assignments/a2_backprop``.

The linear layer's forward is checked against ``x @ W + b``, its backward against central
differences of YOUR OWN forward with a random upstream gradient. Shapes are never square, so a
transposed gradient cannot hide.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_layer_gradient
from grader import strategies as dl

# `student` is a function-scoped fixture that holds no per-example state: safe under @given
fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def linear_inputs(draw, batch=st.integers(2, 6)):
    """x (N, D), W (D, M), b (M,) with D != M and N != D."""
    n = draw(batch)
    d = draw(st.integers(1, 6).filter(lambda d: d != n))
    m = draw(st.integers(1, 6).filter(lambda m: m != d))
    return draw(dl.arrays((n, d))), draw(dl.arrays((d, m))), draw(dl.arrays((m,)))


@pytest.mark.points(2)
@fixture_ok
@given(case=linear_inputs())
def test_linear_forward_is_x_at_W_plus_b(student, case):
    x, W, b = case
    out, _ = student("layers.py").linear_forward(x, W, b)
    scale = x.shape[1] * np.max(np.abs(x), initial=1) * np.max(np.abs(W), initial=1) + np.max(np.abs(b))
    assert_close(out, x @ W + b, scale=scale, what="linear_forward output")


@pytest.mark.points(3)
@fixture_ok
@given(case=linear_inputs(), seed=SEEDS)
def test_linear_backward_matches_numerical_gradient(student, case, seed):
    layers = student("layers.py")
    x, W, b = case
    check_layer_gradient(layers.linear_forward, layers.linear_backward, {"x": x, "W": W, "b": b}, rng=np.random.default_rng(seed))


@pytest.mark.points(1)
@fixture_ok
@given(case=linear_inputs(batch=st.sampled_from([1, 2, 5])), seed=SEEDS)
def test_linear_backward_shapes_including_a_batch_of_one(student, case, seed):
    layers = student("layers.py")
    x, W, b = case
    dout = np.random.default_rng(seed).standard_normal((x.shape[0], W.shape[1]))
    _, cache = layers.linear_forward(x, W, b)
    dx, dW, db = layers.linear_backward(dout, cache)
    assert_close(db, dout.sum(axis=0), what="linear_backward db (one entry per output unit: sum over the batch)")
    assert_close(dx, dout @ W.T, scale=np.max(np.abs(W)) * W.shape[1] * np.max(np.abs(dout)), what="linear_backward dx")
    assert_close(dW, x.T @ dout, scale=np.max(np.abs(x)) * x.shape[0] * np.max(np.abs(dout)), what="linear_backward dW (shape (D, M), like W)")


@pytest.mark.points(1)
def test_linear_leaves_its_arguments_unmodified(student, rng):
    layers = student("layers.py")
    x, W, b, dout = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 2))
    shared = [layers.share(a.copy()) for a in (x, W, b)]
    _, cache = layers.linear_forward(*shared)
    for name, original, s in zip("xWb", (x, W, b), shared):
        assert np.array_equal(layers.fetch(s), original), f"linear_forward modified {name}"
    dout_shared, cache_shared = layers.share(dout.copy()), layers.share(cache)
    first = layers.linear_backward(dout_shared, cache_shared)
    assert np.array_equal(layers.fetch(dout_shared), dout), "linear_backward modified dout"
    second = layers.linear_backward(dout, cache_shared)
    for name, a, b2 in zip(("dx", "dW", "db"), first, second):
        assert_close(b2, a, what=f"linear_backward {name} from a second call with the same cache (was the cache modified?)")


@pytest.mark.points(2)
def test_layers_import_no_banned_library_and_run(student, rng):
    """numpy only (no torch, scipy, ...); and the file must be implemented: both functions run."""
    layers = student("layers.py")
    layers.assert_no_banned_imports()
    out, cache = layers.linear_forward(rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), np.zeros(4))
    layers.linear_backward(np.ones((2, 4)), cache)
