"""Activation functions: forward/backward pairs, softmax and log-softmax.

Every function takes float64 arrays of any shape, returns new float64 arrays and never
modifies its arguments. A backward pass gets ``dout`` (the upstream gradient, shaped like
the forward output) and the cache its forward returned, and returns ``dx``.
"""

import numpy as np


def relu_forward(x):
    """out = max(x, 0), elementwise. Returns (out, cache)."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """dx = dout * [x > 0]; the derivative at x == 0 is taken as 0, as PyTorch does."""
    x = cache
    return np.where(x > 0, np.asarray(dout, dtype=np.float64), 0.0)


def leaky_relu_forward(x, alpha=0.01):
    """out = x if x > 0 else alpha * x, elementwise. Returns (out, cache)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout, cache):
    """dx = dout if x > 0 else alpha * dout (alpha at x == 0, as PyTorch does)."""
    x, alpha = cache
    dout = np.asarray(dout, dtype=np.float64)
    return np.where(x > 0, dout, alpha * dout)


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)), stable: exp is only ever taken of -|x| <= 0.

    For x >= 0 this is 1 / (1 + e^-|x|), for x < 0 the equal e^-|x| / (1 + e^-|x|).
    Returns (out, cache).
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))  # in (0, 1]: no overflow for any x
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return out, out


def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s), with s = sigmoid(x) the forward output."""
    s = cache
    return np.asarray(dout, dtype=np.float64) * s * (1.0 - s)


def tanh_forward(x):
    """out = tanh(x), elementwise. Returns (out, cache)."""
    out = np.tanh(np.asarray(x, dtype=np.float64))
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * (1 - t ** 2), with t = tanh(x) the forward output."""
    t = cache
    return np.asarray(dout, dtype=np.float64) * (1.0 - t * t)


def log_softmax(x):
    """log softmax over the last axis, stable: x - m - log(sum(exp(x - m))), m = max(x).

    x: (..., C) -> (..., C). After the shift every exponent is <= 0 and the largest is 0,
    so the sum is in [1, C] and its log never overflows or gives -inf.
    """
    x = np.asarray(x, dtype=np.float64)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax(x):
    """softmax over the last axis, stable: exp(x - m) / sum(exp(x - m)), m = max(x).

    x: (..., C) -> (..., C), each row non-negative and summing to 1.
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
