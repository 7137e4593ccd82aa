"""The instructor's plots: pass rates per test, PNGs that are the same bytes for the same grades."""

from grader.plots import pass_rate_chart, pass_rates, score_histogram
from grader.results import AssignmentGrade, Report, TestResult


def _student(name: str, passes: dict[str, bool]) -> Report:
    tests = tuple(TestResult(f"assignments/a0/test_x.py::{t}", "a0", t, 1.0, "passed" if ok else "failed", False) for t, ok in passes.items())
    gpu = TestResult("assignments/a0/test_x.py::test_gpu", "a0", "test_gpu", 1.0, "skipped", False)
    return Report(name, (AssignmentGrade("a0", (*tests, gpu)),))


def test_pass_rates_lowest_first_without_gpu_skips():
    reports = [_student("a", {"test_easy": True, "test_hard": False}), _student("b", {"test_easy": True, "test_hard": True})]
    assert pass_rates(reports) == [("a0: test_hard", 0.5), ("a0: test_easy", 1.0)]


def test_plots_are_pngs_and_the_same_bytes_twice(tmp_path):
    reports = [_student(str(i), {"test_easy": True, "test_hard": i % 3 == 0}) for i in range(6)]
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        score_histogram([100.0 * r.earned / r.possible for r in reports], tmp_path / run / "scores.png")
        pass_rate_chart(reports, tmp_path / run / "rates.png")
    for name in ("scores.png", "rates.png"):
        first = (tmp_path / "first" / name).read_bytes()
        assert first.startswith(b"\x89PNG") and first == (tmp_path / "second" / name).read_bytes()
