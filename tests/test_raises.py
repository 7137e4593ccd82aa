"""``student_raises``: "the student's code raised X" has one answer in both isolation modes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader import student_raises
from grader.remote import StudentCodeError, Worker, builtin_exception
from grader.submission import LocalModule
from grader.loader import load_module_from_path

CODE = '''
class ShapeError(ValueError):
    pass

class Sneaky(RuntimeError):
    """An exception whose message claims what it is not."""

def value_error(x):
    raise ValueError(f"bad x: {x}")

def subclass(x):
    raise ShapeError("wrong shape")

def says_value_error(x):
    raise Sneaky("it raised ValueError, honest")

def returns(x):
    return x

def key_error(x):
    raise KeyError(x)
'''


@pytest.fixture(params=["inprocess", "worker"])
def module(request: pytest.FixtureRequest, tmp_path: Path):
    path = tmp_path / "student.py"
    path.write_text(textwrap.dedent(CODE))
    if request.param == "inprocess":
        yield LocalModule(load_module_from_path(path))
        return
    worker = Worker(timeout=20.0)
    try:
        yield worker.load(path, label="student.py")
    finally:
        worker.close()


def test_the_exception_raised_and_its_subclasses_count(module) -> None:
    assert student_raises(ValueError, module.value_error, 1)
    assert student_raises(ValueError, module.subclass, 1)  # the student's own subclass of ValueError
    assert student_raises(Exception, module.subclass, 1)
    assert student_raises(LookupError, module.key_error, 1)


def test_returning_is_not_raising(module) -> None:
    assert student_raises(ValueError, module.returns, 1) is False


def test_another_exception_fails_the_test_whatever_its_message_says(module) -> None:
    with pytest.raises((RuntimeError, StudentCodeError), match="raised ValueError, honest"):
        student_raises(ValueError, module.says_value_error, 1)
    with pytest.raises((KeyError, StudentCodeError)):
        student_raises(ValueError, module.key_error, 1)


def test_only_builtin_exception_classes_can_be_expected() -> None:
    class Mine(ValueError):
        pass

    with pytest.raises(TypeError, match="built-in exception class"):
        student_raises(Mine, lambda: None)


def test_the_worker_names_only_builtin_classes() -> None:
    assert builtin_exception(["ShapeError", "ValueError", "Exception", "BaseException", "object"]) is ValueError
    assert builtin_exception(["print", "object"]) is None  # a built-in, but not an exception class
    assert builtin_exception("ValueError") is None  # not a list: nothing
    assert builtin_exception([]) is None
