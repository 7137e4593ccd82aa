"""Three numpy functions: the homework every tool of benchmarks/speed.py grades."""

import numpy as np


def relu(x):
    """max(x, 0), elementwise, as a new float64 array."""
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    ### END SOLUTION


def softmax(x):
    """exp(x) / sum(exp(x)) over the last axis, stable for large |x|."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


def mse(pred, target):
    """The mean of (pred - target) ** 2 over all entries, as a float."""
    ### BEGIN SOLUTION
    return float(np.mean((np.asarray(pred, dtype=np.float64) - target) ** 2))
    ### END SOLUTION
