"""The homework's three checks, one line each, as every tool of ``benchmarks/speed.py`` runs them:
dlgrade's tests (``assignments/hw_numpy/test_ops.py``) and plain pytest's (``plain/test_ops.py``)
spell the same lines out; nbgrader's test cells and Otter's test cases are made from this table.
Each line sees ``np`` and the student's ``relu``, ``softmax`` and ``mse``.
"""

CHECKS = {
    "relu": "assert np.allclose(relu(np.array([[-1.0, 0.0, 2.0], [3.0, -4.0, 5.0]])), [[0.0, 0.0, 2.0], [3.0, 0.0, 5.0]])",
    "softmax": "assert np.allclose(softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])), [[0.09003057, 0.24472847, 0.66524096], [1.0, 0.0, 0.0]])",
    "mse": "assert np.isclose(mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])), 4.0 / 3.0)",
}
