"""Recording a test's calls to student functions: copies made before the call, a bounded log."""

import types
from collections import defaultdict, namedtuple

import numpy as np
import pytest

from grader import wire
from grader.calls import FETCH, LIMIT, SHARE, Call, CallLog, Opaque, RecordedFunction, is_plain, plain_copy
from grader.submission import LocalModule, StudentFile


def test_plain_copy_copies_arrays_in_their_layout_and_walks_containers():
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    value = {"x": x, "pair": (x, [1, 2.5, "s", None]), "n": np.float64(3.0)}
    copied = plain_copy(value)
    x[0, 0] = 99.0
    assert copied["x"][0, 0] == 0.0 and copied["pair"][0][0, 0] == 0.0
    assert copied["x"].flags.f_contiguous and not copied["x"].flags.c_contiguous
    assert copied["pair"][1] == [1, 2.5, "s", None] and type(copied["pair"]) is tuple
    assert is_plain(copied)


def test_plain_copy_reads_tuple_and_dict_subclasses_as_their_items():
    grads = namedtuple("Grads", "dx dw db")(np.ones(2), np.zeros(2), 1.0)
    history = defaultdict(list, loss=[0.5])
    held = wire.HeldTuple((np.ones(2), 2.0), held=object())  # a student's named tuple, answered by the worker
    copied = plain_copy((grads, history, held))
    assert type(copied[0]) is tuple and copied[0][0] is not grads.dx and copied[0][2] == 1.0
    assert type(copied[1]) is dict and copied[1] == {"loss": [0.5]}
    assert type(copied[2]) is tuple and copied[2][1] == 2.0
    assert is_plain(copied)


def test_plain_copy_keeps_a_generators_state_and_other_objects_as_opaque():
    rng = np.random.default_rng(5)
    copied = plain_copy(rng)
    assert copied is not rng and copied.random() == rng.random()

    class Cache:
        pass

    cache = Cache()
    wrapped = plain_copy((np.ones(2), cache))
    assert type(wrapped[1]) is Opaque and wrapped[1].value is cache
    assert not is_plain(wrapped) and not is_plain({"c": wrapped[1]})


def _clip_in_place(x, low=0.0):
    np.maximum(x, low, out=x)
    return x, "cache"


def test_a_call_is_recorded_with_its_arguments_as_they_were_before_it():
    log = CallLog()
    clip = RecordedFunction(_clip_in_place, log, "a1", "ops", "clip")
    x = np.array([-1.0, 2.0])
    result = clip(x, low=0.5)
    [call] = list(log)
    assert (call.assignment, call.file, call.function) == ("a1", "ops", "clip")
    assert np.array_equal(call.args[0], [-1.0, 2.0]) and call.kwargs == {"low": 0.5}
    assert np.array_equal(call.result[0], [0.5, 2.0]) and call.result[1] == "cache"
    assert call.returned is result and call.passed[0] is x and call.plain
    x[1] = 7.0  # the recorded result is a copy: later changes do not reach it
    assert call.result[0][1] == 2.0


def test_an_exception_is_recorded_and_raised_unchanged():
    log = CallLog()

    def fails(x):
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        RecordedFunction(fails, log, "a1", "ops", "fails")(1.0)
    [call] = list(log)
    assert type(call.raised) is ValueError and call.result is None


def test_the_function_is_itself_otherwise_and_batches_are_not_recorded():
    log = CallLog()
    square = RecordedFunction(lambda x: (x * x, None), log, "a1", "ops", "square")
    assert square.__name__ == "square"
    assert square.map_calls([((2.0,), {}), ((3.0,), {})], pick=0) == [4.0, 9.0]
    assert len(log) == 0

    class Batched:
        def __call__(self, x):
            return x

        def map_calls(self, calls, pick=None):
            return ["batched"] * len(calls)

        label = "the function's own attribute"

    recorded = RecordedFunction(Batched(), log, "a1", "ops", "f")
    assert recorded.map_calls([((1,), {})]) == ["batched"] and recorded.label == "the function's own attribute"
    assert len(log) == 0


def test_the_log_keeps_the_last_calls_only_and_clears():
    log = CallLog()
    for i in range(LIMIT + 10):
        log.append(Call("a1", "ops", "f", (i,), {}, result=i))
    assert len(log) == LIMIT
    assert [c.args[0] for c in log][-1] == LIMIT + 9 and [c.args[0] for c in log][0] == 10
    log.clear()
    assert len(log) == 0


def test_share_and_fetch_through_a_student_file_are_recorded(tmp_path):
    log = CallLog()
    file = StudentFile("m.py (a0)", tmp_path / "m.py", LocalModule(types.ModuleType("m")), None, calls=log, assignment="a0", file="m")
    params = [np.ones(2)]
    shared = file.share(params)
    shared[0] += 1.0  # as student code updates a shared value in place
    assert np.array_equal(file.fetch(shared)[0], [2.0, 2.0])
    share, fetch = list(log)
    assert (share.function, fetch.function) == (SHARE, FETCH) and share.returned is shared and fetch.passed[0] is shared
    assert np.array_equal(share.args[0][0], [1.0, 1.0]) and np.array_equal(fetch.result[0], [2.0, 2.0])


def test_methods_and_attributes_of_an_object_a_recorded_call_made_are_recorded():
    from grader import wire
    from grader.calls import ObjectRecorder
    from grader.remote import RemoteObject

    worker = types.SimpleNamespace(incarnation=0, _release=lambda *a: None)
    made, stray = RemoteObject(worker, wire.Handle(1, "SGD")), RemoteObject(worker, wire.Handle(2, "SGD"))
    log = CallLog()
    log.append(Call("a7", "optim", "SGD", (), {"lr": 0.1}, result=Opaque(made), returned=made))
    recorder = ObjectRecorder(log)
    grads = [np.ones(2)]
    assert recorder.method(made, "step", lambda: None, (grads,), {}) is None
    recorder.attribute(made, "lr", 0.1)
    assert recorder.method(stray, "step", lambda: "not recorded", (grads,), {}) == "not recorded"
    recorder.attribute(stray, "lr", 0.1)
    _, step, lr = list(log)
    assert (step.function, step.owner, lr.function, lr.result, lr.owner) == ("SGD.step", made, "SGD.lr", 0.1, made)
    assert np.array_equal(step.args[0][0], [1.0, 1.0]) and step.args[0][0] is not grads[0]
