"""The calls a test made to student functions, recorded on the judge's side as plain data.

``grader.diagnosis`` needs, when a test fails, the inputs the student's function got and what it
answered. Every call a test makes through the ``student`` fixture to a function of a student file
(``act.softmax(x)``, in this process or in the worker), and through ``helper`` to a course helper
beside it (``course_rng.generator(seed)``: what made an argument of a student function), goes
through a ``RecordedFunction`` that appends a ``Call`` to the test's ``CallLog``:

* the arguments are copied *before* the call (student code may change its inputs in place):
  arrays in the same kind of memory layout, numpy generators in the same state, lists, tuples and
  dicts walked (a subclass of tuple or dict, such as a named tuple, as its items), numbers and
  strings kept; any other object (a handle to a worker object, a
  student's own class) is kept as itself and makes the call one that cannot be replayed on the
  oracle (``Call.plain``);
* the result is copied the same way, or the exception is kept;
* the log holds the calls of the current test only, and at most ``LIMIT`` of them: the last ones.
  Hypothesis replays the failing example last, so the last calls are the failing example's.

When student code runs in the worker, calls of methods of student objects and reads of their
attributes are recorded too (``ObjectRecorder``: ``opt.step(grads)`` as a call of ``SGD.step``,
``stopper.counter`` as one of ``EarlyStopping.counter`` without arguments, with the object as
``Call.owner``), for objects that a recorded call returned; and the test's ``share`` and
``fetch`` (values put where student code runs, and read back) as calls named ``SHARE`` and
``FETCH``, so that in-place updates can be replayed. Batched evaluations (``map_calls``: the
central differences of a gradient check) are passed through unrecorded. Recording costs a copy of
the arguments and result of each call: measured on an (8, 16) array, about 7 microseconds of CPU
per call in this process, and 16 of the judge's CPU per call to the worker, whose round trip
takes about 1 ms.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader import wire
from grader.remote import kind_of

LIMIT = 64
"""Calls kept per test: more than any one hypothesis example of the course makes."""
SHARE = "<share>"  # StudentFile.share(value): args (a copy of value,), returned: the shared object
FETCH = "<fetch>"  # StudentFile.fetch(shared): passed (the shared object,), result: a copy of its value


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
    if t is list:
        return [plain_copy(v) for v in value]
    if isinstance(value, tuple):  # a named tuple (``wire.HeldTuple`` from the worker) as its items
        return tuple(plain_copy(v) for v in tuple.__iter__(value))
    if isinstance(value, dict):  # an ``OrderedDict``, a ``defaultdict`` (``wire.HeldDict``) as its items
        return {k: plain_copy(v) for k, v in dict.items(value)}
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

    ``passed`` is the objects the test passed, themselves (not copies: the positional arguments,
    then the keyword arguments' values), and ``returned`` the object
    it got back: how a backward call's ``cache`` is traced to the forward call that returned it.
    ``owner``: for a method call, the object whose method it is.
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
    owner: Any = field(default=None, repr=False, compare=False)

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

    def __reversed__(self) -> Iterator[Call]:
        return reversed(self._calls)

    def __len__(self) -> int:
        return len(self._calls)


def record(log: CallLog, where: tuple[str, str, str], run: Callable[[], Any], args: tuple[Any, ...], kwargs: dict[str, Any], owner: Any = None) -> Any:
    """``run()`` (a call of ``where = (assignment, file, function)`` with ``args`` and ``kwargs``),
    recorded in ``log``; its exception, if any, recorded and raised unchanged."""
    __tracebackhide__ = True
    copied_args, copied_kwargs = plain_copy(args), plain_copy(kwargs)
    passed = (*args, *kwargs.values())
    try:
        result = run()
    except BaseException as error:
        log.append(Call(*where, copied_args, copied_kwargs, raised=error, passed=passed, owner=owner))
        raise
    log.append(Call(*where, copied_args, copied_kwargs, result=plain_copy(result), passed=passed, returned=result, owner=owner))
    return result


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
        return record(self._log, self._where, lambda: self._function(*args, **kwargs), args, kwargs)

    def map_calls(self, calls: list[tuple[tuple[Any, ...], dict[str, Any]]], pick: int | None = None) -> list[Any]:
        """Many calls at once, unrecorded (``grader.gradcheck.call_many``): the worker's batch, or
        a loop in this process."""
        batched = getattr(self._function, "map_calls", None)
        if batched is not None:
            return batched(calls, pick)
        results = [self._function(*args, **kwargs) for args, kwargs in calls]
        return results if pick is None else [r[pick] for r in results]


class ObjectRecorder:
    """The worker's ``recorder`` (``grader.remote.Worker``): records ``owner.name(*args, **kwargs)``
    as a call of ``Kind.name``, and a read of ``owner.name`` as a call of ``Kind.name`` without
    arguments, when ``owner`` was returned by a recorded call (a constructor, or a recorded
    method), in the file that call was of."""

    def __init__(self, log: CallLog) -> None:
        self._log = log

    def _maker(self, owner: Any) -> Call | None:
        return next((c for c in reversed(self._log) if c.returned is owner), None)

    def method(self, owner: Any, name: str, run: Callable[[], Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        __tracebackhide__ = True
        made = self._maker(owner)
        if made is None:
            return run()
        return record(self._log, (made.assignment, made.file, f"{kind_of(owner)}.{name}"), run, args, kwargs, owner=owner)

    def attribute(self, owner: Any, name: str, value: Any) -> None:
        self.method(owner, name, lambda: value, (), {})  # a call without arguments that returned ``value``
