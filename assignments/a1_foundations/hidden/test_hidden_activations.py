"""Hidden tests for activations.py: the student against the reference oracle (instructor only).

Shapes of one to three axes, never all sides equal, batches of one and more, both signs, and
magnitudes up to 1e4 where the handout says "stable". Backward passes are compared away from kinks
(any subgradient is allowed at exactly 0; the public tests check that leniency).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close
from grader import strategies as dl

fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = dl.shapes(ndim=st.integers(1, 3), min_batch=1)
MAGNITUDES = st.sampled_from([1.0, 10.0, 1e4])
ALPHAS = st.sampled_from([0.01, 0.05, 0.2, 0.5]) | st.floats(0.001, 0.99)


def _scale(x):
    return float(np.max(np.abs(x), initial=1.0))


@st.composite
def inputs(draw, kinks=()):
    magnitude = draw(MAGNITUDES)
    return draw(dl.arrays(SHAPES, magnitude=magnitude, kinks=kinks))


def _compare_pair(act, ref, forward, backward, x, seed, **kwargs):
    __tracebackhide__ = True
    out, cache = getattr(act, forward)(x, **kwargs)
    want, ref_cache = getattr(ref, forward)(x, **kwargs)
    assert_close(out, want, scale=_scale(want), what=f"{forward} output")
    dout = np.random.default_rng(seed).standard_normal(np.shape(want))
    assert_close(getattr(act, backward)(dout, cache), getattr(ref, backward)(dout, ref_cache), what=f"{backward} dx")


@pytest.mark.points(2)
@fixture_ok
@given(x=inputs(kinks=(0.0,)), seed=SEEDS)
def test_relu_matches_reference(student, reference, x, seed):
    _compare_pair(student("activations.py"), reference("activations.py"), "relu_forward", "relu_backward", x, seed)


@pytest.mark.points(2)
@fixture_ok
@given(x=inputs(kinks=(0.0,)), alpha=ALPHAS, seed=SEEDS)
def test_leaky_relu_matches_reference(student, reference, x, alpha, seed):
    _compare_pair(student("activations.py"), reference("activations.py"), "leaky_relu_forward", "leaky_relu_backward", x, seed, alpha=alpha)


@pytest.mark.points(2)
@fixture_ok
@given(x=inputs(), seed=SEEDS)
def test_sigmoid_matches_reference(student, reference, x, seed):
    _compare_pair(student("activations.py"), reference("activations.py"), "sigmoid_forward", "sigmoid_backward", x, seed)


@pytest.mark.points(2)
@fixture_ok
@given(x=inputs(), seed=SEEDS)
def test_tanh_matches_reference(student, reference, x, seed):
    _compare_pair(student("activations.py"), reference("activations.py"), "tanh_forward", "tanh_backward", x, seed)


@pytest.mark.points(2)
@fixture_ok
@given(x=inputs())
def test_softmax_matches_reference(student, reference, x):
    assert_close(student("activations.py").softmax(x), reference("activations.py").softmax(x), what="softmax")


@pytest.mark.points(2)
@fixture_ok
@given(x=inputs())
def test_log_softmax_matches_reference(student, reference, x):
    assert_close(student("activations.py").log_softmax(x), reference("activations.py").log_softmax(x), scale=_scale(x), what="log_softmax")


@pytest.mark.points(1)
@fixture_ok
@given(n=st.integers(2, 5), c=st.integers(2, 5), magnitude=MAGNITUDES, seed=SEEDS)
def test_softmax_on_square_and_batched_logits_matches_reference(student, reference, n, c, magnitude, seed):
    """Square (N == C) and 3-D inputs too: a softmax over axis 0 or over everything shows here."""
    x = np.random.default_rng(seed).uniform(-magnitude, magnitude, (n, c, c))
    act, ref = student("activations.py"), reference("activations.py")
    assert_close(act.softmax(x), ref.softmax(x), what="softmax of an (N, C, C) array")
    assert_close(act.log_softmax(x[0]), ref.log_softmax(x[0]), scale=magnitude, what="log_softmax of a (C, C) array")


INTERLEAVED = [
    ("relu_forward", "relu_backward", {}, {}),
    ("leaky_relu_forward", "leaky_relu_backward", {"alpha": 0.2}, {"alpha": 0.05}),
    ("sigmoid_forward", "sigmoid_backward", {}, {}),
    ("tanh_forward", "tanh_backward", {}, {}),
]


@pytest.mark.points(1)
@pytest.mark.parametrize("forward, backward, first_kwargs, second_kwargs", INTERLEAVED, ids=[p[0].removesuffix("_forward") for p in INTERLEAVED])
def test_backward_uses_its_own_cache_after_another_forward(student, reference, rng, forward, backward, first_kwargs, second_kwargs):
    """Two forward calls, then both backward calls in reverse order, as in a network with two such
    layers: each backward must give the gradient of the forward call whose cache it gets."""
    act, ref = student("activations.py"), reference("activations.py")
    x1, x2 = rng.uniform(0.1, 3.0, (3, 4)) * rng.choice([-1.0, 1.0], (3, 4)), rng.uniform(0.1, 3.0, (2, 5)) * rng.choice([-1.0, 1.0], (2, 5))
    d1, d2 = rng.standard_normal((3, 4)), rng.standard_normal((2, 5))
    _, c1 = getattr(act, forward)(x1, **first_kwargs)
    _, c2 = getattr(act, forward)(x2, **second_kwargs)
    got2, got1 = getattr(act, backward)(d2, c2), getattr(act, backward)(d1, c1)
    want1 = getattr(ref, backward)(d1, getattr(ref, forward)(x1, **first_kwargs)[1])
    want2 = getattr(ref, backward)(d2, getattr(ref, forward)(x2, **second_kwargs)[1])
    assert_close(got2, want2, what=f"{backward} dx of the second forward call {second_kwargs or ''} (x of shape (2, 5))")
    assert_close(got1, want1, what=f"{backward} dx of the first forward call {first_kwargs or ''} (x of shape (3, 4)), after the second forward call: read x (and alpha) from the cache, not from state kept between calls")
