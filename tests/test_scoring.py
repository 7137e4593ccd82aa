"""Scoring: a test earns its points only when every phase passed; a GPU skip counts for nothing
either way, any other skip earns nothing; what student code says never quotes a hidden test."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.course import Course
from grader.scoring import MESSAGE_LIMIT, Scorebook, points_of


class Marker(SimpleNamespace):
    pass


def item(course: Course, relative: str, *, points=None, gpu=False, name="test_f"):
    markers = {"points": Marker(args=(points,), kwargs={}) if points is not None else None, "gpu": Marker(args=(), kwargs={}) if gpu else None}
    path = course.root / relative
    return SimpleNamespace(path=path, nodeid=f"{relative}::{name}", name=name, obj=None, get_closest_marker=markers.get)


def report(when="call", outcome="passed", text="", duration=0.5):
    longrepr = ("file", 1, f"Skipped: {text}") if outcome == "skipped" else text
    return SimpleNamespace(when=when, duration=duration, skipped=outcome == "skipped", failed=outcome == "failed", longrepr=longrepr, longreprtext=text)


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "course" / "assignments" / "a1"
    (folder / "hidden").mkdir(parents=True)
    (folder / "test_public.py").write_text("def test_f():\n    assert shared_line_of_both_test_files()\n")
    (folder / "hidden" / "test_secret.py").write_text(
        "def test_f():\n    assert shared_line_of_both_test_files()\n    secret = the_hidden_tests_own_long_line(42)\n    return x\n"
    )
    return Course(tmp_path / "course")


def test_points_come_from_the_marker_and_must_be_a_number(course):
    assert points_of(item(course, "assignments/a1/test_public.py")) == 1.0
    assert points_of(item(course, "assignments/a1/test_public.py", points=2.5)) == 2.5
    for bad in (-1, True, "3"):
        with pytest.raises(pytest.UsageError, match="points"):
            points_of(item(course, "assignments/a1/test_public.py", points=bad))


def test_a_test_earns_its_points_only_if_every_phase_passes(course):
    book = Scorebook()
    passing, failing = item(course, "assignments/a1/test_public.py", points=2, name="test_ok"), item(course, "assignments/a1/test_public.py", points=3, name="test_bad")
    for phase in ("setup", "call", "teardown"):
        book.record(passing, report(phase))
        book.record(failing, report(phase, "failed" if phase == "teardown" else "passed", text="E   boom"))
    results = book.results
    assert results[passing.nodeid].outcome == "passed" and results[passing.nodeid].duration == pytest.approx(1.5)
    assert results[failing.nodeid].outcome == "failed" and "boom" in results[failing.nodeid].message
    assert book.totals() == {"a1": (2.0, 5.0)}


def test_a_gpu_skip_counts_for_nothing_and_any_other_skip_earns_nothing(course):
    book = Scorebook()
    on_gpu = item(course, "assignments/a1/test_public.py", gpu=True, name="test_gpu")
    skipped = item(course, "assignments/a1/test_public.py", points=4, name="test_skipped")
    book.record(on_gpu, report("setup", "skipped", text="no CUDA"))
    book.record(skipped, report("call", "skipped", text="student code called pytest.skip"))
    assert book.results[on_gpu.nodeid].outcome == "skipped" and book.results[on_gpu.nodeid].possible == 0
    assert book.results[skipped.nodeid].outcome == "failed" and book.results[skipped.nodeid].message.startswith("skipped:")
    assert book.totals() == {"a1": (0.0, 4.0)}


def test_hidden_failures_keep_only_the_assertion_message(course):
    book = Scorebook()
    hidden = item(course, "assignments/a1/hidden/test_secret.py")
    book.record(hidden, report("call", "failed", text="    secret = the_hidden_tests_own_long_line(42)\nE   AssertionError: result differs"))
    result = book.results[hidden.nodeid]
    assert result.hidden and result.message == "AssertionError: result differs"


def test_long_messages_keep_their_start_and_end(course):
    book = Scorebook()
    public = item(course, "assignments/a1/test_public.py")
    book.record(public, report("call", "failed", text="start " + "x" * 3 * MESSAGE_LIMIT + " end"))
    message = book.results[public.nodeid].message
    assert len(message) <= MESSAGE_LIMIT + 10 and message.startswith("start") and message.endswith("end")


def test_tests_outside_assignments_are_not_scored(course, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    book = Scorebook()
    book.record(SimpleNamespace(path=tmp_path / "elsewhere" / "test_x.py", nodeid="x", name="x", obj=None, get_closest_marker=lambda _: None), report())
    assert book.results == {}


def test_student_text_never_quotes_a_hidden_test(course):
    book = Scorebook()
    said = "ValueError: I read\n    secret = the_hidden_tests_own_long_line(42)\nand assert shared_line_of_both_test_files()\nreturn x"
    kept = book.student_text(said, course, "a1").splitlines()
    assert kept == ["ValueError: I read", "[a line of a hidden test was removed]", "and assert shared_line_of_both_test_files()", "return x"]
    assert book.student_text("z" * 5000, course, "a1").endswith("[... shortened ...]")


def test_the_report_groups_by_assignment_and_planned_submission(course):
    book = Scorebook()
    for key in ("s0", "s1"):
        book.record(item(course, "assignments/a1/test_public.py", name=f"test_f[{key}]"), report(outcome="passed" if key == "s0" else "failed", text="E   no"), submission=key)
    assert book.totals("s0") == {"a1": (1.0, 1.0)} and book.totals("s1") == {"a1": (0.0, 1.0)}
    run = book.report(submission="sub", seed=0, sandbox="off")
    assert [a.name for a in run.assignments] == ["a1"] and {t.submission for t in run.assignments[0].tests} == {"s0", "s1"}
    assert Path(run.assignments[0].tests[0].nodeid).name.startswith("test_public.py")
