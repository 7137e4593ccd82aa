"""dlgrade: grading and test harness for deep-learning coursework.

What a course author needs, in one place::

    from grader import assert_close, check_layer_gradient, strategies

The pytest plugin (``grader.plugin``) adds the ``student``, ``reference`` and ``rng`` fixtures
and the ``points(n)`` and ``gpu`` markers.
"""

import importlib
from typing import Any

_HOMES = {  # name -> the module it comes from, imported on first use
    "strategies": "grader.strategies",
    **dict.fromkeys(["call_many", "check_gradient", "check_layer_gradient"], "grader.gradcheck"),
    **dict.fromkeys(
        ["assert_fraction", "assert_mean", "assert_normal", "assert_std", "assert_uniform", "assert_zero_fraction", "one_failure"],
        "grader.statistics",
    ),
    "student_raises": "grader.raises",
    **dict.fromkeys(["assert_close", "check_array_type", "check_scalar_type"], "grader.tolerance"),
    "torch_one_thread": "grader.torch_oracle",
}


def __getattr__(name: str) -> Any:
    """The course author's API, imported when first asked for: importing one of the harness's
    modules (the worker's, the output formats) does not import hypothesis or the worker client."""
    if name not in _HOMES:
        raise AttributeError(f"module 'grader' has no attribute {name!r}")
    module = importlib.import_module(_HOMES[name])
    value = module if name == "strategies" else getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "assert_close",
    "assert_fraction",
    "assert_mean",
    "assert_normal",
    "assert_std",
    "assert_uniform",
    "assert_zero_fraction",
    "call_many",
    "check_array_type",
    "check_gradient",
    "check_layer_gradient",
    "check_scalar_type",
    "one_failure",
    "strategies",
    "student_raises",
    "torch_one_thread",
]
