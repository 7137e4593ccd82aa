"""``batch`` for many machines on the tiny course: the roster file fetched at the deadline, the
exit status when a student cannot be graded, ``--resume``, ``--shard`` and ``gradebook merge``
(its refusals included). The shards graded and merged for real are in ``test_github_workflow.py``."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.shards import Shard, ShardError
from tests.grading.conftest import FAST, dlgrade
from tests.grading.roster import EXPECTED_TOTALS


def rows(out: Path) -> dict[str, dict[str, str]]:
    return {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}


@given(name=st.text(min_size=1), count=st.integers(1, 40))
def test_every_student_is_in_exactly_one_shard(name, count):
    assert sum(Shard(k, count).holds(name) for k in range(1, count + 1)) == 1


@pytest.mark.parametrize(("text", "message"), [("3", "write it as K/N"), ("0/3", "between 1 and N"), ("4/3", "between 1 and N"), ("a/b", "write it as K/N")])
def test_a_bad_shard_is_refused_with_the_fix(text, message):
    with pytest.raises(ShardError, match=message):
        Shard.parse(text)


def test_the_gradebook_says_who_could_not_be_graded_and_why(whole_roster):
    book = rows(whole_roster)
    assert {name: row["total"] for name, row in book.items()} == EXPECTED_TOTALS
    assert book["judy"]["status"].startswith("error: could not fetch")
    assert all(row["status"] == "ok" for name, row in book.items() if name != "judy")
    assert "judy-was-never-created" in (whole_roster / "summary.md").read_text()


def test_the_commit_at_the_deadline_is_graded_not_a_later_one(whole_roster):
    assert rows(whole_roster)["alice"]["total"] == "7"  # the later commit does not even parse


def test_resume_skips_unchanged_students_and_regrades_a_changed_one(course, whole_roster, tmp_path):
    roster = shutil.copytree(whole_roster.parent / "roster", tmp_path / "roster")
    out = shutil.copytree(whole_roster, tmp_path / "out")
    again = dlgrade("batch", roster, "--out", out, "--course", course, "--resume", "--no-progress", *FAST)
    assert again.returncode == 3, again.stderr
    assert "5 unchanged since the last run, not graded again" in again.stdout
    assert (out / "gradebook.csv").read_text() == (whole_roster / "gradebook.csv").read_text()
    fixed = roster / "dave" / "assignments" / "t1_ops" / "ops.py"
    fixed.write_text(fixed.read_text().replace("dtype=np.float64)\n", "dtype=np.float64) ** 2\n", 1))
    changed = dlgrade("batch", roster, "--out", out, "--course", course, "--resume", "--no-progress", *FAST)
    assert "4 unchanged since the last run" in changed.stdout, changed.stdout
    assert rows(out)["dave"]["total"] == "7"


@pytest.fixture(scope="module")
def ungraded_shards(course, tmp_path_factory) -> Path:
    """The three shards' outputs for a roster none of whose repositories could be fetched: real
    manifests, no grading."""
    root = tmp_path_factory.mktemp("shards")
    broken = root / "roster.csv"
    broken.write_text("student,repository,commit\n" + "".join(f"{name},/nonexistent/{name},\n" for name in EXPECTED_TOTALS))
    fetched = dlgrade("roster", "fetch", broken, "--into", root / "roster")
    assert fetched.returncode == 3 and "0 repositories" in fetched.stdout, fetched.stderr
    for k in (1, 2, 3):
        run = dlgrade("batch", root / "roster", "--shard", f"{k}/3", "--out", root / f"shard-{k}", "--course", course, "--no-progress")
        assert run.returncode == 3, run.stderr
    return root


def test_merging_all_shards_gives_every_student_once(ungraded_shards, tmp_path):
    run = dlgrade("gradebook", "merge", *(ungraded_shards / f"shard-{k}" for k in (1, 2, 3)), "--out", tmp_path / "merged")
    assert run.returncode == 3, run.stderr
    assert sorted(rows(tmp_path / "merged")) == sorted(EXPECTED_TOTALS)
    assert "0 of 6 submissions fully graded" in run.stdout


@pytest.mark.parametrize(
    ("shards", "change", "message"),
    [
        ((1, 2), None, "shard(s) 3/3 missing"),
        ((1, 1, 2, 3), None, "are both shard 1/3"),
        ((1, 2, 3), ("sandbox", "off"), "different isolation level"),
        ((1, 2, 3), ("seed", 7), "different seed"),
        ((1, 2, 3), ("timeout", 5.0), "different per-test time limit"),
        ((1, 2, 3), ("budget", None), "different student-code budget"),
        ((1, 2, 3), ("course", "0" * 64), "different course content"),
        ((1, 2, 3), ("students", ["dave", "erin"]), "holds dave, who belongs to another shard than 1/3"),
    ],
)
def test_merge_refuses_missing_overlapping_or_inconsistent_shards(ungraded_shards, tmp_path, shards, change, message):
    folders = [shutil.copytree(ungraded_shards / f"shard-{k}", tmp_path / f"{i}-shard-{k}") for i, k in enumerate(shards)]
    if change is not None:  # shard 1 as another run (another seed, course, isolation, limit) would have left it
        manifest = json.loads((folders[0] / "shard.json").read_text())
        manifest[change[0]] = change[1]
        (folders[0] / "shard.json").write_text(json.dumps(manifest))
    run = dlgrade("gradebook", "merge", *folders, "--out", tmp_path / "merged")
    assert run.returncode == 2
    assert message in run.stderr, run.stderr
    assert not (tmp_path / "merged").exists()


def test_a_shard_graded_without_the_sandbox_is_not_merged_with_sandboxed_ones(course, ungraded_shards, tmp_path):
    off = dlgrade("batch", ungraded_shards / "roster", "--shard", "3/3", "--out", tmp_path / "shard-3", "--course", course, "--sandbox", "off", "--no-progress")
    assert off.returncode == 3, off.stderr
    run = dlgrade("gradebook", "merge", ungraded_shards / "shard-1", ungraded_shards / "shard-2", tmp_path / "shard-3", "--out", tmp_path / "merged")
    assert run.returncode == 2 and "different isolation level" in run.stderr, run.stderr
