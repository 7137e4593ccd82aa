"""Diagnosing a failure as a known mistake: the matching rule, the course's catalogues, the plugin.

The planted variants measure the rates on the real course (``tests/assignments/test_planted.py``);
here: the rule on small cases, that every catalogue names real functions and handout sections and
stays judge-only, and that a failing test gets its diagnosis through the plugin, in this process
and in a worker.
"""

import json
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from grader.calls import FETCH, SHARE, Call, Opaque
from grader.course import MISTAKES_FILE, Course
from grader.diagnosis import Catalogue, Function, Mistake, Raises, agrees, fetched_after, handout_sections, mutated, output, shared_value, unchanged
from tests.planted import ROOT, reference_sources

pytest_plugins = ["pytester"]

COURSE = Course(ROOT)
CATALOGUED = [a for a in COURSE.assignments() if COURSE.mistakes(a).is_file()]


# ------------------------------------------------------------------------------- agrees
def test_agrees_is_the_course_tolerance_over_the_same_structure():
    x = np.array([1.0, -2.0, 1e-12])
    assert agrees(x + 1e-7, x) and not agrees(x + 1e-5, x)
    assert agrees((x, 2.0), (x, 2.0 + 1e-7)) and not agrees((x, 2.0), [x])
    assert agrees({"a": x}, {"a": x}) and not agrees({"a": x}, {"b": x})
    assert not agrees(x[:2], x) and not agrees(x, (x,)) and not agrees("1", 1.0)
    assert agrees(2, 2.0) and not agrees(True, 1.0) and not agrees(1.0, True) and not agrees(Opaque(object()), 1.0)
    assert agrees(True, True) and agrees(np.bool_(False), False) and not agrees(True, False) and agrees("a", "a") and not agrees("a", "b")


def test_integer_arrays_never_agree_with_float_arrays_and_a_refusal_only_with_a_refusal():
    assert not agrees(np.zeros(2, dtype=int), np.zeros(2)) and agrees(np.zeros(2), np.zeros(2)) and agrees(0, 0.0)
    assert agrees(Raises(), Raises()) and not agrees(1.0, Raises()) and not agrees(Raises(), 1.0)


def test_a_value_where_the_oracle_refuses_the_inputs_is_wrong():
    refusing = types.SimpleNamespace(fans=lambda shape: (shape[0], shape[1]) if len(shape) == 2 else (_ for _ in ()).throw(ValueError("2-D only")))
    fans = Function("ops.py", "fans")
    torch_style = Mistake(fans, "any number of dimensions", "Only 2-D.", "Ops", lambda shape: (shape[1], shape[0]))
    catalogue = Catalogue([torch_style], lambda stem: refusing)
    assert catalogue.diagnose([_call("fans", (2, 3, 4), result=(3, 2))]) is torch_style
    assert catalogue.diagnose([_call("fans", (2, 3, 4), result=(9, 9))]) is None and catalogue.diagnose([_call("fans", (2, 3), result=(2, 3))]) is None


def test_non_finite_entries_agree_only_where_both_are_non_finite():
    assert agrees(np.array([np.nan, 1.0]), np.array([np.inf, 1.0]))
    assert not agrees(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))
    assert not agrees(np.array([0.0, 1.0]), np.array([np.nan, 1.0]))
    assert agrees(float("inf"), float("nan"))


# --------------------------------------------------------------------------- the rule
ORACLE = types.SimpleNamespace(
    double=lambda x: 2.0 * x,
    scale_forward=lambda x, k=3.0: (k * x, (x, k)),
    scale_backward=lambda dout, cache: cache[1] * dout,
)
double = Function("ops.py", "double")
scale_backward = Function("ops.py", "scale_backward", forward="scale_forward")
TIMES_3 = Mistake(double, "tripled", "Double, not triple.", "Ops", lambda x: 3.0 * x)
SQUARED = Mistake(double, "squared", "Double, not square.", "Ops", lambda x: x * x)
FIXED_K = Mistake(scale_backward, "fixed k", "Use the k of the forward.", "Ops", lambda dout, x, k=3.0: 3.0 * dout)


def _catalogue(*mistakes):
    return Catalogue(list(mistakes), lambda stem: ORACLE)


def _call(function, *args, result, **kwargs):
    return Call("a0", "ops", function, args, kwargs, result=result, passed=args, returned=result)


X = np.array([1.0, -2.0, 4.0])


def test_a_wrong_answer_that_a_mistake_gives_is_diagnosed_as_it():
    catalogue = _catalogue(SQUARED, TIMES_3)
    assert catalogue.diagnose([_call("double", X, result=3.0 * X)]) is TIMES_3
    assert catalogue.diagnose([_call("double", X, result=2.0 * X)]) is None  # right: nothing to say
    assert catalogue.diagnose([_call("double", X, result=5.0 * X)]) is None  # wrong, but no known mistake
    assert "Double, not triple." in TIMES_3.describe() and '"Ops"' in TIMES_3.describe()


def test_the_latest_wrong_call_is_judged_and_right_ones_are_passed_over():
    catalogue = _catalogue(TIMES_3)
    earlier_wrong, right = _call("double", X, result=3.0 * X), _call("double", X, result=2.0 * X)
    assert catalogue.diagnose([earlier_wrong, right]) is TIMES_3
    assert catalogue.diagnose([earlier_wrong, _call("double", X, result=7.0 * X)]) is None  # the latest wrong one decides


def test_a_mistake_that_coincides_with_the_right_answer_says_nothing():
    zeros = np.zeros(3)
    assert _catalogue(SQUARED).diagnose([_call("double", zeros, result=zeros)]) is None
    two = np.full(3, 2.0)  # 2 * 2 == 2 ** 2: squaring is not told apart from doubling here
    assert _catalogue(SQUARED).diagnose([_call("double", two, result=2.0 * two + 1)]) is None


def test_two_mistakes_with_different_names_that_both_match_say_nothing():
    also_times_3 = Mistake(double, "tripled twice over", "Another story.", "Ops", lambda x: 3.0 * x)
    assert _catalogue(TIMES_3, also_times_3).diagnose([_call("double", X, result=3.0 * X)]) is None
    same_name = Mistake(double, "tripled", "Double, not triple.", "Ops", lambda x: x + x + x)
    assert _catalogue(TIMES_3, same_name).diagnose([_call("double", X, result=3.0 * X)]) is TIMES_3


def test_a_mistake_that_raises_does_not_match_and_calls_that_raised_or_are_not_plain_are_skipped():
    raising = Mistake(double, "raises", "?", "Ops", lambda x: 1 / 0)
    assert _catalogue(raising, TIMES_3).diagnose([_call("double", X, result=3.0 * X)]) is TIMES_3
    raised = Call("a0", "ops", "double", (X,), {}, raised=ValueError("student"))
    assert _catalogue(TIMES_3).diagnose([raised]) is None
    handle = Call("a0", "ops", "double", (Opaque(object()),), {}, result=3.0 * X)
    assert _catalogue(TIMES_3).diagnose([handle]) is None
    other_function = _call("triple", X, result=3.0 * X)
    assert _catalogue(TIMES_3).diagnose([other_function]) is None


def test_a_backward_is_judged_on_the_inputs_of_the_forward_that_made_its_cache():
    k = 0.5
    student_cache = Opaque(object())  # the student's own cache: never read by the judge
    forward = Call("a0", "ops", "scale_forward", (X,), {"k": k}, result=(k * X, student_cache), returned=(k * X, student_cache))
    dout = np.array([1.0, 2.0, 3.0])
    wrong = Call("a0", "ops", "scale_backward", (dout, student_cache), {}, result=3.0 * dout, passed=(dout, forward.returned[1]))
    assert _catalogue(FIXED_K).diagnose([forward, wrong]) is FIXED_K
    assert _catalogue(FIXED_K).diagnose([wrong]) is None  # its forward call is not recorded
    another_cache = Call("a0", "ops", "scale_backward", (dout, student_cache), {}, result=3.0 * dout, passed=(dout, object()))
    assert _catalogue(FIXED_K).diagnose([forward, another_cache]) is None


def test_a_shared_value_is_known_until_another_call_gets_it_and_a_fetch_right_after_is_its_answer():
    state, handle = {"mode": "train"}, Opaque(object())
    share = Call("a0", "ops", SHARE, (state,), {}, passed=(state,), returned=handle)
    first = Call("a0", "ops", "update", (Opaque(handle),), {}, result=1.0, passed=(handle,))
    fetch = Call("a0", "ops", FETCH, (Opaque(handle),), {}, result={"mode": "train", "n": 1}, passed=(handle,))
    second = Call("a0", "ops", "update", (Opaque(handle),), {}, result=2.0, passed=(handle,))
    calls = [share, first, fetch, second]
    assert shared_value(calls, 1, handle) == {"mode": "train"} and fetched_after(calls, 1, handle) == {"mode": "train", "n": 1}
    assert shared_value(calls, 3, handle) is None  # the first update may have changed it
    assert fetched_after(calls, 3, handle) is None and shared_value(calls, 1, object()) is None


def test_what_a_call_left_in_a_shared_argument_is_judged_with_mutated():
    x, handle = np.array([-1.0, 2.0]), Opaque(object())
    in_place = Function("ops.py", "relu", view=mutated(0), oracle=unchanged(0))
    overwrites = Mistake(in_place, "x overwritten", "Leave x alone.", "Ops", lambda x: np.maximum(x, 0.0))
    catalogue = Catalogue([overwrites], lambda stem: ORACLE)

    def calls(after):
        return [
            Call("a0", "ops", SHARE, (x,), {}, passed=(x,), returned=handle),
            Call("a0", "ops", "relu", (Opaque(handle),), {}, result=np.maximum(x, 0.0), passed=(handle,)),
            Call("a0", "ops", FETCH, (Opaque(handle),), {}, result=after, passed=(handle,)),
        ]

    assert catalogue.diagnose(calls(np.array([0.0, 2.0]))) is overwrites
    assert catalogue.diagnose(calls(x.copy())) is None  # left alone: right
    assert catalogue.diagnose(calls(np.array([5.0, 5.0]))) is None  # changed, but not by a known mistake


def test_output_judges_the_out_of_out_and_cache():
    assert output((1.0, "cache")) == 1.0


# ------------------------------------------------------------------ the course's catalogues
@pytest.mark.parametrize("assignment", CATALOGUED)
def test_every_catalogue_names_real_functions_and_handout_sections(assignment):
    catalogue = Catalogue.load(COURSE, assignment)
    assert catalogue is not None and catalogue.mistakes
    sections = handout_sections(COURSE.assignments_dir / assignment / "README.md")
    explanations: dict[str, str] = {}
    for mistake in catalogue.mistakes:
        function = mistake.function
        assert (COURSE.assignments_dir / assignment / function.file).is_file(), f"{assignment}: no file {function.file}"
        oracle = catalogue.oracle_of(Path(function.oracle_file or function.file).stem)
        if function.view is None:  # judged on the oracle's function of the same name
            assert callable(getattr(oracle, function.name)), f"{assignment}: no oracle {function.name}"
        if function.forward is not None:
            assert callable(getattr(oracle, function.forward)), f"{assignment}: no oracle {function.forward}"
        assert mistake.section in sections, f"{assignment}: {mistake.name!r} names the section {mistake.section!r}, not a heading of its handout"
        assert mistake.explanation.endswith(".") and mistake.name and mistake.name == mistake.name.strip()
        assert explanations.setdefault(mistake.name, mistake.explanation) == mistake.explanation, f"two mistakes named {mistake.name!r} say different things"


def test_catalogues_are_judge_only():
    """Never a student file, never released from the reference, never part of a planted submission."""
    assert CATALOGUED
    released = {source.name for source, _ in COURSE.release_pairs()}
    assert MISTAKES_FILE not in released
    for assignment in CATALOGUED:
        assert MISTAKES_FILE not in COURSE.student_files(assignment) and MISTAKES_FILE not in COURSE.public_files(assignment)
        assert MISTAKES_FILE not in reference_sources(assignment)


# ------------------------------------------------------------------------- the plugin
STUDENT = """
import numpy as np

def double(x):
    return 3.0 * x

def scale_forward(x, k=3.0):
    return k * x, {"mine": x}

def scale_backward(dout, cache):
    return 3.0 * dout

class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return 3.0 * x
"""

REFERENCE = """
import numpy as np

def double(x):
    return 2.0 * x

def scale_forward(x, k=3.0):
    return k * x, (x, k)

def scale_backward(dout, cache):
    return cache[1] * dout

class Scaler:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return self.k * x
"""

MISTAKES = '''
import numpy as np
from grader.diagnosis import Function, Mistake, Problem

double = Function("ops.py", "double")
scale_backward = Function("ops.py", "scale_backward", forward="scale_forward")


def applied(calls, position):
    """Scaler(k).apply(x): the problem (k, x), from the call that made the object."""
    call = calls[position]
    made = next(c for c in calls[:position] if c.returned is call.owner)
    return Problem((*made.args, *call.args), {}, call.result)


apply = Function("ops.py", "Scaler.apply", view=applied, oracle=lambda ops, k, x: ops.Scaler(k).apply(x))

MISTAKES = [
    Mistake(double, "tripled", "Double means times 2.", "Doubling", lambda x: 3.0 * x),
    Mistake(scale_backward, "fixed slope", "The slope is the k of the forward.", "Scaling", lambda dout, x, k=3.0: 3.0 * dout),
    Mistake(apply, "fixed factor", "Scale by the k the Scaler was made with.", "Scaling", lambda k, x: 3.0 * x),
]
'''

TESTS = """
import numpy as np
from hypothesis import given, strategies as st
from grader import assert_close

@given(x=st.floats(-10, 10).filter(lambda v: abs(v) > 1e-3))
def test_double(student, x):
    ops = student("ops.py")
    assert_close(ops.double(np.array([x, 1.0])), np.array([2.0 * x, 2.0]))

def test_scale_backward(student):
    ops = student("ops.py")
    x = np.array([1.0, 2.0])
    out, cache = ops.scale_forward(x, k=0.5)
    assert_close(ops.scale_backward(np.ones(2), cache), np.full(2, 0.5))

def test_scaler(student):
    scaler = student("ops.py").Scaler(0.5)
    assert_close(scaler.apply(np.ones(2)), np.full(2, 0.5))

def test_double_keeps_the_shape(student):
    assert student("ops.py").double(np.zeros(1)).shape == (2,)
"""


def _course(pytester, with_catalogue=True):
    folder = pytester.mkdir("assignments") / "a0_ops"
    folder.mkdir()
    (folder / "ops.py").write_text(STUDENT)
    (folder / "test_ops.py").write_text(TESTS)
    (folder / "README.md").write_text("# a0\n\n## Doubling\n\n## Scaling\n")
    reference = pytester.mkdir("reference") / "a0_ops"
    reference.mkdir()
    (reference / "ops.py").write_text(REFERENCE)
    if with_catalogue:
        (reference / MISTAKES_FILE).write_text(textwrap.dedent(MISTAKES))
    return pytester


@pytest.mark.parametrize("isolation", ["inprocess", "worker"])
def test_a_failed_test_carries_its_diagnosis_into_the_results(pytester, isolation):
    _course(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--dlgrade-isolation={isolation}", "--dlgrade-sandbox=off", "--dlgrade-results=out.json")
    result.assert_outcomes(failed=4)
    tests = {t["name"]: t for a in json.loads((pytester.path / "out.json").read_text())["assignments"].values() for t in a["tests"]}
    assert tests["test_double"]["diagnosis"] == 'This looks like a known mistake in double: tripled. Double means times 2. See the handout, section "Doubling".'
    assert "fixed slope. The slope is the k of the forward." in tests["test_scale_backward"]["diagnosis"]
    assert tests["test_double_keeps_the_shape"]["diagnosis"] == ""  # its call's answer (0) is right: nothing to say
    method = tests["test_scaler"]["diagnosis"]  # methods of student objects are recorded in the worker only
    assert ("fixed factor. Scale by the k" in method) if isolation == "worker" else method == ""


def test_without_a_catalogue_nothing_is_diagnosed(pytester):
    _course(pytester, with_catalogue=False)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--dlgrade-results=out.json").assert_outcomes(failed=4)
    tests = [t for a in json.loads((pytester.path / "out.json").read_text())["assignments"].values() for t in a["tests"]]
    assert [t["diagnosis"] for t in tests] == ["", "", "", ""]


def test_a_broken_catalogue_costs_no_grade_and_says_why(pytester):
    _course(pytester, with_catalogue=False)
    (pytester.path / "reference" / "a0_ops" / MISTAKES_FILE).write_text("from grader.diagnosis import Function\nMISTAKES = [Function('ops.py', 'double', no_such_field=1)]\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--dlgrade-results=out.json")
    result.assert_outcomes(failed=4)  # the same verdicts as without a catalogue
    result.stdout.fnmatch_lines(["*the catalogue of mistakes of a0_ops cannot be used: TypeError*"])
    tests = [t for a in json.loads((pytester.path / "out.json").read_text())["assignments"].values() for t in a["tests"]]
    assert [t["diagnosis"] for t in tests] == ["", "", "", ""]
