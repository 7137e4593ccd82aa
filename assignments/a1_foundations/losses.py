"""Losses, each returning (loss, grad): the loss as a Python float and its gradient with
respect to the first argument, shaped like it. "mean" as in PyTorch's default reduction.
"""

import numpy as np

from activations import log_softmax


def mse_loss(pred, target):
    """loss = mean((pred - target) ** 2) over all elements; grad = 2 (pred - target) / n.

    pred, target: same shape, n elements.
    """
    raise NotImplementedError("Implement mse_loss: see the assignment's README.md")


def bce_with_logits_loss(logits, target):
    """Binary cross-entropy on logits z with targets t in [0, 1], mean over all n elements.

    loss = mean(t * softplus(-z) + (1 - t) * softplus(z)), since -log(sigmoid(z)) = softplus(-z)
    and -log(1 - sigmoid(z)) = softplus(z); softplus(u) = log(1 + e^u) = logaddexp(0, u) is
    stable. grad = (sigmoid(z) - t) / n.
    """
    raise NotImplementedError("Implement bce_with_logits_loss: see the assignment's README.md")


def softmax_cross_entropy_loss(logits, labels):
    """loss = mean_n(-log softmax(logits)[n, labels[n]]); grad = (softmax(logits) - onehot) / N.

    logits: (N, C); labels: (N,) integers in [0, C). Stable through log_softmax.
    """
    raise NotImplementedError("Implement softmax_cross_entropy_loss: see the assignment's README.md")
