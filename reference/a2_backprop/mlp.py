"""A fully connected network trained with mini-batch SGD.

layer_sizes = [D, H1, ..., C] gives L = len(layer_sizes) - 1 linear layers with parameters
"W1", "b1", ..., "WL", "bL" (W_l of shape (in, out)), a ReLU after every layer but the last,
and a softmax cross-entropy loss on the logits (N, C).
"""

import numpy as np

from layers import linear_backward, linear_forward


def init_mlp(layer_sizes, rng):
    """W_l ~ N(0, 2 / fan_in) of shape (fan_in, fan_out) (Kaiming normal), b_l = 0."""
    ### BEGIN SOLUTION
    params = {}
    for l, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{l}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params[f"b{l}"] = np.zeros(fan_out)
    return params
    ### END SOLUTION


def _num_layers(params):
    return len(params) // 2


def _forward(params, x):
    """Logits (N, C) and the caches: per layer (linear cache, pre-activation or None)."""
    ### BEGIN SOLUTION
    h = np.asarray(x, dtype=np.float64)
    L = _num_layers(params)
    caches = []
    for l in range(1, L + 1):
        a, linear_cache = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
        h = np.maximum(a, 0.0) if l < L else a
        caches.append((linear_cache, a if l < L else None))
    return h, caches
    ### END SOLUTION


def mlp_forward(params, x):
    """Logits (N, C) for inputs x (N, D)."""
    ### BEGIN SOLUTION
    return _forward(params, x)[0]
    ### END SOLUTION


def _softmax_cross_entropy(scores, y):
    """mean_n(-log softmax(scores)[n, y_n]) and its gradient (softmax - onehot) / N; stable."""
    ### BEGIN SOLUTION
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = scores.shape[0]
    rows = np.arange(n)
    dscores = np.exp(logp)
    dscores[rows, y] -= 1.0
    return -np.mean(logp[rows, y]), dscores / n
    ### END SOLUTION


def mlp_loss(params, x, y, reg=0.0):
    """loss = softmax cross-entropy (mean over the batch) + 0.5 * reg * sum_l sum(W_l ** 2).

    x: (N, D), y: (N,) integer labels. Returns (loss, grads) with grads keyed like params;
    the penalty adds reg * W_l to dW_l (not to the biases).
    """
    ### BEGIN SOLUTION
    scores, caches = _forward(params, x)
    data_loss, dh = _softmax_cross_entropy(scores, y)
    L = _num_layers(params)
    penalty = 0.5 * reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))
    grads = {}
    for l in range(L, 0, -1):
        linear_cache, a = caches[l - 1]
        if a is not None:  # back through the ReLU: derivative 0 at a == 0
            dh = np.where(a > 0, dh, 0.0)
        dh, dW, db = linear_backward(dh, linear_cache)
        grads[f"W{l}"] = dW + reg * params[f"W{l}"]
        grads[f"b{l}"] = db
    return float(data_loss + penalty), grads
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    params = init_mlp(layer_sizes, rng)
    x_train = np.asarray(x_train, dtype=np.float64)
    n = x_train.shape[0]
    history = {"train_loss": [], "val_acc": []}
    for _ in range(epochs):
        order = rng.permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            loss, grads = mlp_loss(params, x_train[batch], y_train[batch], reg=reg)
            params = {k: params[k] - lr * grads[k] for k in params}
            batch_losses.append(loss)
        history["train_loss"].append(float(np.mean(batch_losses)))
        history["val_acc"].append(accuracy(params, x_val, y_val))
    return params, history
    ### END SOLUTION
