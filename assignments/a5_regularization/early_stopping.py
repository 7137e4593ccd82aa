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
        raise NotImplementedError("Implement EarlyStopping.__init__: see the assignment's README.md")

    def step(self, val_loss: float) -> bool:
        """Record one validation loss; True when training should stop."""
        raise NotImplementedError("Implement EarlyStopping.step: see the assignment's README.md")
