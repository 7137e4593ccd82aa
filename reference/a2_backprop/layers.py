"""The fully connected (affine) layer, with its weight stored as (D, M): out = x @ W + b.

(PyTorch's nn.Linear stores the transpose, (M, D), and computes x @ W.T + b.)
"""

import numpy as np


def linear_forward(x, W, b):
    """out = x @ W + b.  x: (N, D), W: (D, M), b: (M,) -> out: (N, M). Returns (out, cache)."""
    ### BEGIN SOLUTION
    x, W, b = (np.asarray(a, dtype=np.float64) for a in (x, W, b))
    return x @ W + b, (x, W)
    ### END SOLUTION


def linear_backward(dout, cache):
    """dx = dout @ W.T (N, D), dW = x.T @ dout (D, M), db = sum_n dout (M,).

    dout: (N, M). Returns (dx, dW, db).
    """
    ### BEGIN SOLUTION
    x, W = cache
    dout = np.asarray(dout, dtype=np.float64)
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)
    ### END SOLUTION
