"""The calls a test made to student functions, recorded on the judge's side as plain data.

``grader.diagnosis`` needs, when a test fails, the inputs the student's function got and what it
answered. Every call a test makes through the ``student`` fixture to a function of a student file
(``act.softmax(x)``, in this process or in the worker) goes through a ``RecordedFunction`` that
appends a ``Call`` to the test's ``CallLog``:

* the arguments are copied *before* the call (student code may change its inputs in place): arrays
  copied in the same kind of memory layout and numpy generators in the same state, lists, tuples and dicts walked, numbers and strings kept; any other
  object (a handle to a worker object, a student's own class) is kept as itself and makes the call
  one that cannot be replayed on the oracle (``Call.plain``);
* the result is copied the same way, or the exception is kept;
* the log holds the calls of the current test only, and at most ``LIMIT`` of them: the last ones.
  Hypothesis replays the failing example last, so the last calls are the failing example's.

``share(value)``, which puts a value where student code runs and gives back a handle to it, is
recorded too, as a call of ``share`` that returned the handle: how a handle the test passes later
(an optimizer's parameters) is traced back to the value it started as.

Batched evaluations (``map_calls``: the central differences of a gradient check) are passed
through unrecorded. Recording costs a copy of the arguments and result of each call.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader import wire

LIMIT = 64
"""Calls kept per test: more than any one hypothesis example of the course makes."""


class Opaque:
    """An argument or result that is not plain data (a handle, a student's object), kept as itself."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Opaque({type(self.value).__name__})"


def plain_copy(value: Any) -> Any:
    """A copy of ``value`` made of plain data; whatever is not plain data becomes an ``Opaque``."""
    t = type(value)
    if value is None or t in (bool, int, float, str, complex):
        return value
    if t is np.ndarray:
        return wire.copy_laid_out(value)  # in the same kind of memory layout, as the worker gets it
    if t is tuple or t is list:
        return t(plain_copy(v) for v in value)
    if t is dict:
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, np.generic) and t.__module__ == "numpy":
        return value
    if t is np.random.Generator:
        return copy.deepcopy(value)
    return Opaque(value)


def is_plain(value: Any) -> bool:
    """Whether a recorded value holds no ``Opaque`` part."""
    if type(value) is Opaque:
        return False
    if type(value) in (tuple, list):
        return all(is_plain(v) for v in value)
    if type(value) is dict:
        return all(is_plain(v) for v in value.values())
    return True


@dataclass(frozen=True)
class Call:
    """One call of a student function: ``file``'s ``function`` in ``assignment`` got ``args`` and
    ``kwargs`` (copies made before the call) and returned ``result`` (a copy) or raised ``raised``.

    ``passed`` is the objects the test passed, themselves (not copies), and ``returned`` the object
    it got back: how a backward call's ``cache`` is traced to the forward call that returned it.
    """

    assignment: str
    file: str
    function: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any = None
    raised: BaseException | None = None
    passed: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    returned: Any = field(default=None, repr=False, compare=False)

    @property
    def plain(self) -> bool:
        """The arguments are plain data: the call can be replayed on the oracle."""
        return is_plain(self.args) and is_plain(self.kwargs)


class CallLog:
    """The last ``limit`` calls of the current test (``clear`` starts the next test's)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._calls: deque[Call] = deque(maxlen=limit)

    def clear(self) -> None:
        self._calls.clear()

    def append(self, call: Call) -> None:
        self._calls.append(call)

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls)

    def __len__(self) -> int:
        return len(self._calls)


class RecordedFunction:
    """A student function that records each call in ``log``; otherwise it is the function itself
    (its attributes, ``map_calls`` included, are the function's)."""

    def __init__(self, function: Callable[..., Any], log: CallLog, assignment: str, file: str, name: str) -> None:
        self._function = function
        self._log = log
        self._where = (assignment, file, name)
        self.__name__ = name

    def __repr__(self) -> str:
        return repr(self._function)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._function, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        assignment, file, name = self._where
        copied_args, copied_kwargs = plain_copy(args), plain_copy(kwargs)
        try:
            result = self._function(*args, **kwargs)
        except BaseException as error:
            self._log.append(Call(assignment, file, name, copied_args, copied_kwargs, raised=error, passed=args))
            raise
        self._log.append(Call(assignment, file, name, copied_args, copied_kwargs, result=plain_copy(result), passed=args, returned=result))
        return result

    def map_calls(self, calls: list[tuple[tuple[Any, ...], dict[str, Any]]], pick: int | None = None) -> list[Any]:
        """Many calls at once, unrecorded (``grader.gradcheck.call_many``): the worker's batch, or
        a loop in this process."""
        batched = getattr(self._function, "map_calls", None)
        if batched is not None:
            return batched(calls, pick)
        results = [self._function(*args, **kwargs) for args, kwargs in calls]
        return results if pick is None else [r[pick] for r in results]
