"""The worker boundary: nothing student code does reaches the judging process."""

import numpy as np
import pytest

from grader.forkserver import ForkServer
from grader.remote import RemoteObject, StudentCodeError, Worker
from grader.tolerance import assert_close

HOSTILE = '''
import os, sys, time
import numpy as np
import numpy.testing

# Patches that would fool an in-process judge.
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
try:
    import pytest
    pytest.fail = lambda *a, **k: None
except ImportError:
    pass
import builtins
builtins.abs = lambda x: 0

class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __float__(self): return 42.0

class LyingArray(np.ndarray):
    def __eq__(self, other): return np.ones(self.shape, dtype=bool)

def double(x):
    return 2 * x

def wrong(x):
    return 3 * x

def liar(x):
    return Liar()

def lying_array(x):
    return (2 * x).view(LyingArray)

def exits(x):
    sys.exit(0)

def hard_exit(x):
    os._exit(0)

def hangs(x):
    while True:
        pass

def raises_base(x):
    raise BaseException("not an Exception")

def floods(x):
    sys.stdout.write("x" * 10_000_000)
    return 2 * x

def mutates(x):
    x[...] = 0
    return x

from collections import namedtuple
Grads = namedtuple("Grads", "dx db")

def named_grads(x):
    return Grads(2 * x, 1.5)

def field_of(grads):
    return grads.db

class Counter:
    def __init__(self, start):
        self.count = start
    def step(self, k):
        self.count += k
        return self.count > 3
    def __add__(self, other):
        return Counter(self.count + (other.count if isinstance(other, Counter) else other))
'''


@pytest.fixture(params=["exec", "fork"])
def worker(request, tmp_path):
    """A worker started as a new interpreter each time, or forked by a fork server."""
    (tmp_path / "hostile.py").write_text(HOSTILE)
    server = ForkServer() if request.param == "fork" else None
    w = Worker(timeout=5.0, spawner=server.spawner() if server else None)
    yield w, tmp_path / "hostile.py"
    w.close()
    if server is not None:
        server.close()


def test_patches_in_the_worker_do_not_reach_the_judge(worker):
    w, path = worker
    module = w.load(path, label="hostile.py")
    x = np.arange(6.0).reshape(2, 3)
    assert_close(module.double(x), 2 * x)
    with pytest.raises(AssertionError):
        assert_close(module.wrong(x), 2 * x)
    assert not np.allclose(np.zeros(2), np.ones(2))
    assert abs(-3) == 3


def test_lying_objects_come_back_as_handles_that_fail_every_check(worker):
    w, path = worker
    module = w.load(path, label="hostile.py")
    x = np.ones(3)
    for result in (module.liar(x), module.lying_array(x)):
        assert isinstance(result, RemoteObject)
        assert result != 2 * x or result is not None  # a handle only equals itself
        assert (result == 2 * x) is False
        with pytest.raises(TypeError, match="expected a plain value"):
            bool(result)
        with pytest.raises(AssertionError, match="expected a numpy float64 array"):
            assert_close(result, 2 * x)


@pytest.mark.parametrize("name, message", [
    ("exits", "raised SystemExit: 0"),
    ("raises_base", "raised BaseException: not an Exception"),
    ("hard_exit", "ended unexpectedly"),
    ("hangs", "did not finish within"),
])
def test_exits_crashes_and_hangs_fail_only_that_call(worker, name, message):
    w, path = worker
    w.timeout = 1.0
    module = w.load(path, label="hostile.py")
    with pytest.raises(StudentCodeError, match=message):
        getattr(module, name)(np.ones(2))
    again = w.load(path, label="hostile.py")
    assert_close(again.double(np.ones(2)), np.full(2, 2.0))


def test_a_hanging_function_costs_one_time_limit_for_every_call(worker):
    w, path = worker
    w.timeout = 1.0
    module = w.load(path, label="hostile.py")
    with pytest.raises(StudentCodeError, match="did not finish within 1 s") as first:
        module.hangs(np.ones(2))
    spent = w.spent
    with pytest.raises(StudentCodeError) as again:
        module.hangs(np.zeros(3))
    assert str(again.value) == str(first.value) and "not run again" in str(first.value)
    assert w.spent == spent  # failed at once: nothing ran
    assert_close(w.load(path, label="hostile.py").double(np.ones(2)), np.full(2, 2.0))


def test_the_budget_bounds_calls_that_never_answer_and_then_none_run(tmp_path):
    (tmp_path / "hostile.py").write_text(HOSTILE)
    w = Worker(timeout=60.0)
    try:
        module = w.load(path := tmp_path / "hostile.py", label="hostile.py")
        w.budget = 1.5  # from here on (a load on a busy machine may take longer than that)
        for _ in range(3):
            assert_close(module.double(np.ones(2)), np.full(2, 2.0))
        with pytest.raises(StudentCodeError, match="raised"):
            module.raises_base(np.ones(2))
        assert w.spent == 0  # calls that answered, even with an exception, spend nothing
        with pytest.raises(StudentCodeError, match=r"hostile.py: hangs did not finish and was stopped: the run's time budget for student code \(1.5 s\) is spent"):
            module.hangs(np.ones(2))
        assert w.spent >= 1.5
        for call in (lambda: module.double(np.ones(2)), lambda: w.load(path, label="hostile.py")):
            with pytest.raises(StudentCodeError, match=r"was not run: the run's time budget for student code \(1.5 s\) is spent"):
                call()
    finally:
        w.close()


def test_a_slow_load_that_answers_is_not_stopped_by_the_budget(tmp_path):
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(1.0)\n\ndef one():\n    return 1.0\n")
    w = Worker(timeout=60.0, budget=0.2)
    try:
        assert w.load(tmp_path / "slow.py", label="slow.py").one() == 1.0
        assert w.spent == 0
    finally:
        w.close()


def test_a_notebooks_slow_cell_is_stopped_within_the_load_limit(tmp_path):
    """A notebook whose experiment cell would run past the load limit loads, that cell stopped."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("def one():\n    return 1.0"), nbformat.v4.new_code_cell("import time\ntime.sleep(30)")]
    nbformat.write(notebook, str(tmp_path / "slow.ipynb"))
    w = Worker(timeout=60.0, load_timeout=3.0)
    try:
        assert w.load(tmp_path / "slow.ipynb", label="slow.ipynb").one() == 1.0
    finally:
        w.close()


def test_without_a_budget_only_each_call_is_limited(tmp_path):
    (tmp_path / "hostile.py").write_text(HOSTILE)
    w = Worker(timeout=0.5, budget=None)
    try:
        module = w.load(tmp_path / "hostile.py", label="hostile.py")
        with pytest.raises(StudentCodeError, match="did not finish within 0.5 s"):
            module.hangs(np.ones(2))
        assert_close(w.load(tmp_path / "hostile.py", label="hostile.py").double(np.ones(2)), np.full(2, 2.0))
    finally:
        w.close()


def test_output_flood_does_not_corrupt_results(worker):
    w, path = worker
    module = w.load(path, label="hostile.py")
    assert_close(module.floods(np.ones(2)), np.full(2, 2.0))


def test_arguments_are_copies_and_shared_values_show_mutation(worker):
    w, path = worker
    module = w.load(path, label="hostile.py")
    x = np.ones(3)
    module.mutates(x)
    assert np.array_equal(x, np.ones(3))
    shared = module.share(x)
    module.mutates(shared)
    assert np.array_equal(module.fetch(shared), np.zeros(3))


def test_shared_values_hold_the_students_own_objects(worker):
    """A layer's cache may be any object: shared again, it reaches student code as that object."""
    w, path = worker
    module = w.load(path, label="hostile.py")
    counter = module.Counter(1)
    whole, in_tuple, in_dict = module.share(counter), module.share((np.ones(2), counter)), module.share({"c": [counter]})
    for found in (module.fetch(whole), module.fetch(in_tuple)[1], module.fetch(in_dict)["c"][0]):
        assert isinstance(found, RemoteObject) and found.count == 1
    assert whole.step(5) is True  # a method of the student's object, not of a stray handle
    assert counter.count == 6  # the same object


def test_objects_live_in_the_worker(worker):
    w, path = worker
    module = w.load(path, label="hostile.py")
    counter = module.Counter(1)
    assert counter.step(1) is False
    assert counter.step(2) is True
    assert counter.count == 4
    total = counter + 10
    assert total.count == 14
    assert (counter + counter).count == 8


def test_stale_handles_say_so_after_a_restart(worker):
    w, path = worker
    w.timeout = 1.0
    module = w.load(path, label="hostile.py")
    counter = module.Counter(1)
    with pytest.raises(StudentCodeError):
        module.hard_exit(np.ones(1))
    with pytest.raises(StudentCodeError, match="restarted"):
        counter.step(1)


def test_reference_is_not_importable_from_the_worker(tmp_path):
    (tmp_path / "peek.py").write_text("def peek():\n    import reference\n    return 1\n")
    w = Worker(timeout=5.0)
    try:
        module = w.load(tmp_path / "peek.py", label="peek.py")
        with pytest.raises(StudentCodeError, match="not available to student code"):
            module.peek()
    finally:
        w.close()


def test_a_file_that_fails_to_load_is_reported(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    w = Worker(timeout=5.0)
    try:
        with pytest.raises(StudentCodeError, match="SyntaxError"):
            w.load(tmp_path / "broken.py", label="broken.py")
    finally:
        w.close()


def test_map_calls_is_one_round_trip(worker):
    w, path = worker
    module = w.load(path, label="hostile.py")
    calls = [((np.full(2, float(k)),), {}) for k in range(50)]
    results = module.double.map_calls(calls, None)
    assert [float(r[0]) for r in results] == [2.0 * k for k in range(50)]


def test_a_syntax_error_says_where_it_is_without_the_import_machinery(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("x = 1\ndef oops(:\n    pass\n")
    worker = Worker()
    try:
        with pytest.raises(StudentCodeError) as caught:
            worker.load(broken, label="broken.py")
    finally:
        worker.close()
    message = str(caught.value)
    assert "SyntaxError: invalid syntax" in message and "line 2" in message and "def oops(:" in message
    assert "<frozen" not in message


def test_a_named_tuple_comes_back_as_a_tuple_and_goes_back_as_itself(worker):
    """A student's named tuple is a tuple to the judge (its items plain data) and, passed back,
    the student's object again (its fields still work)."""
    w, path = worker
    module = w.load(path, label="hostile.py")
    grads = module.named_grads(np.ones(2))
    assert isinstance(grads, tuple) and len(grads) == 2
    dx, db = grads
    assert type(dx) is np.ndarray and np.array_equal(dx, 2 * np.ones(2)) and db == 1.5
    assert module.field_of(grads) == 1.5
