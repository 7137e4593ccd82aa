"""Hidden tests for early_stopping.py (instructor only): the student against the reference oracle.

Generated loss sequences are fed to the student's ``EarlyStopping`` and the reference's side by
side; after every step the returned bool, ``counter``, ``best_loss`` and ``best_step`` must agree.
With ``min_delta > 0`` the losses and ``min_delta`` are multiples of 1/8 (exact in float64, so
``loss < best - min_delta`` and ``best - loss > min_delta`` agree even at the boundary), or the
example is dropped when a loss lies within rounding of the boundary.
Without ``min_delta`` the default 0.0 must hold: improvements of about 1e-9 count.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
    phases=[phase for phase in settings.default.phases if phase is not Phase.explain],  # keep failing runs short
)
NAN, INF = math.nan, math.inf
EIGHTHS = st.integers(-64, 64).map(lambda k: k / 8)
GRID_LOSSES = st.lists(EIGHTHS | st.sampled_from([NAN, INF]), min_size=1, max_size=25)
GRID_DELTAS = st.sampled_from([0.0, 0.125, 0.25, 0.5, 1.0, 2.5])
FLOAT_LOSSES = st.lists(st.floats(-100.0, 100.0) | st.sampled_from([NAN, INF]), min_size=1, max_size=25)


def _is_int(value):
    return type(value) is int or (isinstance(value, np.integer) and type(value).__module__ == "numpy")


def _is_float(value):
    """A float, or an int of the value (the handout: ``0`` is as good as ``0.0``)."""
    return type(value) in (float, np.float64) or _is_int(value)


def _same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def compare(rows, oracle, losses, where):
    """Step the reference through ``losses`` and compare with the student's trace, step by step."""
    __tracebackhide__ = True
    if type(rows) is not list or len(rows) != len(losses):
        raise AssertionError(f"{where}: stepping through {len(losses)} losses gave {rows!r}")
    for k, (loss, (returned, counter, best_loss, best_step)) in enumerate(zip(losses, rows)):
        expected = oracle.step(loss)
        at = f"{where} after the losses {losses[: k + 1]}"
        if type(returned) not in (bool, np.bool_):
            raise AssertionError(f"{at}: step should return a bool, got {returned!r}")
        if bool(returned) != expected:
            raise AssertionError(f"{at}: step returned {bool(returned)}, expected {expected}")
        if not _is_int(counter) or counter != oracle.counter:
            raise AssertionError(f"{at}: counter should be {oracle.counter}, got {counter!r}")
        if not _is_float(best_loss) or not _same_float(float(best_loss), oracle.best_loss):
            raise AssertionError(f"{at}: best_loss should be {oracle.best_loss!r}, got {best_loss!r}")
        if oracle.best_step is None:
            if best_step is not None:
                raise AssertionError(f"{at}: best_step should be None, got {best_step!r}")
        elif not _is_int(best_step) or best_step != oracle.best_step:
            raise AssertionError(f"{at}: best_step should be {oracle.best_step}, got {best_step!r}")


def near_boundary(losses, min_delta, reference):
    """Whether some loss lies within rounding of ``best_loss - min_delta`` (either answer is valid there)."""
    oracle = reference.EarlyStopping(patience=0, min_delta=min_delta)
    for loss in losses:
        boundary = oracle.best_loss - min_delta
        if min_delta > 0 and math.isfinite(boundary) and abs(loss - boundary) <= 1e-12 * (1 + abs(boundary)):
            return True
        oracle.step(loss)
    return False


@pytest.mark.points(3)
@fixture_ok
@given(patience=st.integers(0, 5), min_delta=GRID_DELTAS, losses=GRID_LOSSES)
def test_hidden_matches_the_reference_on_exact_losses(student, helper, reference, patience, min_delta, losses):
    es = student("early_stopping.py").EarlyStopping(patience=patience, min_delta=min_delta)
    rows = helper("course_early_stopping.py").trace(es, losses)
    oracle = reference("early_stopping.py").EarlyStopping(patience=patience, min_delta=min_delta)
    compare(rows, oracle, losses, f"EarlyStopping(patience={patience}, min_delta={min_delta})")


@pytest.mark.points(2)
@fixture_ok
@given(patience=st.integers(0, 5), min_delta=st.just(0.0) | st.floats(1e-6, 1.0), losses=FLOAT_LOSSES)
def test_hidden_matches_the_reference_on_any_losses(student, helper, reference, patience, min_delta, losses):
    # a loss within rounding of best_loss - min_delta may go either way in a valid formula
    assume(not near_boundary(losses, min_delta, reference("early_stopping.py")))
    es = student("early_stopping.py").EarlyStopping(patience=patience, min_delta=min_delta)
    rows = helper("course_early_stopping.py").trace(es, losses)
    oracle = reference("early_stopping.py").EarlyStopping(patience=patience, min_delta=min_delta)
    compare(rows, oracle, losses, f"EarlyStopping(patience={patience}, min_delta={min_delta})")


@pytest.mark.points(1)
@fixture_ok
@given(patiences=st.tuples(st.integers(0, 3), st.integers(0, 3)), losses=st.lists(st.tuples(EIGHTHS, EIGHTHS), min_size=1, max_size=15))
def test_hidden_instances_are_independent(student, helper, reference, patiences, losses):
    """Two EarlyStopping objects stepped in turn: neither sees the other's losses."""
    mod, course = student("early_stopping.py"), helper("course_early_stopping.py")
    objects = [mod.EarlyStopping(patience=p, min_delta=0.0) for p in patiences]
    rows: list[list] = [[], []]
    for step_losses in losses:
        for which, loss in enumerate(step_losses):
            rows[which] += course.trace(objects[which], [loss])
    for which, p in enumerate(patiences):
        oracle = reference("early_stopping.py").EarlyStopping(patience=p, min_delta=0.0)
        own = [pair[which] for pair in losses]
        compare(rows[which], oracle, own, f"EarlyStopping number {which} (patience={p}), stepped in turn with another one,")


# a random walk from 1.0 in steps of 2**-30 (about 1e-9, exact in float64): improvements far below
# any min_delta a default might wrongly hold (1e-4, 1e-6, ...)
TINY_STEP_LOSSES = st.lists(st.integers(-3, 2), min_size=2, max_size=25).map(lambda steps: [1.0 + k * 2.0**-30 for k in np.cumsum(steps).tolist()])


@pytest.mark.points(1)
@fixture_ok
@given(patience=st.integers(0, 5), losses=TINY_STEP_LOSSES)
def test_hidden_default_min_delta_is_zero(student, helper, reference, patience, losses):
    """``EarlyStopping(patience)``: ``min_delta`` defaults to 0.0, so an improvement of any size counts."""
    es = student("early_stopping.py").EarlyStopping(patience=patience)
    rows = helper("course_early_stopping.py").trace(es, losses)
    oracle = reference("early_stopping.py").EarlyStopping(patience=patience, min_delta=0.0)
    compare(rows, oracle, losses, f"EarlyStopping(patience={patience}) with the default min_delta")
