"""The homework's checks (``benchmarks/homework/checks.py``) as dlgrade tests, one point each."""

import numpy as np
import pytest


@pytest.mark.points(1)
def test_relu(student):
    relu = student("ops.py").relu
    assert np.allclose(relu(np.array([[-1.0, 0.0, 2.0], [3.0, -4.0, 5.0]])), [[0.0, 0.0, 2.0], [3.0, 0.0, 5.0]])


@pytest.mark.points(1)
def test_softmax(student):
    softmax = student("ops.py").softmax
    assert np.allclose(softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])), [[0.09003057, 0.24472847, 0.66524096], [1.0, 0.0, 0.0]])


@pytest.mark.points(1)
def test_mse(student):
    mse = student("ops.py").mse
    assert np.isclose(mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])), 4.0 / 3.0)
