"""pytest's floor: the homework's checks (``checks.py``) as plain pytest tests of the student's
``ops.py``, found through the ``HOMEWORK_OPS`` environment variable (a path)."""

import importlib.util
import os

import numpy as np
import pytest


@pytest.fixture(scope="module")
def ops():
    spec = importlib.util.spec_from_file_location("ops", os.environ["HOMEWORK_OPS"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_relu(ops):
    relu = ops.relu
    assert np.allclose(relu(np.array([[-1.0, 0.0, 2.0], [3.0, -4.0, 5.0]])), [[0.0, 0.0, 2.0], [3.0, 0.0, 5.0]])


def test_softmax(ops):
    softmax = ops.softmax
    assert np.allclose(softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])), [[0.09003057, 0.24472847, 0.66524096], [1.0, 0.0, 0.0]])


def test_mse(ops):
    mse = ops.mse
    assert np.isclose(mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])), 4.0 / 3.0)
