"""Fingerprints: a grade's inputs as content hashes, blind to what grading never reads."""

import dataclasses
import json
import shutil

from grader.batch import conditions, fingerprint
from grader.course import PROJECT_ROOT, Course
from grader.fingerprint import Conditions, Fingerprint, submission_hash, tree_hash
from grader.settings import Settings

EXAMPLE = PROJECT_ROOT / "examples" / "submission"


def test_tree_hash_follows_content_and_names_but_not_caches(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.py").write_text("x = 1\n")
    before = tree_hash(tmp_path, ["a"])
    (tmp_path / "a" / "__pycache__").mkdir()
    (tmp_path / "a" / "__pycache__" / "f.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "a" / ".hidden").write_text("editor state")
    assert tree_hash(tmp_path, ["a"]) == before
    (tmp_path / "a" / "f.py").write_text("x = 2\n")
    assert tree_hash(tmp_path, ["a"]) != before
    (tmp_path / "a" / "f.py").rename(tmp_path / "a" / "g.py")
    (tmp_path / "a" / "g.py").write_text("x = 1\n")
    assert tree_hash(tmp_path, ["a"]) != before
    assert tree_hash(tmp_path, ["missing"]) == tree_hash(tmp_path, [])


def test_the_submission_hash_covers_only_what_grading_takes(tmp_path):
    course = Course(PROJECT_ROOT)
    copy = tmp_path / "submission"
    shutil.copytree(EXAMPLE, copy)
    chosen = ["a1_foundations"]
    before = submission_hash(course, copy, chosen)
    (copy / "notes.txt").write_text("not graded")
    (copy / "assignments" / "a1_foundations" / "conftest.py").write_text("never read")
    assert submission_hash(course, copy, chosen) == before
    with open(copy / "assignments" / "a1_foundations" / "activations.py", "a") as file:
        file.write("\n# changed\n")
    assert submission_hash(course, copy, chosen) != before
    assert submission_hash(course, tmp_path / "missing", chosen) is None


def test_a_stored_fingerprint_round_trips_and_a_broken_or_older_one_reads_as_none(tmp_path):
    stored = Fingerprint("s", Conditions(course="c", assignments=("a1_foundations",), seed=0, sandbox="allowlist", timeout=120.0, budget=None))
    stored.write(tmp_path)
    assert Fingerprint.read(tmp_path) == stored and stored.known
    document = json.loads((tmp_path / "fingerprint.json").read_text())
    del document["timeout"]  # written before time limits were part of it
    (tmp_path / "fingerprint.json").write_text(json.dumps(document))
    assert Fingerprint.read(tmp_path) is None
    (tmp_path / "fingerprint.json").write_text("{not json")
    assert Fingerprint.read(tmp_path) is None
    assert not Fingerprint(None, Conditions("c", (), 0, "off", 120.0, 20.0)).known


def test_batch_fingerprints_every_setting_that_can_change_a_verdict():
    base = Settings.grading(sandbox=False)

    def of(settings):
        return fingerprint(EXAMPLE, course=Course(PROJECT_ROOT), conditions=conditions(course_digest="c", assignments=["a1_foundations"], settings=settings))

    assert of(base) == of(dataclasses.replace(base, shrink=False, jobs=1))  # same verdicts: no re-grade
    for changed in ({"timeout": 60.0}, {"budget": None}, {"seed": 1}, {"sandbox": True}):
        assert of(dataclasses.replace(base, **changed)) != of(base)  # --resume grades again
