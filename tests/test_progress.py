"""grader.progress: the line the plugin writes, read back from a growing log as fractions per assignment."""

from __future__ import annotations

from grader.progress import LogProgress, announcement


def test_the_announcement_names_each_assignment_and_its_count_in_order():
    assert announcement({"a2_backprop": 20, "a1_foundations": 33}) == "dlgrade: tests to run: a2_backprop=20 a1_foundations=33"


def test_how_far_a_run_is_comes_from_the_log(tmp_path):
    log = tmp_path / "pytest.log"
    log.write_bytes(b"")
    progress = LogProgress(log)
    assert progress.fractions() == {}
    log.write_bytes(announcement({"t1_ops": 6, "t2_notebook": 2}).encode() + b"\n..F.")
    assert progress.fractions() == {"t1_ops": 4 / 6, "t2_notebook": 0.0}
    with open(log, "ab") as more:
        more.write(b"s.                  [ 75%]\nF")
    assert progress.fractions() == {"t1_ops": 1.0, "t2_notebook": 0.5}
    with open(log, "ab") as more:
        more.write(b".                   [100%]\nsome student output ....\n")
    assert progress.fractions() == {"t1_ops": 1.0, "t2_notebook": 1.0}
