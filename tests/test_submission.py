"""What a test gets for a student file: in this process, ``share`` gives student code what the
worker's ``put`` gives it, so a test behaves the same in both isolation modes."""

import numpy as np
import pytest

from grader.strategies import LAYOUTS, laid_out
from grader.submission import LocalModule


@pytest.mark.parametrize("layout", LAYOUTS)
def test_share_copies_arrays_in_their_layout_and_never_aliases_the_callers(layout):
    mine = laid_out(np.arange(6.0).reshape(2, 3), layout)
    [theirs] = LocalModule.share([mine])
    theirs += 1  # student code updating a parameter in place
    assert np.array_equal(mine, np.arange(6.0).reshape(2, 3))
    assert (theirs.flags.c_contiguous, theirs.flags.f_contiguous) == (mine.flags.c_contiguous, mine.flags.f_contiguous)


def test_share_keeps_a_students_own_objects_and_copies_containers():
    class Cache:
        pass

    cache = Cache()
    shared = LocalModule.share({"cache": cache, "state": [np.zeros(2)], "mode": "train"})
    assert shared["cache"] is cache and shared["mode"] == "train"
    shared["state"][0][:] = 1
    assert shared["state"][0].tolist() == [1.0, 1.0]
