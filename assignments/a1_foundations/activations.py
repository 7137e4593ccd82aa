"""Activation functions: forward/backward pairs, softmax and log-softmax.

Every function takes float64 arrays of any shape, returns new float64 arrays and never
modifies its arguments. A backward pass gets ``dout`` (the upstream gradient, shaped like
the forward output) and the cache its forward returned, and returns ``dx``.
"""

import numpy as np


def relu_forward(x):
    """out = max(x, 0), elementwise. Returns (out, cache)."""
    raise NotImplementedError("Implement relu_forward: see the assignment's README.md")


def relu_backward(dout, cache):
    """dx = dout * [x > 0]; the derivative at x == 0 is taken as 0, as PyTorch does."""
    raise NotImplementedError("Implement relu_backward: see the assignment's README.md")


def leaky_relu_forward(x, alpha=0.01):
    """out = x if x > 0 else alpha * x, elementwise. Returns (out, cache)."""
    raise NotImplementedError("Implement leaky_relu_forward: see the assignment's README.md")


def leaky_relu_backward(dout, cache):
    """dx = dout if x > 0 else alpha * dout (alpha at x == 0, as PyTorch does)."""
    raise NotImplementedError("Implement leaky_relu_backward: see the assignment's README.md")


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)), stable: exp is only ever taken of -|x| <= 0.

    For x >= 0 this is 1 / (1 + e^-|x|), for x < 0 the equal e^-|x| / (1 + e^-|x|).
    Returns (out, cache).
    """
    raise NotImplementedError("Implement sigmoid_forward: see the assignment's README.md")


def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s), with s = sigmoid(x) the forward output."""
    raise NotImplementedError("Implement sigmoid_backward: see the assignment's README.md")


def tanh_forward(x):
    """out = tanh(x), elementwise. Returns (out, cache)."""
    raise NotImplementedError("Implement tanh_forward: see the assignment's README.md")


def tanh_backward(dout, cache):
    """dx = dout * (1 - t ** 2), with t = tanh(x) the forward output."""
    raise NotImplementedError("Implement tanh_backward: see the assignment's README.md")


def log_softmax(x):
    """log softmax over the last axis, stable: x - m - log(sum(exp(x - m))), m = max(x).

    x: (..., C) -> (..., C). After the shift every exponent is <= 0 and the largest is 0,
    so the sum is in [1, C] and its log never overflows or gives -inf.
    """
    raise NotImplementedError("Implement log_softmax: see the assignment's README.md")


def softmax(x):
    """softmax over the last axis, stable: exp(x - m) / sum(exp(x - m)), m = max(x).

    x: (..., C) -> (..., C), each row non-negative and summing to 1.
    """
    raise NotImplementedError("Implement softmax: see the assignment's README.md")
