"""A fully connected network trained with mini-batch SGD.

layer_sizes = [D, H1, ..., C] gives L = len(layer_sizes) - 1 linear layers with parameters
"W1", "b1", ..., "WL", "bL" (W_l of shape (in, out)), a ReLU after every layer but the last,
and a softmax cross-entropy loss on the logits (N, C).
"""

import numpy as np

from layers import linear_backward, linear_forward


def init_mlp(layer_sizes, rng):
    """W_l ~ N(0, 2 / fan_in) of shape (fan_in, fan_out) (Kaiming normal), b_l = 0."""
    raise NotImplementedError("Implement init_mlp: see the assignment's README.md")


def _num_layers(params):
    return len(params) // 2


def _forward(params, x):
    """Logits (N, C) and the caches: per layer (linear cache, pre-activation or None)."""
    raise NotImplementedError("Implement _forward: see the assignment's README.md")


def mlp_forward(params, x):
    """Logits (N, C) for inputs x (N, D)."""
    raise NotImplementedError("Implement mlp_forward: see the assignment's README.md")


def _softmax_cross_entropy(scores, y):
    """mean_n(-log softmax(scores)[n, y_n]) and its gradient (softmax - onehot) / N; stable."""
    raise NotImplementedError("Implement _softmax_cross_entropy: see the assignment's README.md")


def mlp_loss(params, x, y, reg=0.0):
    """loss = softmax cross-entropy (mean over the batch) + 0.5 * reg * sum_l sum(W_l ** 2).

    x: (N, D), y: (N,) integer labels. Returns (loss, grads) with grads keyed like params;
    the penalty adds reg * W_l to dW_l (not to the biases).
    """
    raise NotImplementedError("Implement mlp_loss: see the assignment's README.md")


def accuracy(params, x, y):
    """Fraction of rows of x whose highest logit is at the label y."""
    return float(np.mean(np.argmax(mlp_forward(params, x), axis=1) == y))


def train_mlp(x_train, y_train, x_val, y_val, layer_sizes, *, lr=0.1, epochs=20,
              batch_size=64, reg=0.0, rng):
    """Mini-batch SGD from init_mlp(layer_sizes, rng): params <- params - lr * grads.

    Every epoch visits the training set in a fresh order, rng.permutation(N), in batches of
    batch_size (the last one may be smaller). Returns (params, history); history["train_loss"]
    holds each epoch's mean batch loss (penalty included), history["val_acc"] the validation
    accuracy after each epoch.
    """
    raise NotImplementedError("Implement train_mlp: see the assignment's README.md")
