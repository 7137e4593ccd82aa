"""The wire format: plain data crosses both ways exactly, nothing else crosses, and no malformed,
forged or oversized message is ever turned into an object."""

import collections
import io
from typing import NamedTuple

import numpy as np
import pytest

from grader import wire


@pytest.mark.parametrize("value", [
    None, True, 3, 2**70, 1.5, float("nan"), float("inf"), "text", [1, (2, 3)], {"a": np.arange(3)},
    np.zeros((2, 3)), np.arange(4, dtype=np.int64), np.float64(2.5), np.bool_(True), np.zeros(0),
])
def test_wire_round_trip(value):
    back = wire.decode(wire.encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    elif isinstance(value, dict):
        assert np.array_equal(back["a"], value["a"])
    else:
        assert back == value


def handle_table():
    """A worker's side in miniature: each object gets a handle, numbered in the order first seen."""
    table = {}
    return lambda obj: table.setdefault(id(obj), wire.Handle(len(table), type(obj).__name__))


class Cache(dict):
    """A student's own dict, whose methods lie about what it holds."""

    def items(self):
        return iter([("lie", 0)])

    def keys(self):
        return iter(["lie"])


@pytest.mark.parametrize("value", [
    collections.OrderedDict([("W1", np.ones(2)), ("b1", np.zeros(2))]),
    collections.defaultdict(list, {"train_loss": [1.5], "val_acc": [0.5]}),
    Cache(W1=np.ones(2), b1=np.zeros(2)),
], ids=["OrderedDict", "defaultdict", "own class"])
def test_a_dict_subclass_crosses_as_its_items_and_its_handle(value):
    to_handle = handle_table()
    back = wire.decode(wire.encode(value, to_handle))
    assert type(back) is wire.HeldDict and list(back) == list(dict.keys(value))  # what it holds, whatever its methods say
    assert all(np.array_equal(back[k], dict.__getitem__(value, k)) for k in back)
    assert back.held == wire.Handle(0, type(value).__name__)
    assert wire.decode(wire.encode(back)) == wire.Handle(0, type(value).__name__)  # sent back: the object itself
    with pytest.raises(wire.WireError):
        wire.encode(value)  # without a handle table (from the judge): not plain data


@pytest.mark.parametrize("make", [
    lambda: np.arange(12.0).reshape(3, 4),
    lambda: np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    lambda: np.arange(12.0).reshape(3, 4).T,
    lambda: np.arange(24.0).reshape(2, 3, 4)[:, 1:, ::2],
    lambda: np.arange(10, dtype=np.int64)[::3],
    lambda: np.arange(24.0).reshape(2, 3, 4).transpose(1, 0, 2),
], ids=["C", "F", "transposed", "slice", "int_slice", "3d_transposed"])
def test_arrays_keep_their_kind_of_layout(make):
    value = make()
    back = wire.decode(wire.encode(value))
    assert back.dtype == value.dtype and np.array_equal(back, value) and back.flags.writeable
    assert (back.flags.c_contiguous, back.flags.f_contiguous) == (value.flags.c_contiguous, value.flags.f_contiguous)


def test_a_forged_layout_is_rejected():
    message = wire.encode(np.zeros((2, 3))).replace(b'"layout": "C"', b'"layout": "X"')
    with pytest.raises(wire.WireError, match="layout"):
        wire.decode(message)


@pytest.mark.parametrize("value", [object(), np.array([object()]), np.zeros(2).view(type("Sub", (np.ndarray,), {})), {1: 2}])
def test_wire_refuses_objects_without_a_handle_table(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


@pytest.mark.parametrize("message", [b"", b"\x00" * 8, b"\x00\x00\x00\x00\x00\x00\x00\x02{}", wire.encode(1)[:-1] + b"x"])
def test_wire_rejects_malformed_messages(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_generators_cross_as_their_state():
    rng = np.random.default_rng(7)
    rng.standard_normal(5)
    copy = wire.decode(wire.encode([rng]))[0]
    assert type(copy) is np.random.Generator and copy is not rng
    assert np.array_equal(copy.standard_normal(4), rng.standard_normal(4))


def test_a_forged_generator_state_is_rejected():
    message = wire.encode(np.random.default_rng(0)).replace(b"PCG64", b"EVIL1")
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_a_named_tuple_crosses_as_its_items_and_its_handle():
    class Grads(NamedTuple):
        dx: np.ndarray
        db: float

    class Lying(tuple):
        def __iter__(self):
            return iter(("lie",))

    to_handle = handle_table()
    grads, lying = Grads(np.ones(2), 0.5), Lying((1, 2))
    back = wire.decode(wire.encode([grads, lying], to_handle))
    assert type(back[0]) is wire.HeldTuple and np.array_equal(back[0][0], np.ones(2)) and back[0][1] == 0.5
    assert back[0].held == wire.Handle(0, "Grads")
    assert back[1] == (1, 2) and back[1].held == wire.Handle(1, "Lying")  # the items it holds, whatever its methods say
    again = wire.decode(wire.encode(back[0]))  # sent back: the handle of the object itself
    assert again == wire.Handle(0, "Grads")
    with pytest.raises(wire.WireError):
        wire.encode(grads)  # without a handle table (from the judge): not plain data


def test_handles_cross_as_handles():
    to_handle = handle_table()
    thing = object()
    back = wire.decode(wire.encode({"x": thing, "y": [thing]}, to_handle))
    assert back["x"] == back["y"][0] == wire.Handle(0, "object")


def test_copy_laid_out_is_a_writable_copy_in_the_same_layout():
    for value in (np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3).T, np.arange(12.0).reshape(3, 4)[:, ::2]):
        copy = wire.copy_laid_out(value)
        assert copy is not value and not np.shares_memory(copy, value) and copy.flags.writeable
        assert np.array_equal(copy, value)
        assert (copy.flags.c_contiguous, copy.flags.f_contiguous) == (value.flags.c_contiguous, value.flags.f_contiguous)


def test_framed_messages_round_trip_and_end_cleanly():
    stream = io.BytesIO()
    wire.write_message(stream, b"first")
    wire.write_message(stream, b"")
    stream.seek(0)
    assert wire.read_message(stream) == b"first"
    assert wire.read_message(stream) == b""
    with pytest.raises(EOFError):
        wire.read_message(stream)


def test_a_message_over_the_limit_is_refused_before_it_is_read():
    announced = wire.MAX_MESSAGE_BYTES + 1
    stream = io.BytesIO(announced.to_bytes(8, "big"))  # the length alone: its body is never read
    with pytest.raises(wire.WireError, match="exceeds the limit"):
        wire.read_message(stream)


def test_a_truncated_message_is_the_end_of_the_channel():
    stream = io.BytesIO((10).to_bytes(8, "big") + b"short")
    with pytest.raises(EOFError):
        wire.read_message(stream)
