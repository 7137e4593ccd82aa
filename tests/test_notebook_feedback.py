"""The student's notebook returned with feedback: where the feedback cells go, which tests each
lists, what it shows of hidden tests, and the HTML page (sanitized, the student's outputs kept)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grader.course import PROJECT_ROOT, Course
from grader.formats.disclosure import HIDDEN_DETAILS
from grader.formats.notebook_feedback import FEEDBACK_TAG, annotate, defined_names, render, write_all
from grader.results import AssignmentGrade, Report, TestResult

COURSE = Course(PROJECT_ROOT)
A4 = "a4_initialization"
SECRET = "the hidden oracle says 0.0721688"
FAILING = {"test_xavier_normal_has_std_gain_sqrt_2_over_fan_sum", "test_xavier_distributions_with_several_gains"}


def _student_notebook() -> nbformat.NotebookNode:
    """a4's instructor notebook without solution markers, with an output of the student's own."""
    notebook = nbformat.read(str(PROJECT_ROOT / "reference" / A4 / "init.ipynb"), as_version=4)
    for cell in notebook.cells:
        cell.source = "\n".join(line for line in cell.source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    last = [c for c in notebook.cells if c.cell_type == "code"][-1]
    last.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="my own run: 42\n"),
        nbformat.v4.new_output("display_data", data={"text/html": '<b>bold</b><script>alert("pwned")</script><img src=x onerror="alert(2)">'}),
    ]
    return notebook


def _report() -> Report:
    """Every a4 test, public and hidden; the xavier_normal ones fail (the hidden one with a secret)."""
    hidden_file = PROJECT_ROOT / "assignments" / A4 / "hidden" / "test_initializers_hidden.py"
    hidden_tests = set(re.findall(r"^def (test_\w+)", hidden_file.read_text(), flags=re.M))
    tests = []
    for name in sorted(COURSE.test_functions(A4)):
        hidden = name in hidden_tests
        failed = name in FAILING
        message = (f"E   AssertionError: {SECRET}" if hidden else "E   AssertionError: xavier_normal((32, 64)) sample std 0.14 expected 0.07") if failed else ""
        folder = "hidden/test_initializers_hidden.py" if hidden else "test_initializers.py"
        tests.append(TestResult(f"assignments/{A4}/{folder}::{name}", A4, name, 1.0, "failed" if failed else "passed", hidden, message=message, doc="Checks it."))
    tests.append(TestResult(f"assignments/{A4}/test_initializers.py::test_other_numbers_of_dimensions_raise_value_error[kaiming_normal]", A4,
                            "test_other_numbers_of_dimensions_raise_value_error[kaiming_normal]", 1.0, "passed", False))  # fmt: skip
    return Report("alice", (AssignmentGrade(A4, tuple(tests)),), sandbox="allowlist")


def _feedback_after(annotated: nbformat.NotebookNode) -> dict[str, str]:
    """Each function -> the text of the feedback cell right after the cell that defines it."""
    found = {}
    for cell, following in zip(annotated.cells, annotated.cells[1:]):
        if cell.cell_type == "code" and following.metadata.get("tags") == [FEEDBACK_TAG]:
            for name in defined_names(cell.source):
                found[name] = following.source
    return found


def _listed(text: str, function: str) -> set[str]:
    section = text.split(f"Feedback on `{function}`", 1)[1].split("### Feedback on", 1)[0]
    return {m.split("[")[0] for m in re.findall(r"\*\* `(test_[^`]+)`", section)}


def test_a_feedback_cell_follows_each_graded_function_with_the_tests_that_name_it():
    notebook = _student_notebook()
    annotated = annotate(notebook, _report(), A4, COURSE, hidden_visibility="visible")
    nbformat.validate(annotated)
    first = annotated.cells[0]
    assert first.metadata["tags"] == [FEEDBACK_TAG] and first.source.startswith("# Feedback on a4_initialization: ")
    assert "| `xavier_normal` |" in first.source  # the score table, a row per function
    assert [c for c in annotated.cells if c.metadata.get("tags") != [FEEDBACK_TAG]] == notebook.cells  # the student's cells, untouched, in order
    after = _feedback_after(annotated)
    graded = {"compute_fans", "zeros_init", "lecun_normal", "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "activation_stds"}
    assert set(after) == graded  # not the helper _fan: no test names it
    for function in graded:
        assert _listed(after[function], function) == set(COURSE.tests_naming(A4, [function])), function
    assert _listed(after["xavier_normal"], "xavier_normal") == {  # the rule's answer, read off the tests by hand
        "test_every_function_rejects_other_numbers_of_dimensions", "test_other_numbers_of_dimensions_raise_value_error",
        "test_randomness_comes_only_from_rng", "test_xavier_distributions_with_several_gains", "test_xavier_normal_has_std_gain_sqrt_2_over_fan_sum",
    }  # fmt: skip
    assert "**FAILED** `test_xavier_normal_has_std_gain_sqrt_2_over_fan_sum`" in after["xavier_normal"]
    assert "**What went wrong:**" in after["xavier_normal"] and "**Hint:**" in after["xavier_normal"] and SECRET in after["xavier_normal"]
    assert "[kaiming_normal]" in after["kaiming_normal"] and "[kaiming_normal]" not in after["zeros_init"]  # a case goes where its id points


def test_a_notebook_of_an_older_minor_format_stays_valid():
    notebook = _student_notebook()
    notebook.nbformat_minor = 4  # as Jupyter wrote it before cells had ids
    for cell in notebook.cells:
        cell.pop("id", None)
    annotated = annotate(notebook, _report(), A4, COURSE, hidden_visibility="hidden")
    nbformat.validate(annotated)
    assert annotated.nbformat_minor == 5 and annotated.cells[1].id == "cell-0"


def test_hidden_details_stay_hidden_unless_visible(tmp_path):
    annotated = annotate(_student_notebook(), _report(), A4, COURSE, hidden_visibility="hidden")
    text = "\n".join(c.source for c in annotated.cells if c.metadata.get("tags") == [FEEDBACK_TAG])
    assert SECRET not in text and "hidden/test_initializers_hidden.py" not in text
    assert "**FAILED** `test_xavier_distributions_with_several_gains` (0 / 1 point, hidden test)" in text and HIDDEN_DETAILS in text
    page = render(_write(_student_notebook(), tmp_path), _report(), A4, COURSE, hidden_visibility="after_published")
    assert SECRET not in page and "test_xavier_distributions_with_several_gains" in page


def _write(notebook: nbformat.NotebookNode, folder: Path) -> Path:
    path = folder / "init.ipynb"
    nbformat.write(notebook, str(path))
    return path


def test_the_page_keeps_the_students_outputs_and_runs_none_of_their_html(tmp_path):
    page = render(_write(_student_notebook(), tmp_path), _report(), A4, COURSE, hidden_visibility="visible")
    assert page.startswith("<!DOCTYPE html>") and 'name="viewport"' in page
    assert "my own run: 42" in page and "<b>bold</b>" in page  # not run again: the student's outputs
    assert '<script>alert("pwned")</script>' not in page and "onerror" not in page
    assert "<h1" in page and "<table>" in page  # rendered Markdown, not escaped tags
    assert page == render(_write(_student_notebook(), tmp_path), _report(), A4, COURSE, hidden_visibility="visible")  # deterministic


@pytest.mark.parametrize("content", [b"{ not a notebook", b'{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}'])
def test_a_notebook_that_cannot_be_shown_still_gets_its_score(tmp_path, content):
    path = tmp_path / "init.ipynb"
    path.write_bytes(content)
    page = render(path, _report(), A4, COURSE, hidden_visibility="hidden")
    assert "Your notebook could not be shown" in page and "Feedback on a4_initialization" in page and SECRET not in page


def test_write_all_writes_a_page_per_kept_notebook(tmp_path):
    kept = tmp_path / "kept"
    (kept / A4).mkdir(parents=True)
    nbformat.write(_student_notebook(), str(kept / A4 / "init.ipynb"))
    written = write_all(_report(), kept, tmp_path, COURSE, hidden_visibility="hidden")
    assert written == [tmp_path / "init.feedback.html"] and "Feedback on" in written[0].read_text()
