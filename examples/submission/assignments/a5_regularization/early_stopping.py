"""Early stopping on a validation loss (a5_regularization, ``early_stopping.py``)."""

from __future__ import annotations

import math


class EarlyStopping:
    """Stop training once the validation loss has not improved for ``patience`` steps.

    A loss improves when ``val_loss < best_loss - min_delta``; a NaN loss never improves.
    ``step`` returns ``counter > 0 and counter >= patience``, so ``patience=0`` stops at the first
    step that does not improve, and a later improvement makes it return False again.
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        """Set ``patience``, ``min_delta``; ``best_loss = inf``, ``best_step = None``, ``counter = 0``."""
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_step: int | None = None  # 0-based index of the best step
        self.counter = 0  # steps since the last improvement
        self._steps_taken = 0

    def step(self, val_loss: float) -> bool:
        """Record one validation loss; True when training should stop."""
        val_loss = float(val_loss)
        if val_loss < self.best_loss - self.min_delta:  # False for NaN
            self.best_loss = val_loss
            self.best_step = self._steps_taken
            self.counter = 0
        else:
            self.counter += 1
        self._steps_taken += 1
        return self.counter > 0 and self.counter >= self.patience
