"""Which known mistake a failed test shows: the course's catalogue of mistakes, replayed by the judge.

A failure says *that* a result is wrong; the judge, which holds the oracle and the failing input,
can often say *which* mistake made it. Each assignment may have a catalogue,
``reference/<assignment>/mistakes.py`` (judge-only: ``reference/`` never reaches the student
release, the wheel or the worker), defining ``MISTAKES``, a list of ``Mistake``::

    import numpy as np
    from grader.diagnosis import Function, Mistake, output

    softmax = Function("activations.py", "softmax")
    relu_forward = Function("activations.py", "relu_forward", graded=output)   # (out, cache): judge out
    relu_backward = Function("activations.py", "relu_backward", forward="relu_forward")

    MISTAKES = [
        Mistake(softmax, "softmax without the max shift",
                "exp(x) overflows for large x: subtract each row's maximum first, softmax(x) = softmax(x - max).",
                section="`activations.py`",          # a heading of assignments/<a>/README.md
                wrong=lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
        Mistake(relu_backward, "ReLU gradient masked by the sign of dout", "...", section="...",
                wrong=lambda dout, x: np.where(dout > 0, dout, 0.0)),
    ]

``wrong`` takes what the oracle's function takes and returns the wrong answer in its graded form
(``Function.graded``: the whole result, or ``output``, the ``out`` of ``(out, cache)``). A backward
``Function`` names its ``forward``: its ``wrong`` then takes ``(dout, *forward_args,
**forward_kwargs)``, the upstream gradient and the inputs of the forward call that made the cache,
and the oracle's answer is ``backward(dout, forward(*forward_args)[1])`` (a cache is the
student's own object: only the forward's inputs can be replayed).

How a failed test is diagnosed (``Catalogue.diagnose``, on the calls ``grader.calls`` recorded):
walk the test's calls to catalogued functions from the last one back (hypothesis replays the
failing example last) and find the latest call whose answer is wrong: not ``agrees`` with the
oracle's answer on copies of the same inputs. Calls that raised, or whose inputs are not plain
data (a handle, a shared value), or a backward whose forward call is not recorded, are skipped.
On that call, a mistake matches when its wrong answer differs from the oracle's (a mistake that
coincides with the right answer on this input says nothing) and the student's answer agrees
with it; a ``wrong`` that raises does not match. The diagnosis is the first match in catalogue
order, and none when matches with different names disagree or nothing matches: the catalogue
never speaks unless it matches.

``agrees`` is the course's tolerance (``grader.tolerance``: ``rtol = 1e-6`` and an absolute
``max(atol, rtol * scale)`` with ``scale`` the largest finite magnitude of the expected answer),
entry by entry, over the same structure (tuples, lists, dicts, arrays of the same shape,
numbers); an entry that is NaN or inf agrees only with an entry that is also NaN or inf. So a
mistake that overflows on large inputs (softmax without the shift) is recognised by its
non-finite entries sitting where the student's are, and a student's NaN never agrees with a
finite oracle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.calls import Call, is_plain, plain_copy
from grader.course import Course
from grader.loader import load_module_from_path
from grader.tolerance import ATOL, RTOL


def whole(result: Any) -> Any:
    """The whole result is judged (a loss's ``(loss, grad)``, a backward's gradients)."""
    return result


def output(result: Any) -> Any:
    """``out`` of a forward's ``(out, cache)``: the cache is the student's own and never judged."""
    return result[0]


@dataclass(frozen=True)
class Function:
    """A student function the catalogue knows mistakes of: ``name`` in ``file`` (``"activations.py"``).

    ``graded``: the part of a result that is judged. ``forward``: for a ``backward(dout, cache)``,
    the forward function of the same file whose ``(out, cache)`` the cache came from.
    ``inputs`` and ``oracle``: for a course helper that runs the student's objects (a3's
    ``graph_runner.run_program(Value(0.0), leaves, steps)``, a7's ``optim_runner.run_steps(
    optimizer, params, grads)``), the plain ``(args, kwargs)`` the oracle and the mistakes take,
    found from the call and the calls before it (the handles in its arguments traced to the calls
    that made them; None when they cannot be), and the right answer from those inputs (by default
    the oracle module's function of the same name, given the call's own arguments). ``about``:
    what the student reads the mistake is in when that is not ``name`` (a helper's call judges
    the student's ``Value`` or optimizer ``step``).
    """

    file: str
    name: str
    graded: Callable[[Any], Any] = whole
    forward: str | None = None
    inputs: Callable[[Call, list[Call]], tuple[tuple[Any, ...], dict[str, Any]] | None] | None = None
    oracle: Callable[..., Any] | None = None
    about: str = ""

    @property
    def stem(self) -> str:
        return Path(self.file).stem


@dataclass(frozen=True)
class Mistake:
    """A known mistake in ``function``: a short ``name``, one sentence ``explanation`` (which mistake,
    and the right rule), the handout ``section`` (a heading of the assignment's README.md) that
    explains the right rule, and ``wrong``: the mistaken answer, from the oracle's inputs."""

    function: Function
    name: str
    explanation: str
    section: str
    wrong: Callable[..., Any] = field(repr=False)

    def describe(self) -> str:
        """What the student reads in place of the generic hint."""
        return f"This looks like a known mistake in {self.function.about or self.function.name}: {self.name}. {self.explanation} See the handout, section \"{self.section}\"."


def agrees(actual: Any, expected: Any, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """``actual`` equals ``expected`` within the course's tolerance, entry by entry (see above)."""
    if type(expected) in (tuple, list):
        return type(actual) in (tuple, list) and len(actual) == len(expected) and all(agrees(a, e, rtol=rtol, atol=atol) for a, e in zip(actual, expected))
    if type(expected) is dict:
        return type(actual) is dict and actual.keys() == expected.keys() and all(agrees(actual[k], expected[k], rtol=rtol, atol=atol) for k in expected)
    if type(actual) in (tuple, list, dict) or isinstance(actual, (bool, str)) or isinstance(expected, (bool, str)):
        return False
    try:
        got = np.asarray(actual, dtype=np.float64)
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if got.shape != want.shape:
        return False
    finite = np.isfinite(want)
    if not np.array_equal(np.isfinite(got), finite):
        return False
    scale = float(np.max(np.abs(want[finite]), initial=0.0))
    limit = max(atol, rtol * scale) + rtol * np.abs(want[finite])
    return bool(np.all(np.abs(got[finite] - want[finite]) <= limit))


def _quietly(function: Callable[..., Any], args: Iterable[Any], kwargs: dict[str, Any]) -> Any:
    """``function`` on copies of the arguments (arrays in their memory layout), numpy's warnings
    silenced (a mistake may overflow)."""
    with np.errstate(all="ignore"):
        return function(*plain_copy(tuple(args)), **plain_copy(kwargs))


class Catalogue:
    """An assignment's known mistakes and the oracles they are judged against."""

    def __init__(self, mistakes: list[Mistake], oracles: Callable[[str], Any]) -> None:
        self.mistakes = list(mistakes)
        self._oracle_of = oracles  # file stem -> the oracle module

    @classmethod
    def load(cls, course: Course, assignment: str) -> Catalogue | None:
        """The catalogue of ``assignment`` (None when it has none)."""
        path = course.mistakes(assignment)
        if not path.is_file():
            return None
        modules: dict[str, Any] = {}

        def oracle(stem: str) -> Any:
            if stem not in modules:
                modules[stem] = load_module_from_path(course.oracle(assignment, stem))
            return modules[stem]

        return cls(list(load_module_from_path(path).MISTAKES), oracle)

    def of(self, stem: str, name: str) -> list[Mistake]:
        return [m for m in self.mistakes if m.function.stem == stem and m.function.name == name]

    def named(self, name: str) -> Mistake:
        """The mistake called ``name``."""
        found = [m for m in self.mistakes if m.name == name]
        if not found:
            raise LookupError(f"no mistake named {name!r} in the catalogue")
        return found[0]

    def diagnose(self, calls: list[Call]) -> Mistake | None:
        """The mistake the latest wrong call shows, if one (and only one name) matches; ``calls``
        in the order they were made."""
        for position in range(len(calls) - 1, -1, -1):
            call = calls[position]
            mistakes = self.of(Path(call.file).stem, call.function)
            if not mistakes or call.raised is not None:
                continue
            function = mistakes[0].function
            inputs = self._inputs(function, call, calls[:position])
            if inputs is None:
                continue
            args, kwargs = inputs
            try:
                right = self._right_answer(function, call, calls[:position], inputs)
                student = function.graded(call.result)
            except Exception:  # the student's result has another structure: not judged here
                continue
            if agrees(student, right):
                continue
            return self._match(mistakes, args, kwargs, right, student)
        return None

    def _inputs(self, function: Function, call: Call, earlier: list[Call]) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """What ``wrong`` takes for ``call``: its arguments, for a backward ``(dout, *forward
        inputs)``, or what ``Function.inputs`` finds; None when a backward's forward call is not
        recorded or the inputs are not found."""
        if function.inputs is not None:
            try:
                found = function.inputs(call, earlier)
            except Exception:  # the calls that made the handles are not all recorded
                return None
            return found if found is not None and is_plain(found) else None
        if function.forward is None:
            return (call.args, call.kwargs) if call.plain else None
        made = _forward_call(function, call, earlier)
        if made is None or not call.args or not is_plain(call.args[0]):
            return None
        return (call.args[0], *made.args), made.kwargs

    def _right_answer(self, function: Function, call: Call, earlier: list[Call], inputs: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        if function.oracle is not None:
            return function.graded(_quietly(function.oracle, *inputs))
        oracle = self._oracle_of(function.stem)
        if function.forward is None:
            return function.graded(_quietly(getattr(oracle, function.name), call.args, call.kwargs))
        made = _forward_call(function, call, earlier)
        assert made is not None
        _, cache = _quietly(getattr(oracle, function.forward), made.args, made.kwargs)
        return function.graded(_quietly(getattr(oracle, function.name), (call.args[0], cache), {}))

    @staticmethod
    def _match(mistakes: list[Mistake], args: tuple[Any, ...], kwargs: dict[str, Any], right: Any, student: Any) -> Mistake | None:
        matches = []
        for mistake in mistakes:
            try:
                wrong = _quietly(mistake.wrong, args, kwargs)
            except Exception:  # a mistake that cannot be computed here does not match
                continue
            if not agrees(wrong, right) and agrees(student, wrong):
                matches.append(mistake)
        if not matches or len({m.name for m in matches}) > 1:
            return None
        return matches[0]


def _forward_call(function: Function, call: Call, earlier: list[Call]) -> Call | None:
    """The recorded forward call whose ``(out, cache)`` gave ``call`` (a backward) its cache."""
    if len(call.passed) < 2:
        return None
    cache = call.passed[1]
    for made in reversed(earlier):
        returned = made.returned
        if made.function == function.forward and made.file == call.file and type(returned) is tuple and len(returned) == 2 and returned[1] is cache:
            return made if made.plain else None
    return None


def handout_sections(readme: Path) -> list[str]:
    """The headings of a handout (``## Title`` -> ``Title``): what ``Mistake.section`` names."""
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+)$", readme.read_text(), flags=re.MULTILINE)]
