"""dlgrade: grading and test harness for deep-learning coursework.

What a course author needs, in one place::

    from grader import assert_close, check_layer_gradient, strategies

The pytest plugin (``grader.plugin``) adds the ``student``, ``reference`` and ``rng`` fixtures
and the ``points(n)`` and ``gpu`` markers.
"""

from grader import strategies
from grader.gradcheck import check_gradient, check_layer_gradient
from grader.statistics import (
    assert_fraction,
    assert_mean,
    assert_normal,
    assert_std,
    assert_uniform,
    assert_zero_fraction,
    one_failure,
)
from grader.raises import student_raises
from grader.tolerance import assert_close, check_array_type, check_scalar_type

__all__ = [
    "assert_close",
    "assert_fraction",
    "assert_mean",
    "assert_normal",
    "assert_std",
    "assert_uniform",
    "assert_zero_fraction",
    "check_array_type",
    "check_gradient",
    "check_layer_gradient",
    "check_scalar_type",
    "one_failure",
    "strategies",
    "student_raises",
]
