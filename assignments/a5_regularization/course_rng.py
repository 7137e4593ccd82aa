"""A course helper, not a file to edit: numpy's global random state where YOUR code runs.

When grading, your functions run in a separate process. The tests ask this helper, which runs
beside your code, for numpy's global random state before and after your dropout, to check that
your code draws only from the ``rng`` it is given.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def global_state() -> tuple[Any, ...]:
    """numpy's global (legacy) random state as plain data: ``(name, keys, pos, has_gauss, cached)``."""
    return tuple(np.random.get_state())
