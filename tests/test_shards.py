"""Shards of a roster: disjoint, covering, stable as the roster grows, parsed strictly."""

import pytest

from grader.shards import WHOLE_ROSTER, Shard, ShardError

NAMES = [f"student-{i}" for i in range(300)]


def test_shards_are_disjoint_and_cover_the_roster():
    shards = [Shard(k, 4) for k in range(1, 5)]
    owners = {name: [str(s) for s in shards if s.holds(name)] for name in NAMES}
    assert all(len(found) == 1 for found in owners.values())
    sizes = [sum(s.holds(n) for n in NAMES) for s in shards]
    assert min(sizes) > 40  # the hash spreads 300 names over 4 shards (75 expected each)


def test_a_students_shard_depends_on_the_name_alone():
    # SHA-256 of the name: the same in every process and on every machine (Python's hash() is not)
    assert [n for n in NAMES[:12] if Shard(2, 3).holds(n)] == ["student-2", "student-3", "student-8", "student-10"]
    assert all(WHOLE_ROSTER.holds(n) for n in NAMES)


@pytest.mark.parametrize("text, shard", [("1/1", Shard(1, 1)), (" 2 / 5 ", Shard(2, 5)), ("5/5", Shard(5, 5))])
def test_parse(text, shard):
    assert Shard.parse(text) == shard and str(shard) == text.replace(" ", "")


@pytest.mark.parametrize("text, says", [("0/3", "between 1 and N"), ("4/3", "between 1 and N"), ("2", "K/N"), ("a/b", "K/N"), ("-1/2", "K/N")])
def test_parse_refuses_with_a_message(text, says):
    with pytest.raises(ShardError, match=says):
        Shard.parse(text)
