"""Diagnosing a failure as a known mistake: the matching rule, the course's catalogues, the plugin.

The planted variants measure the rates on the real course (``tests/assignments/test_planted.py``);
here: the rule on small cases, that every catalogue names real functions and handout sections and
stays judge-only, and that a failing test gets its diagnosis through the plugin, in this process
and in a worker.
"""

import json
import textwrap
import types

import numpy as np
import pytest

from grader.calls import Call, Opaque
from grader.course import MISTAKES_FILE, Course
from grader.diagnosis import Catalogue, Function, Mistake, agrees, handout_sections, output
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
    assert not agrees(x[:2], x) and not agrees(x, (x,)) and not agrees("x", "x")
    assert agrees(2, 2.0) and not agrees(True, 1.0) and not agrees(Opaque(object()), 1.0)


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


def test_a_helper_running_the_students_objects_is_judged_on_its_other_arguments():
    """``run(obj, x)``: the student's object is not replayed; the catalogue's oracle gets ``x``."""
    run = Function("runner.py", "run", inputs=lambda call, earlier: (call.args[1:], call.kwargs), oracle=lambda x: 2.0 * x)
    tripled = Mistake(run, "tripled by the object", "Double, not triple.", "Ops", lambda x: 3.0 * x)
    catalogue = Catalogue([tripled], lambda stem: pytest.fail("a helper with its own oracle loads no oracle module"))
    handle = Opaque(object())
    assert catalogue.diagnose([Call("a0", "runner", "run", (handle, X), {}, result=3.0 * X)]) is tripled
    assert catalogue.diagnose([Call("a0", "runner", "run", (handle, X), {}, result=2.0 * X)]) is None
    assert "known mistake in run: tripled" in tripled.describe()
    about = Mistake(Function("runner.py", "run", about="the object"), "tripled by the object", "Double, not triple.", "Ops", lambda x: 3.0 * x)
    assert "known mistake in the object: tripled" in about.describe()
    assert catalogue.diagnose([Call("a0", "runner", "run", (handle, Opaque(object())), {}, result=3.0 * X)]) is None  # a handle after them: not replayable


def test_a_handle_is_traced_to_the_calls_that_made_it():
    """``run(built)`` with ``built = make(shared)`` and ``shared = share(x)``: the inputs are ``x``."""

    def traced(call, earlier):
        made = next(c for c in reversed(earlier) if c.returned is call.passed[0])
        shared = next(c for c in reversed(earlier) if c.function == "share" and c.returned is made.passed[0])
        return shared.args, {}

    run = Function("runner.py", "run", inputs=traced, oracle=lambda x: 2.0 * x)
    tripled = Mistake(run, "tripled by the object", "Double, not triple.", "Ops", lambda x: 3.0 * x)
    catalogue = Catalogue([tripled], lambda stem: None)
    handle, built = object(), object()
    share = Call("a0", "ops", "share", (X,), {}, passed=(X,), returned=handle)
    make = Call("a0", "ops", "make", (Opaque(handle),), {}, result=Opaque(built), passed=(handle,), returned=built)
    run_call = Call("a0", "runner", "run", (Opaque(built),), {}, result=3.0 * X, passed=(built,))
    assert catalogue.diagnose([share, make, run_call]) is tripled
    assert catalogue.diagnose([make, run_call]) is None  # the share is not recorded: nothing to replay


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
        if function.oracle is not None:  # a course helper that runs the student's objects
            assert (COURSE.assignments_dir / assignment / function.file).is_file(), f"{assignment}: no course helper {function.file}"
        else:
            assert f"{function.stem}.py" in reference_sources(assignment) or COURSE.oracle(assignment, function.stem).is_file()
            oracle = catalogue._oracle_of(function.stem)
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
"""

REFERENCE = """
import numpy as np

def double(x):
    return 2.0 * x

def scale_forward(x, k=3.0):
    return k * x, (x, k)

def scale_backward(dout, cache):
    return cache[1] * dout
"""

MISTAKES = '''
import numpy as np
from grader.diagnosis import Function, Mistake

double = Function("ops.py", "double")
scale_backward = Function("ops.py", "scale_backward", forward="scale_forward")

MISTAKES = [
    Mistake(double, "tripled", "Double means times 2.", "Doubling", lambda x: 3.0 * x),
    Mistake(scale_backward, "fixed slope", "The slope is the k of the forward.", "Scaling", lambda dout, x, k=3.0: 3.0 * dout),
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
    result.assert_outcomes(failed=3)
    tests = {t["name"]: t for a in json.loads((pytester.path / "out.json").read_text())["assignments"].values() for t in a["tests"]}
    assert tests["test_double"]["diagnosis"] == 'This looks like a known mistake in double: tripled. Double means times 2. See the handout, section "Doubling".'
    assert "fixed slope. The slope is the k of the forward." in tests["test_scale_backward"]["diagnosis"]
    assert tests["test_double_keeps_the_shape"]["diagnosis"] == ""  # its call's answer (0) is right: nothing to say


def test_without_a_catalogue_nothing_is_diagnosed(pytester):
    _course(pytester, with_catalogue=False)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--dlgrade-results=out.json").assert_outcomes(failed=3)
    tests = [t for a in json.loads((pytester.path / "out.json").read_text())["assignments"].values() for t in a["tests"]]
    assert [t["diagnosis"] for t in tests] == ["", "", ""]
