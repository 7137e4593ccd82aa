"""The fully connected (affine) layer, with its weight stored as (D, M): out = x @ W + b.

(PyTorch's nn.Linear stores the transpose, (M, D), and computes x @ W.T + b.)
"""

import numpy as np


def linear_forward(x, W, b):
    """out = x @ W + b.  x: (N, D), W: (D, M), b: (M,) -> out: (N, M). Returns (out, cache)."""
    raise NotImplementedError("Implement linear_forward: see the assignment's README.md")


def linear_backward(dout, cache):
    """dx = dout @ W.T (N, D), dW = x.T @ dout (D, M), db = sum_n dout (M,).

    dout: (N, M). Returns (dx, dW, db).
    """
    raise NotImplementedError("Implement linear_backward: see the assignment's README.md")
