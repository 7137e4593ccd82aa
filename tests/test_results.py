"""The results schema: one JSON form, read back exactly; derived totals."""

import json

from grader.results import AssignmentGrade, Report, TestResult, from_json, normalize, to_json


def _report() -> Report:
    passed = TestResult("assignments/a0/test_x.py::test_a", "a0", "test_a", 2.0, "passed", False, doc="Checks a.")
    failed = TestResult("assignments/a0/hidden/test_y.py::test_b", "a0", "test_b", 3.0, "failed", True, message="E   boom", diagnosis="This looks like a known mistake in f: m.")
    skipped = TestResult("assignments/a0/test_x.py::test_gpu", "a0", "test_gpu", 1.0, "skipped", False)
    return Report("alice", (AssignmentGrade("a0", (passed, failed, skipped)), AssignmentGrade("a1", (), "timed out")), seed=3, sandbox="allowlist", notes=("n",))


def test_round_trip_is_exact():
    report = _report()
    assert from_json(to_json(report)) == report


def test_a_results_file_without_diagnoses_reads_as_none_made():
    """Results written before diagnoses existed read back with ``diagnosis == ""``."""
    document = json.loads(to_json(_report()))
    for grade in document["assignments"].values():
        for test in grade["tests"]:
            del test["diagnosis"]
    tests = from_json(json.dumps(document)).tests()
    assert [t.diagnosis for t in tests] == ["", "", ""]


def test_totals_leave_out_gpu_skips_and_count_errors():
    report = _report()
    assert (report.earned, report.possible) == (2.0, 5.0)
    assert not report.complete
    assert report.assignment("a0").possible == 5.0
    assert report.assignment("missing") == AssignmentGrade("missing", ())


def test_normalize_removes_what_differs_between_runs():
    text = "/tmp/dlgrade-sandbox-ab12/work/a0/x.py at 0x7f00deadbeef"
    assert normalize(text) == "a0/x.py at 0x..."
