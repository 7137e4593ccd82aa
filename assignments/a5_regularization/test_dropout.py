"""Public tests for dropout.py: run them with ``pytest assignments/a5_regularization``.

Dropout is random, so these tests never depend on which elements YOUR code drops. They check what
the handout makes exact (every training output is 0 or exactly ``x / (1 - p)``, evaluation is the
identity, ``p = 0`` keeps everything, ``p = 1`` drops everything, the backward pass goes through the
same mask and scale), and what is statistical with bounds that a correct implementation misses
with probability below 1e-9 (the fraction dropped is ``p``, each element is dropped on its own).
The course helper ``course_rng.py`` reads numpy's global random state where your code runs.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import assert_close, assert_zero_fraction, check_array_type
from grader import strategies as dl

# `student` and `helper` are function-scoped fixtures that hold no per-example state: safe under @given;
# no "explain" phase: it only annotates a failure, and costs seconds per failing test
fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
    phases=[phase for phase in settings.default.phases if phase is not Phase.explain],  # keep failing runs short
)
SEEDS = st.integers(0, 2**32 - 1)
# no zeros in x: a zero in the output then always means "dropped"
NONZERO = dl.arrays(magnitude=10.0, kinks=(0.0,)) | dl.arrays(magnitude=1e4, kinks=(0.0,))
PROBABILITIES = st.sampled_from([0.1, 0.2, 0.25, 0.3, 0.6, 0.75, 0.9]) | st.floats(0.0, 0.99)


def nonzero_array(rng, shape):
    """Entries of either sign with magnitude in [0.5, 2): never zero."""
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# ------------------------------------------------------------------------------ training mode
@pytest.mark.points(2)
@fixture_ok
@given(x=NONZERO, p=PROBABILITIES, seed=SEEDS)
def test_train_output_is_zero_or_the_scaled_input(student, x, p, seed):
    """Each output is 0 (dropped) or x / (1 - p) (kept and scaled): nothing else."""
    dr = student("dropout.py")
    out, _ = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    kept_value = x / (1 - p)
    assert_close(out, np.where(out == 0, 0.0, kept_value), what=f"dropout_forward output (train, p={p}): entries that are not 0 should be x / (1 - p)")


@pytest.mark.points(2)
@pytest.mark.parametrize("p", [0.2, 0.7])
def test_train_drops_a_fraction_p_of_the_elements(student, rng, p):
    """p is the probability of DROPPING an element (not of keeping it)."""
    dr = student("dropout.py")
    x = nonzero_array(rng, (100, 100))
    out, _ = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(int(rng.integers(2**32))))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    assert_zero_fraction(out, p, what=f"dropout_forward(x, p={p}, train=True)")


@pytest.mark.points(2)
def test_train_drops_each_element_independently(student, rng):
    """One coin per element: never a single coin for a whole row or a whole column."""
    dr = student("dropout.py")
    x = nonzero_array(rng, (60, 80))
    out, _ = dr.dropout_forward(x, p=0.4, train=True, rng=np.random.default_rng(int(rng.integers(2**32))))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    dropped = out == 0
    # with independent coins a row of 80 (column of 60) is all dropped or all kept with
    # probability 0.6**80 + 0.4**80 (0.6**60 + 0.4**60): below 1e-13 for any of them
    for axis, name in ((1, "row"), (0, "column")):
        uniform = dropped.all(axis=axis) | (~dropped).all(axis=axis)
        if uniform.any():
            k = int(np.argmax(uniform))
            state = "dropped" if dropped.all(axis=axis)[k] else "kept"
            raise AssertionError(
                f"dropout_forward(x of shape {x.shape}, p=0.4): every element of {name} {k} was {state}; "
                "each element should be dropped independently (draw the mask with the shape of x)"
            )


SMALL_SHAPES = [(2, 3), (5, 1), (4, 7), (1, 6)]


@pytest.mark.points(1)
def test_train_with_p_zero_keeps_everything(student, rng):
    dr = student("dropout.py")
    for shape in SMALL_SHAPES:
        x = nonzero_array(rng, shape) * 10.0 ** rng.integers(-3, 5, size=shape)
        out, cache = dr.dropout_forward(x, p=0.0, train=True, rng=np.random.default_rng(int(rng.integers(2**32))))
        assert_close(out, x, what=f"dropout_forward output (train, p=0, x of shape {shape})")
        dout = nonzero_array(rng, shape)
        assert_close(dr.dropout_backward(dout, cache), dout, what=f"dropout_backward dx (train, p=0, shape {shape})")


@pytest.mark.points(1)
def test_train_with_p_one_drops_everything_without_nan(student, rng):
    """p = 1: all zeros (no 0/0 = NaN), in the forward and the backward pass."""
    dr = student("dropout.py")
    for shape in SMALL_SHAPES:
        x = nonzero_array(rng, shape) * 10.0 ** rng.integers(-3, 5, size=shape)
        out, cache = dr.dropout_forward(x, p=1.0, train=True, rng=np.random.default_rng(int(rng.integers(2**32))))
        assert_close(out, np.zeros(shape), what=f"dropout_forward output (train, p=1, x of shape {shape})")
        dout = nonzero_array(rng, shape)
        assert_close(dr.dropout_backward(dout, cache), np.zeros(shape), what=f"dropout_backward dx (train, p=1, shape {shape})")


# ------------------------------------------------------------------------------ backward
@pytest.mark.points(2)
@fixture_ok
@given(x=NONZERO, p=PROBABILITIES, seed=SEEDS)
def test_backward_goes_through_the_same_mask_and_scale(student, x, p, seed):
    """dx = dout / (1 - p) where the forward pass kept x, 0 where it dropped it."""
    dr = student("dropout.py")
    out, cache = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seed))
    check_array_type(out, x.shape, what="dropout_forward output (train)")
    dout = nonzero_array(np.random.default_rng(seed), x.shape)
    dx = dr.dropout_backward(dout, cache)
    expected = np.where(out == 0, 0.0, dout / (1 - p))
    assert_close(dx, expected, what=f"dropout_backward dx (p={p}): zero exactly where the forward output is zero, dout / (1 - p) elsewhere")


# ------------------------------------------------------------------------------ evaluation mode
@pytest.mark.points(1)
@fixture_ok
@given(x=dl.arrays(), p=st.sampled_from([0.0, 0.3, 0.7, 1.0]) | st.floats(0.0, 1.0), seed=SEEDS)
def test_eval_is_the_identity(student, x, p, seed):
    """train=False: out = x and dx = dout, whatever p."""
    dr = student("dropout.py")
    out, cache = dr.dropout_forward(x, p=p, train=False, rng=np.random.default_rng(seed))
    assert_close(out, x, what=f"dropout_forward output (eval, p={p})")
    dout = np.random.default_rng(seed).standard_normal(x.shape)
    assert_close(dr.dropout_backward(dout, cache), dout, what=f"dropout_backward dx (eval, p={p})")


# ------------------------------------------------------------------------------ randomness
@pytest.mark.points(2)
@fixture_ok
@given(seeds=st.lists(SEEDS, min_size=2, max_size=2, unique=True), p=st.sampled_from([0.2, 0.4, 0.7]))
def test_randomness_comes_from_rng_alone(student, helper, seeds, p):
    """Same seed, same output; another seed, another output; numpy's global random state untouched."""
    dr = student("dropout.py")
    course = helper("course_rng.py")
    x = nonzero_array(np.random.default_rng(seeds[0]), (10, 20))
    before = course.global_state()
    first, _ = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seeds[0]))
    again, _ = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seeds[0]))
    other, _ = dr.dropout_forward(x, p=p, train=True, rng=np.random.default_rng(seeds[1]))
    after = course.global_state()
    for name, value in (("first", first), ("again", again), ("other", other)):
        check_array_type(value, x.shape, what=f"dropout_forward output ({name})")
    if not np.array_equal(first, again):
        raise AssertionError("dropout_forward: two generators with the same seed gave different outputs; draw the mask from rng only")
    # 200 independent coins: two masks agree by chance with probability below 0.68**200
    if np.array_equal(first, other):
        raise AssertionError("dropout_forward: generators with different seeds gave the same output; draw the mask from rng")
    same_global = before[0] == after[0] and np.array_equal(before[1], after[1]) and tuple(before[2:]) == tuple(after[2:])
    if not same_global:
        raise AssertionError("dropout_forward changed numpy's global random state (np.random.*): use the rng argument only")


# ------------------------------------------------------------------------------ hygiene
@pytest.mark.points(1)
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_inputs_are_left_unmodified(student, rng, train):
    dr = student("dropout.py")
    x = nonzero_array(rng, (6, 9))
    shared_x = dr.share(x.copy())
    _, cache = dr.dropout_forward(shared_x, p=0.3, train=train, rng=np.random.default_rng(int(rng.integers(2**32))))
    if not np.array_equal(dr.fetch(shared_x), x):
        raise AssertionError("dropout_forward modified its argument x; compute a new array instead")
    dout = nonzero_array(rng, x.shape)
    shared_dout = dr.share(dout.copy())
    dr.dropout_backward(shared_dout, cache)
    if not np.array_equal(dr.fetch(shared_dout), dout):
        raise AssertionError("dropout_backward modified its argument dout; compute a new array instead")


@pytest.mark.points(1)
def test_dropout_imports_only_numpy_and_runs(student):
    """numpy only (no torch, scipy, sklearn, ...); and the file must be implemented: both functions run."""
    dr = student("dropout.py")
    dr.assert_no_banned_imports()
    x = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]])
    for train in (True, False):
        _, cache = dr.dropout_forward(x, p=0.5, train=train, rng=np.random.default_rng(0))
        dr.dropout_backward(np.ones_like(x), cache)
