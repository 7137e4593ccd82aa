"""A course helper, not a file to edit: steps YOUR EarlyStopping where your code runs.

When grading, your code runs in a separate process; stepping an EarlyStopping from the tests one
call at a time would cost several round trips per step. This helper runs a whole loss sequence
there and sends back, for each step, what ``step`` returned and the attributes it left, as they
are (the tests check their types and values).
"""

from __future__ import annotations

from typing import Any


def trace(early_stopping: Any, losses: list[float]) -> list[tuple[Any, Any, Any, Any]]:
    """``[(step(loss), counter, best_loss, best_step) for each loss]``, stepping in order."""
    rows = []
    for loss in losses:
        returned = early_stopping.step(loss)
        rows.append((returned, early_stopping.counter, early_stopping.best_loss, early_stopping.best_step))
    return rows


def state(early_stopping: Any) -> tuple[Any, Any, Any]:
    """``(counter, best_loss, best_step)`` as they are now."""
    return early_stopping.counter, early_stopping.best_loss, early_stopping.best_step
