"""A plan: several submissions graded in one pytest run, each test's name carrying its key."""

import pytest

from grader.plan import Planned, param_id, read_plan, strip_param_id, write_plan


def test_a_plan_round_trips(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    planned = [Planned("s0", tmp_path / "a"), Planned("s1.x", tmp_path / "b", frozenset({"test_f", "test_g"}), first_failure=True)]
    write_plan(tmp_path / "plan.json", planned)
    assert read_plan(tmp_path / "plan.json") == {"s0": planned[0], "s1.x": planned[1]}


def test_bad_plans_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="distinct"):
        write_plan(tmp_path / "plan.json", [Planned("k", tmp_path / "a"), Planned("k", tmp_path / "a")])
    with pytest.raises(ValueError, match="letters, digits"):
        Planned("a b", tmp_path / "a")
    write_plan(tmp_path / "plan.json", [Planned("k", tmp_path / "missing")])
    with pytest.raises(ValueError, match="not a directory"):
        read_plan(tmp_path / "plan.json")
    write_plan(tmp_path / "plan.json", [])
    with pytest.raises(ValueError, match="no submission"):
        read_plan(tmp_path / "plan.json")


@pytest.mark.parametrize("name, plain", [
    (f"test_x[{param_id('k')}]", "test_x"),
    (f"test_x[3-{param_id('k')}]", "test_x[3]"),
    (f"test_x[{param_id('k')}-relu]", "test_x[relu]"),
    (f"test_x[a-{param_id('k')}-b]", "test_x[a-b]"),
    (f"test_x[{param_id('k2')}]", f"test_x[{param_id('k2')}]"),  # another submission's id stays
])
def test_strip_param_id(name, plain):
    assert strip_param_id(name, "k") == plain
