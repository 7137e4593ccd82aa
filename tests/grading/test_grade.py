"""``python -m grader grade`` end to end on the tiny course: scores, formats, exit statuses,
determinism, single files, notebooks, and ``release``."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader.course import Course
from grader.formats import render
from grader.grading import GradingError, grade
from grader.results import from_json
from grader.sandbox import probe
from grader.settings import Settings
from tests.grading.conftest import FAST, dlgrade, without_timing
from tests.grading.course import CALC_REFERENCE, OPS_REFERENCE, notebook, solution, submission

# Gradescope's autograder results.json (gradescope/autograder_samples docs/specs.md), closed:
# only the documented keys may appear.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "max_score", "name", "status"],
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string", "minLength": 1},
                    "name_format": FORMAT,
                    "number": {"type": "string", "pattern": r"^\d+(\.\d+)*$"},
                    "output": {"type": "string"},
                    "output_format": FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def honest(tmp_path_factory) -> Path:
    return submission(tmp_path_factory.mktemp("honest"), ops=solution(OPS_REFERENCE), calc=notebook("%matplotlib inline\n!pip install nothing", solution(CALC_REFERENCE)))


@pytest.fixture(scope="module")
def honest_gradescope(course, honest, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("out") / "results.json"
    run = dlgrade("grade", honest, "--course", course, "--format", "gradescope", "--out", out, *FAST)
    assert run.returncode == 0, run.stderr
    return json.loads(out.read_text())


def test_a_correct_submission_gets_full_marks_in_gradescope_format(honest_gradescope):
    jsonschema.validate(honest_gradescope, GRADESCOPE_SCHEMA)
    assert honest_gradescope["score"] == 7
    assert sum(t["max_score"] for t in honest_gradescope["tests"]) == 7
    assert {t["status"] for t in honest_gradescope["tests"]} == {"passed"}


def test_gradescope_hides_hidden_tests_until_published(honest_gradescope):
    hidden = [t for t in honest_gradescope["tests"] if "(hidden)" in t["name"]]
    assert [t["visibility"] for t in hidden] == ["after_published"]
    assert all(t["visibility"] == "visible" for t in honest_gradescope["tests"] if t not in hidden)
    assert "t1_ops: public tests 3 / 3 points" in honest_gradescope["output"]  # the summary counts public tests only
    assert [t["number"] for t in honest_gradescope["tests"]] == ["1.1", "1.2", "1.3", "2.1"]


def test_the_template_stubs_get_zero_and_feedback_says_what_to_do(course, tmp_path):
    out = tmp_path / "feedback.md"
    run = dlgrade("grade", course, "--course", course, "--format", "markdown", "--out", out, *FAST)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert text.startswith("# Feedback: 0 / 7 points")
    assert "**What was checked:** mean_abs([-1, 2, -3]) is 2." in text
    assert "Implement mean_abs" in text and "still the stub" in text
    assert "SECRET" not in text  # a hidden test's source never reaches the feedback


def test_mixed_submission_json_and_junit(course, tmp_path):
    mixed = submission(tmp_path / "mixed", ops=solution(OPS_REFERENCE).replace("np.mean(np.abs(x))", "np.mean(x)"))
    out = tmp_path / "r.json"
    assert dlgrade("grade", mixed, "--course", course, "--assignment", "t1_ops", "--format", "json", "--out", out, "--seed", "7", *FAST).returncode == 0
    document = json.loads(out.read_text())
    assert (document["earned"], document["possible"], document["complete"], document["seed"]) == (4, 6, True, 7)
    [failed] = [t for t in document["assignments"]["t1_ops"]["tests"] if t["outcome"] == "failed"]
    assert failed["name"] == "test_mean_abs_of_a_small_vector" and "mean_abs([-1, 2, -3])" in failed["message"]

    suite = ET.fromstring(render(from_json(out.read_text()), "junit")).find("testsuite")
    assert suite is not None and (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("t1_ops", "3", "1")
    failure = suite.find("testcase[@name='test_mean_abs_of_a_small_vector']/failure")
    assert failure is not None and "mean_abs" in failure.get("message", "")


def test_grading_twice_gives_the_same_bytes_apart_from_timing(course, tmp_path):
    buggy = submission(tmp_path / "buggy", ops=solution(OPS_REFERENCE).replace("** 2", "* 2"))
    runs = [dlgrade("grade", buggy, "--course", course, "--assignment", "t1_ops", "--format", "json", *FAST) for _ in range(2)]
    first, second = (json.loads(r.stdout) for r in runs)
    assert first["earned"] == 2  # mean_abs is right, square is not
    assert without_timing(first) == without_timing(second)


def test_a_single_file_is_graded_as_its_assignment(course, tmp_path):
    file = tmp_path / "my_ops.py"
    file.write_text(solution(OPS_REFERENCE))
    run = dlgrade("grade", file, "--assignment", "t1_ops", "--course", course, "--format", "json", *FAST)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert (document["earned"], document["possible"]) == (6, 6)
    assert "my_ops.py was graded as t1_ops/ops.py." in document["notes"]


def test_notebooks_invalid_or_with_shell_magics(course, tmp_path):
    nb = tmp_path / "calc.ipynb"
    nb.write_text("{ this is not a notebook")
    invalid = json.loads(dlgrade("grade", nb, "--assignment", "t2_notebook", "--course", course, *FAST).stdout)
    [test] = invalid["assignments"]["t2_notebook"]["tests"]
    assert test["outcome"] == "failed" and "not a valid Jupyter notebook" in test["message"]

    marker = tmp_path / "magic-ran"
    magic = notebook(f"!touch {marker}", f"%%bash\ntouch {marker}", "get_ipython().system('touch " + str(marker) + "')", "def double(x):\n    return 3 * x")
    submission(tmp_path / "magic", calc=magic)
    graded = json.loads(dlgrade("grade", tmp_path / "magic", "--assignment", "t2_notebook", "--course", course, *FAST).stdout)
    assert graded["earned"] == 0 and not marker.exists()
    [note] = graded["notes"]  # the student is told which lines did not run
    assert note.startswith("calc.ipynb (t2_notebook): these IPython lines were skipped") and f"!touch {marker}" in note and "%%bash" in note


def test_code_that_never_answers_spends_the_budget_and_every_test_says_so(course, tmp_path):
    hangs = "def square(x):\n    while True:\n        pass\n\n\ndef mean_abs(x):\n    while True:\n        pass\n"
    (tmp_path / "hangs" / "t1_ops").mkdir(parents=True)
    (tmp_path / "hangs" / "t1_ops" / "ops.py").write_text(hangs)
    # Without the budget each function would cost 60 s (half of --timeout, capped at 60).
    run = dlgrade("grade", tmp_path / "hangs", "--assignment", "t1_ops", "--course", course, "--timeout", "600", "--student-budget", "2", "--hidden-visibility", "visible")
    graded = json.loads(run.stdout)
    messages = [t["message"] for t in graded["assignments"]["t1_ops"]["tests"]]
    assert graded["earned"] == 0 and len(messages) == 3, run.stderr
    spent = "the run's time budget for student code (2 s) is spent"
    assert all(spent in m for m in messages), messages
    assert sum(f"did not finish and was stopped: {spent}" in m for m in messages) == 1  # the one call that ran
    assert sum(f"was not run: {spent}" in m for m in messages) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade", "{missing}"], "does not exist"),
        (["grade", "{honest}", "--assignment", "a0_nothing"], "not in the course"),
        (["grade", "{file}"], "--assignment NAME"),
        (["grade", "{honest}", "--timeout", "0"], "timeout=0.0: timeouts must be a positive number of seconds"),
        (["grade", "{honest}", "--student-budget", "0"], "budget='0' must be a positive number of seconds, or off"),
        (["batch", "{file}", "--out", "{tmp}"], "is not a folder"),
    ],
)
def test_the_grader_says_why_it_cannot_run(course, honest, tmp_path, args, message):
    (tmp_path / "ops.py").write_text("")
    values = {"missing": tmp_path / "nope", "honest": honest, "file": tmp_path / "ops.py", "tmp": tmp_path / "out"}
    run = dlgrade(*[a.format(**values) for a in args], "--course", course)
    assert run.returncode == 2
    assert message in run.stderr


def test_release_writes_stubs_and_check_finds_stale_ones(course, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    assert dlgrade("release", "--check", "--course", copy).returncode == 0
    stub = copy / "assignments" / "t1_ops" / "ops.py"
    stub.write_text(stub.read_text() + "# edited\n")
    (copy / "assignments" / "t2_notebook" / "calc.ipynb").unlink()
    check = dlgrade("release", "--check", "--course", copy)
    assert check.returncode == 1
    assert "assignments/t1_ops/ops.py" in check.stderr and "assignments/t2_notebook/calc.ipynb" in check.stderr
    assert dlgrade("release", "--course", copy).returncode == 0
    assert stub.read_bytes() == (course / "assignments" / "t1_ops" / "ops.py").read_bytes()
    assert dlgrade("release", "--check", "--course", copy).returncode == 0


def test_every_format_states_the_isolation_and_hidden_tests_show_their_assertion_only(course, tmp_path):
    buggy = submission(tmp_path / "buggy", ops=solution(OPS_REFERENCE).replace("** 2", "* 2"))  # fails the hidden test
    out = tmp_path / "r.json"
    run = dlgrade("grade", buggy, "--course", course, "--assignment", "t1_ops", "--format", "json", "--hidden-visibility", "visible", "--out", out, *FAST)
    assert run.returncode == 0, run.stderr
    report = from_json(out.read_text())
    level = probe()
    assert report.sandbox == level
    [hidden] = [t for t in report.tests() if t.hidden]
    assert hidden.outcome == "failed" and "square(matrix)" in hidden.message  # the assertion message
    assert "def test_" not in hidden.message and "hidden/test_ops_hidden.py" not in hidden.message and "SECRET =" not in hidden.message

    gradescope = json.loads(render(report, "gradescope"))
    assert f"Isolation: sandbox level {level}" in gradescope["output"] and gradescope["extra_data"]["sandbox"] == level
    suite = ET.fromstring(render(report, "junit")).find("testsuite")
    assert suite is not None and suite.find("properties/property[@name='sandbox']").get("value") == level
    assert f"_Isolation: sandbox level {level}_" in render(report, "markdown")
    for fmt in ("json", "junit", "markdown"):  # no visibility of their own: the default keeps hidden details out
        text = render(report, fmt)
        assert "square(matrix)" not in text and "test_ops_hidden.py" not in text, fmt
        assert "test_square_on_a_secret_matrix" in text, fmt  # its name and score stay

    off = dlgrade("grade", buggy, "--course", course, "--assignment", "t1_ops", "--format", "markdown", "--sandbox", "off", *FAST)
    assert "Isolation: none (graded with --sandbox off" in off.stdout


def test_html_feedback_comes_with_the_students_notebook_annotated_by_grade_and_batch(course, tmp_path):
    """``grade --format html --out F`` writes ``calc.feedback.html`` beside F: the student's own
    notebook (their output kept, not run again) with the tests of ``double`` after its cell;
    ``batch --format html`` writes it per student, ``--format markdown`` alone does not."""
    wrong = notebook("print('my own run')", "def double(x):\n    return 3 * x")
    wrong.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="my own run\n")]
    submission(tmp_path / "roster" / "bob", calc=wrong)
    out = tmp_path / "out" / "feedback.html"
    run = dlgrade("grade", tmp_path / "roster" / "bob", "--course", course, "--assignment", "t2_notebook", "--format", "html", "--out", out, *FAST)
    assert run.returncode == 0, run.stderr
    page = (out.parent / "calc.feedback.html").read_text()
    assert "my own run" in page and "Feedback on t2_notebook: 0 / 1 points" in page
    assert page.index('<span class="nf">double</span>') < page.index("Feedback on <code>double</code>") < page.index("test_double")
    assert "double(1.25)" in page  # the failure's own message

    markdown_only = dlgrade("grade", tmp_path / "roster" / "bob", "--course", course, "--assignment", "t2_notebook", "--format", "markdown", "--out", tmp_path / "md" / "f.md", *FAST)
    assert markdown_only.returncode == 0 and sorted(p.name for p in (tmp_path / "md").iterdir()) == ["f.md"]

    batch = dlgrade("batch", tmp_path / "roster", "--out", tmp_path / "batch", "--course", course, "--assignment", "t2_notebook", "--format", "html", "--no-progress", *FAST)
    assert batch.returncode == 0, batch.stderr
    assert "Feedback on <code>double</code>" in (tmp_path / "batch" / "students" / "bob" / "calc.feedback.html").read_text()


def test_a_judge_that_cannot_start_is_the_graders_error_not_a_grade(course, tmp_path, monkeypatch):
    """An interpreter this user may not run (below root, with Python under /root): one clear
    message, and no grade is made up."""
    honest = submission(tmp_path / "honest", ops=solution(OPS_REFERENCE))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    with pytest.raises(GradingError, match="cannot start the judge .*no-python -m pytest"):
        grade(honest, course=Course(course), assignments=["t1_ops"], settings=Settings.grading(timeout=6, sandbox=False))
