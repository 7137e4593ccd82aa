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
student's own object: only the forward's inputs can be replayed). A call that needs more than its
own arguments (a method of a stateful object, ``"SGD.step"``, recorded when student code runs in
the worker, with the object's constructor call and the test's ``share``/``fetch`` calls: see
``grader.calls``) gets a ``Function(view=..., oracle=...)``: ``view(calls, position)`` turns the
recorded calls into a ``Problem`` (inputs and the student's answer), ``oracle(oracle_module,
*inputs)`` gives the right answer, and ``wrong(*inputs)`` the mistaken one.

A function that must leave its arguments alone is judged on what it left in a shared one too:
``Function(file, name, view=mutated(0), oracle=unchanged(0))``, its mistakes' ``wrong`` giving
what the mistake writes into that argument (``dout`` masked in place).

A planted buggy variant declares the mistake it must be diagnosed as (``tests.planted.Variant``'s
``mistake``, the ``Mistake.name``); ``pytest tests/assignments/test_planted.py -k <assignment>``
checks it, and that nothing else is diagnosed.

How a failed test is diagnosed (``Catalogue.diagnose``, on the calls ``grader.calls`` recorded):
walk the test's calls to catalogued functions from the last one back (hypothesis replays the
failing example last) and find the latest call whose answer is wrong: not ``agrees`` with the
oracle's answer on copies of the same inputs (where the oracle refuses the inputs with
``ValueError``, as the handout says it must, the right answer is that refusal, ``Raises()``, and
any value is wrong). Calls that raised, or whose inputs are not plain
data (a handle, a shared value), or a backward whose forward call is not recorded, are skipped.
On that call, a mistake matches when its wrong answer differs from the oracle's (a mistake that
coincides with the right answer on this input says nothing) and the student's answer agrees
with it; a ``wrong`` that raises does not match. The diagnosis is the first match in catalogue
order, and none when matches with different names disagree or nothing matches: the catalogue
never speaks unless it matches.

``agrees`` is the course's tolerance (``grader.tolerance``: ``rtol = 1e-6`` and an absolute
``max(atol, rtol * scale)`` with ``scale`` the largest finite magnitude of the expected answer),
entry by entry, over the same structure (tuples, lists, dicts, arrays of the same shape,
numbers; booleans and strings exactly; integer arrays never agree with float arrays); an entry that is NaN or inf agrees only with an entry that is also NaN or inf. So a
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

from grader.calls import FETCH, SHARE, Call, is_plain, plain_copy
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
class Problem:
    """A recorded call as a problem with one right answer: the inputs the oracle and a mistake's
    ``wrong`` take, and the student's answer to it (in graded form)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    answer: Any


View = Callable[[list[Call], int], "Problem | None"]
"""How a call is turned into a ``Problem``: the test's calls, in order, and the position of the
call judged; None when it cannot be (inputs that are not plain data, a call it needs missing)."""


@dataclass(frozen=True)
class Function:
    """A student function the catalogue knows mistakes of: ``name`` in ``file`` (``"activations.py"``).

    ``graded``: the part of a result that is judged. ``forward``: for a ``backward(dout, cache)``,
    the forward function of the same file whose ``(out, cache)`` the cache came from. For calls
    that need more (a method of a stateful object, ``"SGD.step"``, judged by the parameters the
    test fetched after it), ``view`` turns the recorded calls into a ``Problem`` and ``oracle``
    computes its right answer as ``oracle(oracle_module, *problem.args, **problem.kwargs)``, the
    module being the oracle of ``oracle_file`` (default ``file``; a course helper's calls, such as
    ``course_early_stopping.trace(stopper, losses)``, are judged against the student file's oracle).
    """

    file: str
    name: str
    graded: Callable[[Any], Any] = whole
    forward: str | None = None
    view: View | None = None
    oracle: Callable[..., Any] | None = None
    oracle_file: str | None = None
    shown: str = ""  # the name the student reads, when it is not ``name`` (a helper's call judges the student's ``EarlyStopping``)

    @property
    def stem(self) -> str:
        return Path(self.file).stem

    def problem(self, calls: list[Call], position: int) -> Problem | None:
        """The problem the call at ``position`` solved: its own arguments, or for a backward the
        upstream gradient and the inputs of the forward call that made its cache."""
        if self.view is not None:
            return self.view(calls, position)
        call = calls[position]
        if self.forward is None:
            return Problem(call.args, call.kwargs, self.graded(call.result)) if call.plain else None
        made = _forward_call(self.forward, call, calls[:position])
        if made is None or not call.args or not is_plain(call.args[0]):
            return None
        return Problem((call.args[0], *made.args), made.kwargs, self.graded(call.result))

    def right_answer(self, module: Any, problem: Problem) -> Any:
        """The oracle's answer to ``problem`` (``module``: the oracle module of ``file``)."""
        if self.oracle is not None:
            return _quietly(lambda *a, **k: self.oracle(module, *a, **k), problem.args, problem.kwargs)  # type: ignore[misc]
        if self.forward is None:
            return self.graded(_quietly(getattr(module, self.name), problem.args, problem.kwargs))
        dout, *inputs = problem.args
        _, cache = _quietly(getattr(module, self.forward), inputs, problem.kwargs)
        return self.graded(_quietly(getattr(module, self.name), (dout, cache), {}))


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
        return f"This looks like a known mistake in {self.function.shown or self.function.name}: {self.name}. {self.explanation} See the handout, section \"{self.section}\"."


@dataclass(frozen=True)
class Raises:
    """The right answer of a call whose inputs the handout says are refused: ``ValueError``."""


def agrees(actual: Any, expected: Any, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """``actual`` equals ``expected`` within the course's tolerance, entry by entry (see above)."""
    if type(expected) is Raises or type(actual) is Raises:
        return actual == expected
    if type(expected) in (tuple, list):
        return type(actual) in (tuple, list) and len(actual) == len(expected) and all(agrees(a, e, rtol=rtol, atol=atol) for a, e in zip(actual, expected))
    if type(expected) is dict:
        return type(actual) is dict and actual.keys() == expected.keys() and all(agrees(actual[k], expected[k], rtol=rtol, atol=atol) for k in expected)
    if isinstance(expected, (bool, np.bool_, str)) or isinstance(actual, (bool, np.bool_, str)):  # compared exactly
        return isinstance(actual, str) == isinstance(expected, str) and isinstance(actual, (bool, np.bool_)) == isinstance(expected, (bool, np.bool_)) and actual == expected
    if type(actual) in (tuple, list, dict):
        return False
    if type(actual) is np.ndarray and type(expected) is np.ndarray and (actual.dtype.kind in "iub") != (expected.dtype.kind in "iub"):
        return False  # integers where floats are due, or the other way round
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


def _answer_or_refusal(function: Function, module: Any, problem: Problem) -> Any:
    """The oracle's answer, or ``Raises()`` where it refuses the inputs with ``ValueError``."""
    try:
        return function.right_answer(module, problem)
    except ValueError:
        return Raises()


def _quietly(function: Callable[..., Any], args: Iterable[Any], kwargs: dict[str, Any]) -> Any:
    """``function`` on copies of the arguments (arrays in their memory layout), numpy's warnings
    silenced (a mistake may overflow)."""
    with np.errstate(all="ignore"):
        return function(*plain_copy(tuple(args)), **plain_copy(kwargs))


class Catalogue:
    """An assignment's known mistakes and the oracles they are judged against."""

    def __init__(self, mistakes: list[Mistake], oracles: Callable[[str], Any]) -> None:
        self.mistakes = list(mistakes)
        self.oracle_of = oracles  # file stem -> the oracle module

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
        in the order they were made. A function may be judged in several ways (its result, and
        what it left in an argument: ``mutated``); a call is wrong when one of them finds it so."""
        for position in range(len(calls) - 1, -1, -1):
            call = calls[position]
            mistakes = self.of(Path(call.file).stem, call.function)
            if not mistakes or call.raised is not None:
                continue
            matches: list[Mistake] = []
            wrong = False
            for function in dict.fromkeys(m.function for m in mistakes):  # each way of judging it, in catalogue order
                try:
                    problem = function.problem(calls, position)
                    if problem is None:
                        continue
                    right = _answer_or_refusal(function, self.oracle_of(Path(function.oracle_file or function.file).stem), problem)
                except Exception:  # the student's result has another structure, or the inputs are out of the oracle's domain
                    continue
                if not agrees(problem.answer, right):
                    wrong = True
                    matches += self._matches([m for m in mistakes if m.function == function], problem, right)
            if wrong:
                return matches[0] if matches and len({m.name for m in matches}) == 1 else None
        return None

    @staticmethod
    def _matches(mistakes: list[Mistake], problem: Problem, right: Any) -> list[Mistake]:
        """The mistakes whose answer differs from the right one and is the student's."""
        matches = []
        for mistake in mistakes:
            try:
                wrong = _quietly(mistake.wrong, problem.args, problem.kwargs)
            except Exception:  # a mistake that cannot be computed here does not match
                continue
            if not agrees(wrong, right) and agrees(problem.answer, wrong):
                matches.append(mistake)
        return matches


def _forward_call(forward: str, call: Call, earlier: list[Call]) -> Call | None:
    """The recorded call of ``forward`` whose ``(out, cache)`` gave ``call`` (a backward) its cache."""
    if len(call.passed) < 2:
        return None
    cache = call.passed[1]
    for made in reversed(earlier):
        returned = made.returned
        if made.function == forward and made.file == call.file and type(returned) is tuple and len(returned) == 2 and returned[1] is cache:
            return made if made.plain else None
    return None


def mutated(argument: int) -> View:
    """A view judging what a call left in its shared argument number ``argument``: the problem's
    inputs are the call's arguments (shared ones as the values they held, ``shared_value``), its
    answer the value the test fetched from that argument right after (``fetched_after``). Its
    right answer is ``unchanged(argument)``; a mistake's ``wrong`` gives what the mistake writes there."""

    def view(calls: list[Call], position: int) -> Problem | None:
        call = calls[position]
        if argument >= len(call.args) or call.kwargs and not is_plain(call.kwargs):
            return None
        values = [value if is_plain(value) else shared_value(calls, position, passed) for value, passed in zip(call.args, call.passed)]
        after = fetched_after(calls, position, call.passed[argument])
        if any(v is None for v in values) or after is None:
            return None
        return Problem(tuple(values), call.kwargs, after)

    return view


def unchanged(argument: int) -> Callable[..., Any]:
    """The right answer of a ``mutated(argument)`` view: the argument as it was."""
    return lambda module, *args, **kwargs: args[argument]


def _passes(call: Call, obj: Any) -> bool:
    return any(p is obj for p in call.passed) or call.owner is obj


def shared_value(calls: list[Call], position: int, obj: Any) -> Any:
    """The value the shared object ``obj`` (``StudentFile.share``) held when it was passed to the
    call at ``position``: a copy of what was shared, if no recorded call got it in between (one
    might have changed it); None when that cannot be known."""
    for i in range(position - 1, -1, -1):
        call = calls[i]
        if call.function == SHARE and call.returned is obj:
            return call.args[0]
        if call.function != FETCH and _passes(call, obj):
            return None
    return None


def fetched_after(calls: list[Call], position: int, obj: Any) -> Any:
    """The value of the shared object ``obj`` that the test fetched right after the call at
    ``position`` (no other call got it in between); None when it did not."""
    for call in calls[position + 1 :]:
        if call.function == FETCH and call.passed and call.passed[0] is obj:
            return call.result
        if _passes(call, obj):
            return None
    return None


def handout_sections(readme: Path) -> list[str]:
    """The headings of a handout (``## Title`` -> ``Title``): what ``Mistake.section`` names."""
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+)$", readme.read_text(), flags=re.MULTILINE)]
