"""The pytest plugin, driven with pytester: points, score table, gpu skip, profiles, options."""

import pytest
import torch  # noqa: F401  imported once here: pytester's inline runs must not re-import its C extension

from grader.results import from_json

pytest_plugins = ["pytester"]

STUDENT_FILE = """
import numpy as np

def double(x):
    return 2 * x

def half(x):
    raise NotImplementedError("Implement half: see README.md")
"""

TESTS = """
import numpy as np
import pytest
from grader import assert_close

@pytest.mark.points(3)
def test_double(student):
    mod = student("calc.py")
    assert_close(mod.double(np.ones(2)), np.full(2, 2.0))

@pytest.mark.points(2)
def test_half(student):
    mod = student("calc.py")
    assert_close(mod.half(np.ones(2)), np.full(2, 0.5))

def test_missing_function(student):
    student("calc.py").triple

@pytest.mark.gpu
@pytest.mark.points(5)
def test_on_gpu():
    import torch
    assert torch.cuda.is_available()
"""


@pytest.fixture
def course(pytester):
    folder = pytester.mkdir("assignments") / "a0_demo"
    folder.mkdir()
    (folder / "calc.py").write_text(STUDENT_FILE)
    (folder / "test_calc.py").write_text(TESTS)
    return pytester


def test_points_and_score_table(course):
    result = course.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(["*dlgrade score*", "*a0_demo*1/3*3 / 6*50*"])


def test_missing_function_and_stub_messages(course):
    result = course.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*calc.py (a0_demo) does not define triple*"])
    result.stdout.fnmatch_lines(["*= not implemented yet =*", "calc.py: half (1 test)", "*dlgrade score*"])
    assert "Implement half" not in result.stdout.str()  # the stub is listed once, without a traceback


def test_the_stub_message_still_reaches_the_results(course, tmp_path):
    out = tmp_path / "results.json"
    course.runpytest("-p", "no:cacheprovider", "--dlgrade-results", str(out))
    [half] = [t for t in from_json(out.read_text()).tests() if t.name == "test_half"]
    assert half.message.startswith("NotImplementedError: Implement half: see README.md (calc.py: half is still the stub)")


def test_gpu_tests_skip_with_a_reason(course):
    result = course.runpytest("-p", "no:cacheprovider", "-rs", "-m", "gpu")
    result.stdout.fnmatch_lines(["*SKIPPED*needs a CUDA GPU*"])


def test_header_shows_profile_seed_and_device(course):
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-profile", "grade")
    result.stdout.fnmatch_lines(["dlgrade: profile=grade seed=0 isolation=worker code=the files in the tree device=*"])
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-seed", "7")
    result.stdout.fnmatch_lines(["dlgrade: profile=student seed=7 isolation=inprocess*"])


def test_grade_profile_runs_student_code_in_a_worker(course):
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-profile", "grade")
    result.assert_outcomes(passed=1, failed=2, skipped=1)
    result.stdout.fnmatch_lines(["*calc.py (a0_demo): half raised NotImplementedError: Implement half*"])


def test_environment_and_ini_settings(course, monkeypatch):
    monkeypatch.setenv("DLGRADE_PROFILE", "grade")
    result = course.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["dlgrade: profile=grade*"])
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-profile", "student")
    result.stdout.fnmatch_lines(["dlgrade: profile=student*"])


def test_submission_option_tests_another_directory(course, tmp_path):
    other = tmp_path / "alice" / "assignments" / "a0_demo"
    other.mkdir(parents=True)
    (other / "calc.py").write_text(STUDENT_FILE.replace('raise NotImplementedError("Implement half: see README.md")', "return x / 2"))
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-submission", str(tmp_path / "alice"))
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*code=submission*alice*"])


def test_missing_file_fails_only_the_tests_that_need_it(course, tmp_path):
    (tmp_path / "empty" / "assignments" / "a0_demo").mkdir(parents=True)
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-submission", str(tmp_path / "empty"))
    result.assert_outcomes(failed=3, skipped=1)
    result.stdout.fnmatch_lines(["*the file assignments/a0_demo/calc.py is missing*"])


def test_syntax_error_is_reported(course, tmp_path):
    broken = tmp_path / "bob" / "assignments" / "a0_demo"
    broken.mkdir(parents=True)
    (broken / "calc.py").write_text("def double(x):\n    return 2 *\n")
    for profile in ("student", "grade"):
        result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-profile", profile, "--dlgrade-submission", str(tmp_path / "bob"))
        result.assert_outcomes(failed=3, skipped=1)
        result.stdout.fnmatch_lines(["*calc.py (a0_demo) could not be loaded*SyntaxError*"])


def test_results_json(course, tmp_path):
    out = tmp_path / "results.json"
    course.runpytest("-p", "no:cacheprovider", "--dlgrade-results", str(out))
    report = from_json(out.read_text())
    [demo] = report.assignments
    assert (demo.name, demo.earned, demo.possible) == ("a0_demo", 3.0, 6.0)
    outcomes = {t.name: t.outcome for t in demo.tests}
    assert outcomes == {"test_double": "passed", "test_half": "failed", "test_missing_function": "failed", "test_on_gpu": "skipped"}


def test_a_skip_from_student_code_earns_nothing(pytester):
    folder = pytester.mkdir("assignments") / "a0_demo"
    folder.mkdir()
    (folder / "calc.py").write_text("import pytest\ndef double(x):\n    pytest.skip('no thanks')\n")
    (folder / "test_calc.py").write_text(TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*a0_demo*0/3*0 / 6*"])


def test_bad_option_values_are_usage_errors(course):
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-submission", "/does/not/exist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*is not a directory*"])
    result = course.runpytest("-p", "no:cacheprovider", "--dlgrade-submission", ".", "--dlgrade-against-reference")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_loads_beside_pytest_profiling(course):
    """pytest-profiling owns ``--profile``; every option of ours is prefixed, so both load."""
    result = course.runpytest_subprocess("-p", "no:cacheprovider", "--profile", "--dlgrade-profile", "grade")
    result.stdout.fnmatch_lines(["*profile=grade*"])
    result.stdout.fnmatch_lines(["*a0_demo*1/3*3 / 6*"])
    result.stdout.fnmatch_lines(["Profiling (from *combined.prof*"])


def test_a_run_without_any_configuration_warns_about_nothing_of_the_harness(course):
    """The plugin's fixtures module is imported by pytest alone, so pytest may rewrite it: no
    "module already imported" warning at the end of every student's run (an editable install
    showed one wherever the course had no pytest configuration, as a student release has none)."""
    result = course.runpytest_subprocess("-p", "no:cacheprovider")
    assert "warning" not in result.stdout.str().lower(), result.stdout.str()
    result.stdout.fnmatch_lines(["*a0_demo*1/3*3 / 6*"])


DRAWS = """
import json
import os

from hypothesis import given, strategies as st

if os.environ.get("LOAD_CONSTANTS"):
    import constants  # noqa: F401  a local module full of literal constants, loaded or not


@given(st.floats(-1e6, 1e6), st.integers(-10**6, 10**6))
def test_draws(x, n):
    with open(os.environ["DRAWS_FILE"], "a") as out:
        out.write(json.dumps([x, n]) + "\\n")
"""


def test_graded_examples_do_not_depend_on_which_local_modules_are_loaded(pytester, tmp_path, monkeypatch):
    """Hypothesis mixes the literal constants of local modules in ``sys.modules`` into its examples;
    grading turns that off, so a judge's examples are the same whatever else it loaded."""
    folder = pytester.mkdir("assignments") / "a0_draws"
    folder.mkdir()
    (folder / "test_draws.py").write_text(DRAWS)
    (folder / "constants.py").write_text("".join(f"C{k} = {k * 37.25 + 0.5}\nN{k} = {k * 9973}\n" for k in range(200)))

    def draws(profile: str, load: bool) -> list:
        out = tmp_path / f"{profile}-{load}.jsonl"
        monkeypatch.setenv("DRAWS_FILE", str(out))
        monkeypatch.setenv("LOAD_CONSTANTS", "1" if load else "")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--dlgrade-profile", profile, "--dlgrade-seed", "0")
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        return out.read_text().splitlines()

    assert draws("grade", load=False) == draws("grade", load=True)
