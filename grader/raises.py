"""Did the student's code raise X? The same answer in this process and across the worker boundary.

In-process, a student's exception reaches the test as itself. From the worker it arrives as
``StudentCodeError``, which carries the built-in class of what was raised (``raised``; a student's
own ``class ShapeError(ValueError)`` arrives as ``ValueError``), never a class named by the worker.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from grader.remote import StudentCodeError


def student_raises(expected: type[BaseException], call: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether ``call(*args, **kwargs)`` (student code) raised ``expected`` or a subclass of it.

    The same in both isolation modes: in this process the student's exception itself is caught;
    from the worker it arrives as ``StudentCodeError`` carrying the built-in class of what was
    raised (``StudentCodeError.raised``). Returns False when the call returned; any other
    exception, or a worker that crashed or hung, propagates and fails the test with its message.
    ``expected`` must be a built-in exception class (only those cross the worker boundary).
    """
    __tracebackhide__ = True
    if not (isinstance(expected, type) and issubclass(expected, BaseException) and getattr(builtins, expected.__name__, None) is expected):
        raise TypeError(f"student_raises needs a built-in exception class, got {expected!r}")
    try:
        call(*args, **kwargs)
    except StudentCodeError as error:
        if error.raised is not None and issubclass(error.raised, expected):
            return True
        raise
    except expected:
        return True
    return False
