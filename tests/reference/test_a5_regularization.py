"""The a5_regularization oracles: dropout against torch's semantics, early stopping by hand.

Dropout is random, so as much as possible is tested exactly (every output is 0 or the scaled
input, backward reuses the mask, p = 0 / p = 1 / eval are deterministic); only the drop rate is
statistical, tested with ``grader.statistics`` (false-fail probability below 1e-9).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from grader.loader import load_reference
from grader.statistics import assert_zero_fraction

dropout = load_reference("a5_regularization", "dropout")
early_stopping = load_reference("a5_regularization", "early_stopping")

SETTINGS = settings(max_examples=40, deadline=None)

# p = 0.5 alone cannot tell "p is the drop probability" from "p is the keep probability"
DROP_PROBABILITIES = [0.05, 0.2, 0.5, 0.75, 0.95]


def nonzero_arrays(shape=array_shapes(min_dims=1, max_dims=4, max_side=6)) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays without zeros, so that a zero in the output means "dropped"."""
    magnitudes = st.floats(1e-3, 1e3, allow_subnormal=False)
    elements = st.builds(lambda m, negative: -m if negative else m, magnitudes, st.booleans())
    return arrays(np.float64, shape, elements=elements)


drop_probabilities = st.sampled_from(DROP_PROBABILITIES) | st.floats(0.0, 1.0)
seeds = st.integers(0, 2**32 - 1)


def expected_through_mask(a: np.ndarray, kept: np.ndarray, p: float) -> np.ndarray:
    """``a * (kept / (1 - p))``: the mask scaled by 1 / (1 - p), multiplied in as torch does."""
    if p == 1:
        return np.zeros_like(a)
    return np.where(kept, a * (1.0 / (1.0 - p)), 0.0)


# ---------------------------------------------------------------------------------------------
# dropout: exact properties


@SETTINGS
@given(x=nonzero_arrays(), p=drop_probabilities, seed=seeds, data=st.data())
def test_dropout_outputs_are_zero_or_scaled_input_and_backward_reuses_the_mask(x, p, seed, data):
    x_before = x.copy()
    out, cache = dropout.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    assert out.dtype == np.float64 and out.shape == x.shape
    kept = out != 0
    np.testing.assert_array_equal(out, expected_through_mask(x, kept, p))
    if p < 1:  # the same as x / (1 - p) up to one rounding
        np.testing.assert_array_max_ulp(out[kept], x[kept] / (1 - p), maxulp=1)

    dout = data.draw(arrays(np.float64, x.shape, elements=st.floats(-1e3, 1e3)), label="dout")
    dout_before = dout.copy()
    dx = dropout.dropout_backward(dout, cache)
    assert dx.dtype == np.float64 and dx.shape == x.shape
    np.testing.assert_array_equal(dx, expected_through_mask(dout, kept, p))
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("p", [0.0, 1.0])
@settings(max_examples=10, deadline=None)
@given(x=nonzero_arrays(), seed=seeds)
def test_dropout_edge_probabilities_are_exact(p, x, seed):
    """p = 0 keeps everything unscaled; p = 1 gives zeros (not NaN), and a zero gradient."""
    with np.errstate(all="raise"):
        out, cache = dropout.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
        dx = dropout.dropout_backward(np.ones_like(x), cache)
    want_out, want_dx = (x, np.ones_like(x)) if p == 0 else (np.zeros_like(x), np.zeros_like(x))
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(dx, want_dx)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_eval_is_the_identity(p):
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
    out, cache = dropout.dropout_forward(x, p=p, train=False, rng=rng)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout.dropout_backward(dout, cache), dout)
    # torch: the identity too (it returns its input itself)
    tx = torch.tensor(x)
    np.testing.assert_array_equal(F.dropout(tx, p, training=False).numpy(), x)


@pytest.mark.parametrize("p", [-0.1, 1.5, math.nan])
def test_dropout_rejects_probabilities_outside_the_unit_interval(p):
    with pytest.raises(ValueError):
        dropout.dropout_forward(np.ones(3), p=p, train=True, rng=np.random.default_rng(0))
    if not math.isnan(p):  # torch agrees
        with pytest.raises(ValueError):
            F.dropout(torch.ones(3), p, training=True)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, p=st.sampled_from(DROP_PROBABILITIES))
def test_dropout_is_deterministic_per_rng_and_uses_no_global_state(seed, p):
    x = np.full((20, 30), 2.0)
    global_state = np.random.get_state()
    first, _ = dropout.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    again, _ = dropout.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(first, again)
    rng = np.random.default_rng(seed)
    one, _ = dropout.dropout_forward(x, p=p, train=True, rng=rng)
    two, _ = dropout.dropout_forward(x, p=p, train=True, rng=rng)
    assert not np.array_equal(one, two), "two draws from one generator gave the same 600-element mask"
    assert repr(np.random.get_state()) == repr(global_state), "numpy's global random state was used"


# ---------------------------------------------------------------------------------------------
# dropout: the drop rate (statistical)


@pytest.mark.parametrize("p", DROP_PROBABILITIES)
@settings(max_examples=5, deadline=None)
@given(seed=seeds)
def test_dropout_zero_fraction_is_p(p, seed):
    x = np.full((200, 100), -1.5)
    out, _ = dropout.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    assert_zero_fraction(out, p, what=f"dropout(p={p})")


def test_drop_rate_check_catches_keep_probability_confusion():
    """At p = 0.2, treating p as the keep probability zeroes 80% of the output: rejected."""
    rng = np.random.default_rng(11)
    out, _ = dropout.dropout_forward(np.ones(20_000), p=0.8, train=True, rng=rng)  # the swap
    with pytest.raises(AssertionError):
        assert_zero_fraction(out, 0.2)


@pytest.mark.parametrize("p", DROP_PROBABILITIES)
def test_torch_dropout_has_the_same_semantics(p):
    """torch.nn.functional.dropout: zero with probability p, survivors exactly x * (1 / (1 - p)),
    gradient through the same mask and scale: the relations the oracle satisfies above."""
    generator = np.random.default_rng(int(p * 1000))
    x = torch.tensor(generator.uniform(0.5, 2.0, size=20_000), requires_grad=True)
    torch.manual_seed(int(p * 1000))
    out = F.dropout(x, p, training=True)
    dout = torch.tensor(generator.normal(size=20_000))
    out.backward(dout)
    out_np, x_np, kept = out.detach().numpy(), x.detach().numpy(), out.detach().numpy() != 0
    assert_zero_fraction(out_np, p, what=f"torch dropout(p={p})")
    np.testing.assert_array_equal(out_np, expected_through_mask(x_np, kept, p))
    np.testing.assert_array_equal(x.grad.numpy(), expected_through_mask(dout.numpy(), kept, p))
    # the oracle's draw obeys the same relations (checked exactly above), and the same rate
    ours, _ = dropout.dropout_forward(x_np, p=p, train=True, rng=generator)
    assert_zero_fraction(ours, p, what=f"oracle dropout(p={p})")


def test_torch_dropout_with_p_one_gives_zeros():
    x = torch.randn(100, dtype=torch.float64, requires_grad=True)
    out = F.dropout(x, 1.0, training=True)
    out.backward(torch.ones(100, dtype=torch.float64))
    assert torch.equal(out, torch.zeros(100, dtype=torch.float64))
    assert torch.equal(x.grad, torch.zeros(100, dtype=torch.float64))


# ---------------------------------------------------------------------------------------------
# early stopping: tables worked by hand
#
# Each row: (loss, what step returns, counter, best_loss, best_step) after that step.

NAN, INF = math.nan, math.inf

EARLY_STOPPING_TABLES = {
    "patience 2: stops after two non-improving steps, resets on improvement": (
        2,
        0.0,
        [
            (1.0, False, 0, 1.0, 0),
            (0.9, False, 0, 0.9, 1),
            (0.95, False, 1, 0.9, 1),
            (0.92, True, 2, 0.9, 1),
            (0.8, False, 0, 0.8, 4),
            (0.85, False, 1, 0.8, 4),
            (0.85, True, 2, 0.8, 4),
            (0.85, True, 3, 0.8, 4),
        ],
    ),
    "patience 0: stops at the first non-improving step, not before, and recovers": (
        0,
        0.0,
        [
            (3.0, False, 0, 3.0, 0),
            (3.0, True, 1, 3.0, 0),  # equal is not an improvement
            (2.0, False, 0, 2.0, 2),
            (2.5, True, 1, 2.0, 2),
            (1.0, False, 0, 1.0, 4),
        ],
    ),
    "NaN never improves, not even the first step": (
        1,
        0.0,
        [
            (NAN, True, 1, INF, None),
            (1.0, False, 0, 1.0, 1),
            (NAN, True, 1, 1.0, 1),
            (0.5, False, 0, 0.5, 3),
        ],
    ),
    "min_delta: strictly below best - min_delta; best is the raw loss": (
        2,
        0.25,
        [
            (2.0, False, 0, 2.0, 0),
            (1.875, False, 1, 2.0, 0),
            (1.75, True, 2, 2.0, 0),  # 1.75 == 2.0 - 0.25: not strictly below
            (1.5, False, 0, 1.5, 3),
            (1.25, False, 1, 1.5, 3),  # threshold is 1.5 - 0.25, not 1.25 - 0.25
            (1.0, False, 0, 1.0, 5),
        ],
    ),
    "infinite losses": (
        1,
        0.0,
        [
            (INF, True, 1, INF, None),  # inf < inf is False
            (1.0, False, 0, 1.0, 1),
            (-INF, False, 0, -INF, 2),
            (0.0, True, 1, -INF, 2),
        ],
    ),
    "patience 3 is never reached": (
        3,
        0.0,
        [
            (5.0, False, 0, 5.0, 0),
            (6.0, False, 1, 5.0, 0),
            (7.0, False, 2, 5.0, 0),
            (4.0, False, 0, 4.0, 3),
            (4.5, False, 1, 4.0, 3),
        ],
    ),
}


def same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("name", list(EARLY_STOPPING_TABLES))
def test_early_stopping_tables(name):
    patience, min_delta, rows = EARLY_STOPPING_TABLES[name]
    stopper = early_stopping.EarlyStopping(patience, min_delta=min_delta)
    assert (stopper.best_loss, stopper.best_step, stopper.counter) == (INF, None, 0)
    for index, (loss, stop, counter, best_loss, best_step) in enumerate(rows):
        returned = stopper.step(loss)
        state = (returned, stopper.counter, stopper.best_loss, stopper.best_step)
        assert returned is stop and stopper.counter == counter and stopper.best_step == best_step, (
            f"step {index} (loss {loss}): got (stop, counter, best_loss, best_step) = {state}, "
            f"expected {(stop, counter, best_loss, best_step)}"
        )
        assert same_float(stopper.best_loss, best_loss), f"step {index}: best_loss {stopper.best_loss}"


losses = st.one_of(st.floats(-5, 5, allow_nan=False), st.just(NAN), st.just(INF), st.sampled_from([0.0, 1.0, 2.0]))


@SETTINGS
@given(patience=st.integers(0, 4), history=st.lists(losses, max_size=20))
def test_early_stopping_with_zero_min_delta_tracks_the_first_minimum(patience, history):
    """With min_delta = 0 the best is the first occurrence of the smallest non-NaN loss below inf,
    and the counter is the number of steps since then (or since the start)."""
    stopper = early_stopping.EarlyStopping(patience)
    for t, loss in enumerate(history):
        returned = stopper.step(loss)
        seen = [(v, i) for i, v in enumerate(history[: t + 1]) if v < INF]  # drops NaN and inf
        if seen:
            best_loss, best_step = min(seen)  # ties go to the first index
            counter = t - best_step
        else:
            best_loss, best_step, counter = INF, None, t + 1
        assert (stopper.best_loss, stopper.best_step, stopper.counter) == (best_loss, best_step, counter)
        assert returned is (counter > 0 and counter >= patience)
