"""Losses, each returning (loss, grad): the loss as a Python float and its gradient with
respect to the first argument, shaped like it. "mean" as in PyTorch's default reduction.
"""

import numpy as np

from activations import log_softmax


def mse_loss(pred, target):
    """loss = mean((pred - target) ** 2) over all elements; grad = 2 (pred - target) / n.

    pred, target: same shape, n elements.
    """
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def bce_with_logits_loss(logits, target):
    """Binary cross-entropy on logits z with targets t in [0, 1], mean over all n elements.

    loss = mean(t * softplus(-z) + (1 - t) * softplus(z)), since -log(sigmoid(z)) = softplus(-z)
    and -log(1 - sigmoid(z)) = softplus(z); softplus(u) = log(1 + e^u) = logaddexp(0, u) is
    stable. grad = (sigmoid(z) - t) / n.
    """
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    loss = np.mean(t * np.logaddexp(0.0, -z) + (1.0 - t) * np.logaddexp(0.0, z))
    sigmoid = np.exp(-np.logaddexp(0.0, -z))
    return float(loss), (sigmoid - t) / z.size


def softmax_cross_entropy_loss(logits, labels):
    """loss = mean_n(-log softmax(logits)[n, labels[n]]); grad = (softmax(logits) - onehot) / N.

    logits: (N, C); labels: (N,) integers in [0, C). Stable through log_softmax.
    """
    logp = log_softmax(logits)
    n = logp.shape[0]
    rows = np.arange(n)
    loss = -np.mean(logp[rows, labels])
    grad = np.exp(logp)
    grad[rows, labels] -= 1.0
    return float(loss), grad / n
