"""Hidden tests for dropout.py (instructor only): the grade profile runs them on every submission.

Dropout's output is random, so no oracle can say which elements a correct submission drops; these
tests check the handout's exact properties at many more probabilities, shapes and magnitudes than
the public ones, the drop rate at four more values of ``p`` on 20,000 elements (false-fail
probability below 1e-9 each), that each cache keeps its own mask, and the gradient where x is exactly 0
(kept with probability 1 - p like any other entry), and that a tiny input is dropped as often as
a large one (a coin per element, not a fixed count of drops per call).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import assert_close, assert_zero_fraction, call_many, check_array_type
from grader import strategies as dl

fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
    phases=[phase for phase in settings.default.phases if phase is not Phase.explain],  # keep failing runs short
)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = dl.shapes(min_batch=1, max_side=12)
NONZERO = st.one_of(*(dl.arrays(SHAPES, magnitude=m, kinks=(0.0,)) for m in (1e-3, 1.0, 1e4)))
PROBABILITIES = st.sampled_from([0.01, 0.05, 0.15, 0.45, 0.55, 0.8, 0.95, 0.99, 0.999]) | st.floats(0.001, 0.999)


def nonzero_like(seed, shape):
    r = np.random.default_rng(seed)
    return r.uniform(0.5, 2.0, size=shape) * r.choice([-1.0, 1.0], size=shape)


@pytest.mark.points(3)
@fixture_ok
@given(x=NONZERO, p=PROBABILITIES, seed=SEEDS)
def test_hidden_forward_and_backward_values_at_many_probabilities(student, x, p, seed):
    dr = student("dropout.py")
    out, cache = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    kept = out != 0
    assert_close(out, np.where(kept, x / (1 - p), 0.0), what=f"dropout_forward output (train, p={p})")
    dout = nonzero_like(seed, x.shape)
    assert_close(dr.dropout_backward(dout, cache), np.where(kept, dout / (1 - p), 0.0), what=f"dropout_backward dx (p={p})")


@pytest.mark.points(1)
@pytest.mark.parametrize("p", [0.05, 0.35, 0.6, 0.9])
def test_hidden_drop_rate(student, rng, p):
    dr = student("dropout.py")
    x = nonzero_like(int(rng.integers(2**32)), (125, 160))
    out, _ = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(int(rng.integers(2**32))))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    assert_zero_fraction(out, p, what=f"dropout_forward(x, p={p}, train=True)")


@pytest.mark.points(1)
@pytest.mark.parametrize(("shape", "p"), [((1, 1), 0.3), ((1, 3), 0.5)], ids=str)
def test_hidden_small_inputs_are_dropped_at_rate_p(student, rng, shape, p):
    """Each element is dropped independently with probability p, however few there are: over 600
    calls on an input of shape (1, 1) or (1, 3), a fraction p of the elements is dropped. Dropping
    a fixed number of elements per call (round(p * x.size)) gives 0 or 1 of a (1, 1) input, 2 of 3."""
    dr = student("dropout.py")
    x = nonzero_like(int(rng.integers(2**32)), shape)
    first = int(rng.integers(2**32))
    calls = [((x,), {"p": p, "train": True, "rng": np.random.default_rng(first + k)}) for k in range(600)]
    outs = call_many(dr.dropout_forward, calls, pick=0)
    for out in outs:
        check_array_type(out, shape, what="dropout_forward output (train)")
    assert_zero_fraction(np.stack(outs), p, what=f"dropout_forward over 600 calls on x of shape {shape} (p={p}): each element is dropped independently")


@pytest.mark.points(2)
@fixture_ok
@given(shape=SHAPES, p=st.sampled_from([0.2, 0.3, 0.7]), seed=SEEDS)
def test_hidden_each_cache_keeps_its_own_mask(student, shape, p, seed):
    """Two forward passes, then the backward of the FIRST: it must use the first mask."""
    dr = student("dropout.py")
    x = nonzero_like(seed, shape)
    out_1, cache_1 = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    out_2, cache_2 = dr.dropout_forward(2 * x, p=p, train=True, rng=np.random.default_rng(seed + 1))
    check_array_type(out_1, x.shape, what="dropout_forward output (first call)")
    check_array_type(out_2, x.shape, what="dropout_forward output (second call)")
    dout = nonzero_like(seed + 1, shape)
    assert_close(dr.dropout_backward(dout, cache_1), np.where(out_1 != 0, dout / (1 - p), 0.0),
                 what="dropout_backward with the first call's cache after a second forward pass")
    assert_close(dr.dropout_backward(dout, cache_2), np.where(out_2 != 0, dout / (1 - p), 0.0),
                 what="dropout_backward with the second call's cache")
    assert_close(dr.dropout_backward(dout, cache_1), np.where(out_1 != 0, dout / (1 - p), 0.0),
                 what="dropout_backward with the first call's cache, called a second time")


@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(SHAPES, magnitude=1e4), p=st.sampled_from([0.0, 0.01, 0.5, 0.99, 1.0]), seed=SEEDS)
def test_hidden_eval_is_the_identity(student, x, p, seed):
    dr = student("dropout.py")
    out, cache = dr.dropout_forward(x, p=p, train=False, rng=np.random.default_rng(seed))
    assert_close(out, x, what=f"dropout_forward output (eval, p={p})")
    dout = nonzero_like(seed, x.shape)
    assert_close(dr.dropout_backward(dout, cache), dout, what=f"dropout_backward dx (eval, p={p})")


@pytest.mark.points(1)
def test_hidden_backward_at_inputs_that_are_zero(student, rng):
    """Dropout is linear in x: where ``x == 0`` (as after a ReLU) the mask still keeps a fraction
    ``1 - p`` and there ``dx = dout / (1 - p)``. A mask read back from the output (``out != 0``)
    drops every such gradient."""
    dr = student("dropout.py")
    p = 0.4
    x = np.maximum(nonzero_like(int(rng.integers(2**32)), (125, 160)), 0.0)  # about half exactly 0
    out, cache = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(int(rng.integers(2**32))))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    dout = nonzero_like(int(rng.integers(2**32)), x.shape)
    dx = dr.dropout_backward(dout, cache)
    check_array_type(dx, x.shape, what="dropout_backward dx")
    assert_close(dx, dout / (1 - p), where=dx != 0, what=f"dropout_backward dx (p={p}): entries that are not 0 should be dout / (1 - p)")
    assert_zero_fraction(dx[x == 0], p, what=f"dropout_backward dx where x == 0 (p={p}): the gradient is dropped with probability p there too")
