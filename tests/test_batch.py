"""batch's own tables: the gradebook CSV and the summary, from grades (no grading here; the
command end to end is in tests/grading/)."""

import csv
import io

from grader.batch import StudentGrade, gradebook_csv, students, summary_markdown
from grader.results import AssignmentGrade, Report, TestResult


def report(name, points_earned, error=""):
    tests = tuple(
        TestResult(nodeid=f"assignments/a1/test_x.py::test_{i}", assignment="a1", name=f"test_{i}", points=1.0, outcome="passed" if i < points_earned else "failed", hidden=False)
        for i in range(4)
    )
    return Report(submission=name, assignments=(AssignmentGrade("a1", tests, error),), sandbox="allowlist")


GRADES = [
    StudentGrade("zoe", report("zoe", 4)),
    StudentGrade("ada", report("ada", 1)),
    StudentGrade("bob", None, "the submission could not be copied"),
    StudentGrade("cy", report("cy", 0, error="grading did not finish within 10 s")),
]


def test_the_gradebook_has_a_row_per_student_in_name_order():
    rows = list(csv.reader(io.StringIO(gradebook_csv(GRADES, ["a1", "a2"]))))
    assert rows[0] == ["student", "a1", "a2", "total", "possible", "percent", "status"]
    assert rows[1:] == [
        ["ada", "1", "", "1", "4", "25.0", "ok"],
        ["bob", "", "", "", "", "", "error: the submission could not be copied"],
        ["cy", "0", "", "0", "4", "0.0", "incomplete: a1 not graded"],
        ["zoe", "4", "", "4", "4", "100.0", "ok"],
    ]


def test_the_summary_counts_histogram_and_needs_a_look():
    text = summary_markdown(GRADES, "allowlist")
    assert "- submissions: 4" in text and "- graded: 3" in text and "- not fully graded: 2" in text
    assert "| 0-10 | 1 | # |" in text and "| 20-30 | 1 | # |" in text and "| 90-100 | 1 | # |" in text
    assert "- bob: error: the submission could not be copied" in text and "- cy: incomplete: a1 not graded" in text
    assert "![Score distribution](scores.png)" in text


def test_the_roster_is_its_visible_subfolders(tmp_path):
    for name in ("b", "a", ".git"):
        (tmp_path / name).mkdir()
    (tmp_path / "file.txt").write_text("")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert [p.name for p in students(tmp_path)] == ["a", "b"]
