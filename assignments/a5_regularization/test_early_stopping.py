"""Public tests for early_stopping.py: run them with ``pytest assignments/a5_regularization``.

Each test feeds ``EarlyStopping.step`` a sequence of validation losses and checks, after every
step, what ``step`` returned and the attributes ``counter``, ``best_loss`` and ``best_step`` (the
course helper ``course_early_stopping.py`` does the stepping, where your code runs). The
tables spell out the tricky cases: a loss equal to the best is no improvement, ``min_delta``,
``patience=0``, NaN losses, and training that improves again after ``step`` said stop.
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# `student` is a function-scoped fixture that holds no per-example state: safe under @given
fixture_ok = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
    phases=[phase for phase in settings.default.phases if phase is not Phase.explain],  # keep failing runs short
)
NAN, INF = math.nan, math.inf


def _is_int(value):
    return type(value) is int or (isinstance(value, np.integer) and type(value).__module__ == "numpy")


def _is_float(value):
    """A float, or an int of the value (the handout: ``0`` is as good as ``0.0``)."""
    return type(value) in (float, np.float64) or _is_int(value)


def _same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def check_row(row, *, stop, counter, best_loss, best_step, where):
    """Compare one step's ``(returned, counter, best_loss, best_step)`` with the expected values."""
    __tracebackhide__ = True
    returned, got_counter, got_best_loss, got_best_step = row
    if stop is not None:
        if type(returned) not in (bool, np.bool_):
            raise AssertionError(f"{where}: step should return a bool, got {returned!r}")
        if bool(returned) != stop:
            raise AssertionError(f"{where}: step returned {bool(returned)}, expected {stop}")
    if not _is_int(got_counter) or got_counter != counter:
        raise AssertionError(f"{where}: counter should be {counter}, got {got_counter!r}")
    if not _is_float(got_best_loss) or not _same_float(float(got_best_loss), best_loss):
        raise AssertionError(f"{where}: best_loss should be {best_loss!r}, got {got_best_loss!r}")
    if best_step is None:
        if got_best_step is not None:
            raise AssertionError(f"{where}: best_step should be None (no loss has improved yet), got {got_best_step!r}")
    elif not _is_int(got_best_step) or got_best_step != best_step:
        raise AssertionError(f"{where}: best_step should be {best_step} (0-based), got {got_best_step!r}")


def run(student, helper, losses, **hyper):
    """Step a new ``EarlyStopping(**hyper)`` through ``losses`` (where the student's code runs)."""
    es = student("early_stopping.py").EarlyStopping(**hyper)
    rows = helper("course_early_stopping.py").trace(es, list(losses))
    if type(rows) is not list or len(rows) != len(losses):
        raise AssertionError(f"stepping EarlyStopping({hyper}) through {len(losses)} losses gave {rows!r}")
    return rows


@dataclass(frozen=True)
class Table:
    """A loss sequence and, after each step, what step returns and the state it leaves."""

    name: str
    patience: int
    min_delta: float
    losses: tuple[float, ...]
    stops: tuple[bool, ...]
    counters: tuple[int, ...]
    best_losses: tuple[float, ...]
    best_steps: tuple[int | None, ...]

    def __str__(self) -> str:
        return self.name


F, T = False, True
TABLES = [
    Table("improve_then_plateau", 2, 0.0, (1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85),
          (F, F, F, T, F, F, T), (0, 0, 1, 2, 0, 1, 2), (1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8), (0, 1, 1, 1, 4, 4, 4)),
    Table("equal_loss_is_no_improvement", 1, 0.0, (1.0, 1.0, 0.5, 0.5),
          (F, T, F, T), (0, 1, 0, 1), (1.0, 1.0, 0.5, 0.5), (0, 0, 2, 2)),
    Table("min_delta", 2, 0.25, (2.0, 1.875, 1.5, 1.375, 1.125, 1.0),
          (F, F, F, F, F, F), (0, 1, 0, 1, 0, 1), (2.0, 2.0, 1.5, 1.5, 1.125, 1.125), (0, 0, 2, 2, 4, 4)),
    Table("exactly_min_delta_better_is_no_improvement", 1, 0.5, (2.0, 1.5, 1.25),
          (F, T, F), (0, 1, 0), (2.0, 2.0, 1.25), (0, 0, 2)),
    Table("patience_zero_stops_at_the_first_non_improving_step", 0, 0.0, (1.0, 2.0, 0.5, 0.25, 0.6),
          (F, T, F, F, T), (0, 1, 0, 0, 1), (1.0, 1.0, 0.5, 0.25, 0.25), (0, 0, 2, 3, 3)),
    Table("stop_then_improve_again", 1, 0.0, (3.0, 3.5, 2.0, 2.5, 2.5),
          (F, T, F, T, T), (0, 1, 0, 1, 2), (3.0, 3.0, 2.0, 2.0, 2.0), (0, 0, 2, 2, 2)),
    Table("nan_never_improves", 2, 0.0, (NAN, 1.0, NAN, NAN, 0.5),
          (F, F, F, T, F), (1, 0, 1, 2, 0), (INF, 1.0, 1.0, 1.0, 0.5), (None, 1, 1, 1, 4)),
    Table("inf_never_improves_on_inf", 1, 0.0, (INF, INF, 4.0),
          (T, T, F), (1, 2, 0), (INF, INF, 4.0), (None, None, 2)),
    Table("negative_losses", 3, 0.0, (-1.0, -2.0, -1.5, -3.0, -2.9, -2.95, -2.99),
          (F, F, F, F, F, F, T), (0, 0, 1, 0, 1, 2, 3), (-1.0, -2.0, -2.0, -3.0, -3.0, -3.0, -3.0), (0, 1, 1, 3, 3, 3, 3)),
]


@pytest.mark.points(1)
def test_early_stopping_starts_with_no_best(student, helper):
    es = student("early_stopping.py").EarlyStopping(patience=3)
    row = (None, *helper("course_early_stopping.py").state(es))
    check_row(row, stop=None, counter=0, best_loss=INF, best_step=None, where="EarlyStopping(patience=3) before any step")


@pytest.mark.points(1)
@pytest.mark.parametrize("table", TABLES, ids=str)
def test_early_stopping_follows_the_table(student, helper, table):
    rows = run(student, helper, table.losses, patience=table.patience, min_delta=table.min_delta)
    for k, row in enumerate(rows):
        where = f"EarlyStopping(patience={table.patience}, min_delta={table.min_delta}) after step({table.losses[k]}) at index {k} (losses {list(table.losses[: k + 1])})"
        check_row(row, stop=table.stops[k], counter=table.counters[k], best_loss=table.best_losses[k], best_step=table.best_steps[k], where=where)


LOSSES = st.lists(
    st.sampled_from([0.25, 0.5, 1.0, 2.0, NAN, INF]) | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=20,
)


@pytest.mark.points(3)
@fixture_ok
@given(patience=st.integers(0, 4), losses=LOSSES)
def test_without_min_delta_the_best_is_the_first_minimum(student, helper, patience, losses):
    """min_delta=0: best_loss is the smallest loss so far (NaN and inf never count), best_step where it first occurred."""
    rows = run(student, helper, losses, patience=patience, min_delta=0.0)
    best_loss, best_step = INF, None
    for k, (loss, row) in enumerate(zip(losses, rows)):
        if loss < best_loss:
            best_loss, best_step = loss, k
        counter = k + 1 if best_step is None else k - best_step
        where = f"EarlyStopping(patience={patience}) after the losses {losses[: k + 1]}"
        check_row(row, stop=counter > 0 and counter >= patience, counter=counter, best_loss=best_loss, best_step=best_step, where=where)


@pytest.mark.points(1)
def test_early_stopping_imports_only_numpy_and_runs(student, helper):
    """numpy only (no torch, scipy, sklearn, ...); and the class must be implemented: it steps."""
    student("early_stopping.py").assert_no_banned_imports()
    run(student, helper, [1.0, 0.5], patience=1)
