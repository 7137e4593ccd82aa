"""Every planted submission of every assignment, graded through the grading command's own code.

Per assignment, the tables in ``tests/assignments/test_<assignment>.py`` (``BUGGY``, ``CORRECT``,
and on a CUDA machine ``GPU_BUGGY``) plus the reference and the released stubs are graded in ONE
pytest run by ``grader.grading.grade_assignment_many``: the same staging, course ini file, clean
environment, time limits, grade profile and sandboxed worker as ``python -m grader grade``, with
start-up paid once. Failing examples are not shrunk (``Settings.grading(shrink=False)``: same verdicts).

What each is graded on, and what it must show (``grader.course.Course.tests_of`` states the rule
for "the tests of" a function):

* the reference: every test; it must earn every point;
* the stubs (the course's released files): every test; they must earn nothing, and every failure
  must say what to implement (``NotImplementedError``);
* a correct variant: the tests of the functions it changes (which include the tests of every
  function that calls them); it must earn every point of them;
* a buggy variant: the tests of the functions it breaks, stopping at its first failure; it is
  caught only if a test of a function it breaks fails, and not because the file failed to load.

Diagnoses (``grader.diagnosis``, the assignment's ``reference/<a>/mistakes.py``): neither the
reference, the stubs nor a correct variant gets any; a buggy variant that declares a mistake
(``Variant.mistake``) gets exactly that one on its first failing test, and one that declares none
gets none.
"""

from __future__ import annotations

import functools
import importlib
import shutil
import tempfile
from pathlib import Path

import pytest

from grader.course import Course
from grader.diagnosis import Catalogue
from grader.grading import Request, grade_assignment_many
from grader.plugin import NOT_RUN
from grader.results import AssignmentGrade
from grader.settings import Settings
from tests.assignments.test_a3_autodiff import MINIMAL_ENGINE, MINIMAL_ENGINE_LOSES
from tests.planted import COURSE, MODULE, ROOT, Edit, Rewrite, Variant, build_submission, changed_units

ASSIGNMENTS = sorted(p.name for p in (ROOT / "assignments").iterdir() if p.is_dir() and (ROOT / "reference" / p.name).is_dir())
REFERENCE = Variant("reference")


def table(assignment: str, name: str) -> list[Variant]:
    return list(getattr(importlib.import_module(f"tests.assignments.test_{assignment}"), name, []))


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def breaks(assignment: str, variant: Variant) -> frozenset[str]:
    """The functions (top-level definitions) a buggy variant breaks: those its edits change."""
    return changed_units(assignment, variant)


@functools.cache
def graded(assignment: str) -> dict[str, tuple[AssignmentGrade, frozenset[str]]]:
    """Grade everything planted for ``assignment`` in one run: name -> (grade, tests it ran on)."""
    everything = COURSE.test_functions(assignment)
    buggy = table(assignment, "BUGGY") + (table(assignment, "GPU_BUGGY") if assignment == "a9_torch" and _cuda() else [])
    folder = Path(tempfile.mkdtemp(prefix=f"dlgrade-planted-{assignment}-"))
    try:
        plan: dict[str, tuple[Request, frozenset[str]]] = {
            "reference": (Request(build_submission(assignment, REFERENCE, folder / "reference")), everything),
            "stubs": (Request(ROOT), everything),
        }
        for i, variant in enumerate(table(assignment, "CORRECT")):
            tests = COURSE.tests_of(assignment, changed_units(assignment, variant))
            plan[f"correct:{variant}"] = (Request(build_submission(assignment, variant, folder / f"c{i}"), tests), tests)
        for i, variant in enumerate(buggy):
            tests = COURSE.tests_of(assignment, breaks(assignment, variant))
            plan[f"buggy:{variant}"] = (Request(build_submission(assignment, variant, folder / f"b{i}"), tests, first_failure=True), tests)
        grades = grade_assignment_many(assignment, [r for r, _ in plan.values()], settings=Settings.grading(shrink=False))
        return {name: (grade, tests) for (name, (_, tests)), grade in zip(plan.items(), grades)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _function(test_name: str) -> str:
    return test_name.split("[")[0]


@functools.cache
def catalogue(assignment: str) -> Catalogue | None:
    return Catalogue.load(Course(ROOT), assignment)


def _diagnosed(grade: AssignmentGrade) -> list[str]:
    return [f"{t.name}: {t.diagnosis}" for t in grade.tests if t.diagnosis]


def _show(grade: AssignmentGrade) -> str:
    if grade.error:
        return grade.error
    return "\n".join(f"  {t.outcome:7} {t.name}: {t.message[:300]}" for t in grade.tests if t.outcome != "passed") or "  (every test passed)"


def _cases(kind: str) -> list:
    cases = []
    for a in ASSIGNMENTS:
        variants = table(a, kind)
        marks = []
        if kind == "GPU_BUGGY":
            marks.append(pytest.mark.gpu)  # the plugin skips it without CUDA: the bug shows only on a GPU
        cases += [pytest.param(a, v, id=f"{a}-{v}", marks=marks) for v in variants]
    return cases


def _per_assignment() -> list:
    return [pytest.param(a, id=a) for a in ASSIGNMENTS]


@pytest.mark.parametrize("assignment", _per_assignment())
def test_reference_earns_every_point(assignment: str) -> None:
    grade, tests = graded(assignment)["reference"]
    assert not grade.error, grade.error
    assert {_function(t.name) for t in grade.tests} == set(tests), "the reference was not graded on every test"
    assert grade.possible > 0 and grade.earned == grade.possible, f"the reference lost points:\n{_show(grade)}"
    assert not _diagnosed(grade), f"the reference got diagnoses: {_diagnosed(grade)}"


@pytest.mark.parametrize("assignment", _per_assignment())
def test_stubs_earn_nothing_and_every_failure_says_what_to_implement(assignment: str) -> None:
    grade, tests = graded(assignment)["stubs"]
    assert not grade.error, grade.error
    assert {_function(t.name) for t in grade.tests} == set(tests)
    counted = [t for t in grade.tests if t.outcome != "skipped"]  # skipped: a gpu test without a GPU
    assert counted and all(t.outcome == "failed" for t in counted), f"the stubs passed tests:\n{_show(grade)}"
    assert grade.possible > 0 and grade.earned == 0, f"the stubs earned {grade.earned}:\n{_show(grade)}"
    silent = [t.name for t in counted if "NotImplementedError" not in t.message]
    assert not silent, f"failures that do not say what to implement (NotImplementedError): {silent}"
    assert not _diagnosed(grade), f"the stubs got diagnoses: {_diagnosed(grade)}"


@pytest.mark.parametrize(("assignment", "variant"), _cases("CORRECT"))
def test_correct_variant_earns_every_point(assignment: str, variant: Variant) -> None:
    grade, tests = graded(assignment)[f"correct:{variant}"]
    assert not grade.error, grade.error
    assert tests and {_function(t.name) for t in grade.tests} == set(tests), "not graded on the tests of what it changes"
    assert grade.earned == grade.possible > 0, f"{variant} lost points:\n{_show(grade)}"
    assert not _diagnosed(grade), f"{variant} is correct but got diagnoses: {_diagnosed(grade)}"


def _check_caught(assignment: str, variant: Variant) -> None:
    grade, tests = graded(assignment)[f"buggy:{variant}"]
    assert not grade.error, grade.error
    broken = breaks(assignment, variant)
    of_broken = COURSE.tests_of(assignment, broken)
    assert of_broken, f"{variant} breaks {sorted(broken)}, which no test is of"
    failed = [t for t in grade.tests if t.outcome == "failed" and NOT_RUN not in t.message]
    assert failed, f"{variant} (breaks {sorted(broken)}) passed every test of it:\n{_show(grade)}"
    loading = [t.name for t in failed if "could not be loaded" in t.message]
    assert not loading, f"{variant} failed only because its file did not load:\n{_show(grade)}"
    where = [t.name for t in failed if _function(t.name) in of_broken]
    assert where, f"{variant} failed {[t.name for t in failed]}, none of them a test of {sorted(broken)}"
    _check_diagnosis(assignment, variant, grade)


def _check_diagnosis(assignment: str, variant: Variant, grade: AssignmentGrade) -> None:
    """The declared mistake on the first failing test, and no other diagnosis anywhere."""
    failed = [t for t in grade.tests if t.outcome == "failed" and NOT_RUN not in t.message]
    if not variant.mistake:
        assert not _diagnosed(grade), f"{variant} declares no mistake but got diagnoses: {_diagnosed(grade)}"
        return
    known = catalogue(assignment)
    assert known is not None, f"{variant} declares the mistake {variant.mistake!r}, but {assignment} has no catalogue"
    expected = known.named(variant.mistake).describe()
    first = failed[0]
    assert first.diagnosis == expected, f"{variant}: {first.name} was diagnosed as {first.diagnosis!r}, expected {expected!r}"
    others = [f"{t.name}: {t.diagnosis}" for t in grade.tests if t.diagnosis and t.diagnosis != expected]
    assert not others, f"{variant} got other diagnoses: {others}"


@pytest.mark.parametrize(("assignment", "variant"), _cases("BUGGY"))
def test_buggy_variant_is_caught_where_planted(assignment: str, variant: Variant) -> None:
    _check_caught(assignment, variant)


@pytest.mark.parametrize(("assignment", "variant"), _cases("GPU_BUGGY"))
def test_gpu_only_buggy_variant_is_caught_on_a_gpu(assignment: str, variant: Variant) -> None:
    _check_caught(assignment, variant)


def test_every_table_grades_something() -> None:
    """Every assignment has planted bugs and correct variants, and each names what it changes."""
    for a in ASSIGNMENTS:
        assert table(a, "BUGGY") and table(a, "CORRECT"), a
        for v in table(a, "BUGGY") + table(a, "CORRECT") + table(a, "GPU_BUGGY"):
            assert changed_units(a, v), f"{a}/{v} changes nothing"
            assert COURSE.tests_of(a, changed_units(a, v)), f"{a}/{v}: no test is of {sorted(changed_units(a, v))}"
        for v in table(a, "CORRECT"):
            assert not v.mistake, f"{a}/{v} is correct but declares a mistake"
        for v in table(a, "BUGGY") + table(a, "GPU_BUGGY"):
            known = catalogue(a)
            if v.mistake:
                assert known is not None and known.named(v.mistake), f"{a}/{v}: no mistake {v.mistake!r} in the catalogue"


def test_an_edit_outside_every_function_changes_the_module() -> None:
    """An import added: every test is of it (``MODULE``)."""
    a1 = "a1_foundations"
    assert changed_units(a1, Variant("import", (Edit("losses.py", "import numpy as np\n", "import numpy as np\nimport math\n"),))) == {MODULE}
    assert COURSE.tests_of(a1, {MODULE}) == COURSE.test_functions(a1)


def test_a_minimal_engine_loses_only_the_tests_of_what_it_lacks(tmp_path: Path) -> None:
    """a3: ints as whole numbers are plain data; a missing method costs its own tests, not the graphs'."""
    engine = Variant("minimal engine", (Rewrite("engine.py", "Value", MINIMAL_ENGINE),))
    [grade] = grade_assignment_many("a3_autodiff", [Request(build_submission("a3_autodiff", engine, tmp_path))], settings=Settings.grading(shrink=False))
    assert not grade.error, grade.error
    lost = {t.name for t in grade.tests if t.outcome == "failed"}
    assert lost == MINIMAL_ENGINE_LOSES, f"lost {sorted(lost)}, expected {sorted(MINIMAL_ENGINE_LOSES)}:\n{_show(grade)}"
