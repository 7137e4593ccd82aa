"""Known mistakes of a1_foundations (``grader.diagnosis``): judge-only, never released.

Each ``wrong`` computes the mistaken answer from the oracle's inputs, written as the mistake is
usually written, so that a student who made it gets exactly this answer.
"""

import numpy as np

from grader.diagnosis import Function, Mistake, mutated, output, unchanged

ACTIVATIONS = "`activations.py`"  # the handout's sections
LOSSES = "`losses.py`"

relu_forward = Function("activations.py", "relu_forward", graded=output)
relu_backward = Function("activations.py", "relu_backward", forward="relu_forward")
relu_backward_in_place = Function("activations.py", "relu_backward", view=mutated(0), oracle=unchanged(0))  # what it leaves in dout
leaky_relu_backward = Function("activations.py", "leaky_relu_backward", forward="leaky_relu_forward")
sigmoid_forward = Function("activations.py", "sigmoid_forward", graded=output)
sigmoid_backward = Function("activations.py", "sigmoid_backward", forward="sigmoid_forward")
tanh_forward = Function("activations.py", "tanh_forward", graded=output)
tanh_backward = Function("activations.py", "tanh_backward", forward="tanh_forward")
softmax = Function("activations.py", "softmax")
log_softmax = Function("activations.py", "log_softmax")
mse_loss = Function("losses.py", "mse_loss")
bce_with_logits_loss = Function("losses.py", "bce_with_logits_loss")
softmax_cross_entropy_loss = Function("losses.py", "softmax_cross_entropy_loss")


def _relu_through_a_ravel_copy(x):
    out = np.copy(x)  # keeps x's memory order: not C-contiguous when x is not
    flat = out.ravel()  # then a copy, and the writes below never reach out
    flat[flat < 0] = 0.0
    return out


def _stable_log_softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _row_shifted_exp(x):
    return np.exp(x - np.max(x, axis=-1, keepdims=True))


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def _cross_entropy(logits, labels, *, loss_reduce, grad_divisor):
    logp = _stable_log_softmax(logits)
    n = logp.shape[0]
    rows = np.arange(n)
    grad = np.exp(logp)
    grad[rows, labels] -= 1.0
    return float(-loss_reduce(logp[rows, labels])), grad / grad_divisor(n)


def _cross_entropy_labels_as_columns(logits, labels):
    loss, grad = _cross_entropy(logits, labels, loss_reduce=np.mean, grad_divisor=lambda n: n)
    return float(-np.mean(_stable_log_softmax(logits)[:, labels])), grad


MISTAKES = [
    Mistake(
        relu_forward, "writing through ravel() of a copy that keeps the memory order",
        "out.ravel() is a copy when out is not C-contiguous (a transposed or Fortran-ordered input), so the entries set to 0 through it never reach out; build the result with np.maximum(x, 0) or np.where.",
        ACTIVATIONS, _relu_through_a_ravel_copy,
    ),
    Mistake(
        relu_backward, "ReLU gradient masked by the sign of dout",
        "The gradient passes where the forward INPUT x was positive (dx = dout * [x > 0]), whatever the sign of dout.",
        ACTIVATIONS, lambda dout, x: np.where(dout > 0, dout, 0.0),
    ),
    Mistake(
        relu_backward_in_place, "dout modified in place",
        "relu_backward must leave dout alone: build dx as a new array (np.where(x > 0, dout, 0.0)) instead of zeroing entries of dout and returning it.",
        ACTIVATIONS, lambda dout, x: np.where(np.asarray(x) <= 0, 0.0, dout),
    ),
    Mistake(
        leaky_relu_backward, "leaky ReLU gradient with a fixed slope 0.01",
        "For x <= 0 the gradient is alpha * dout with the alpha the forward was called with, not the default 0.01.",
        ACTIVATIONS, lambda dout, x, alpha=0.01: np.where(x > 0, dout, 0.01 * dout),
    ),
    Mistake(
        sigmoid_forward, "sigmoid as exp(x) / (1 + exp(x))",
        "exp(x) overflows to inf for x > 709 and inf / inf is NaN; take exp only of -|x| (1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) for x < 0).",
        ACTIVATIONS, lambda x: np.exp(x) / (1.0 + np.exp(x)),
    ),
    Mistake(
        sigmoid_backward, "sigmoid derivative computed from x instead of sigmoid(x)",
        "The derivative is s * (1 - s) with s = sigmoid(x), the forward OUTPUT: cache the output, or apply sigmoid to the cached x first.",
        ACTIVATIONS, lambda dout, x: dout * x * (1.0 - x),
    ),
    Mistake(
        tanh_forward, "tanh from exponentials",
        "(e^x - e^-x) / (e^x + e^-x) gives inf / inf = NaN for |x| > 710; use np.tanh, which is exact and stable.",
        ACTIVATIONS, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    ),
    Mistake(
        tanh_backward, "tanh derivative computed from x instead of tanh(x)",
        "The derivative is 1 - t ** 2 with t = tanh(x), the forward OUTPUT: cache the output, or apply tanh to the cached x first.",
        ACTIVATIONS, lambda dout, x: dout * (1.0 - x * x),
    ),
    Mistake(
        softmax, "softmax without the max shift",
        "exp(x) overflows for large x and inf / inf is NaN; subtract each row's maximum first, since softmax(x) = softmax(x - max(x)).",
        ACTIVATIONS, lambda x: np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True),
    ),
    Mistake(
        softmax, "softmax over the first axis",
        "Softmax normalises over the LAST axis (each row of class scores sums to 1), not over axis 0.",
        ACTIVATIONS, lambda x: np.exp(x - np.max(x, axis=0, keepdims=True)) / np.sum(np.exp(x - np.max(x, axis=0, keepdims=True)), axis=0, keepdims=True),
    ),
    Mistake(
        softmax, "softmax normalised over the whole array",
        "Divide by the sum over the last axis (np.sum(e, axis=-1, keepdims=True)), so that each row sums to 1, not by the sum of every entry.",
        ACTIVATIONS, lambda x: _row_shifted_exp(x) / np.sum(_row_shifted_exp(x)),
    ),
    Mistake(
        softmax, "softmax normalised over the whole array",
        "Divide by the sum over the last axis (np.sum(e, axis=-1, keepdims=True)), so that each row sums to 1, not by the sum of every entry.",
        ACTIVATIONS, lambda x: np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x))),
    ),
    Mistake(
        log_softmax, "log_softmax as the log of softmax",
        "log(softmax(x)) is -inf as soon as a probability underflows to 0; compute x - m - log(sum(exp(x - m))) with m the row's maximum.",
        ACTIVATIONS, lambda x: np.log(_row_shifted_exp(x) / np.sum(_row_shifted_exp(x), axis=-1, keepdims=True)),
    ),
    Mistake(
        mse_loss, "squared error summed instead of averaged",
        "The loss is the MEAN of (pred - target) ** 2 over all n elements, and its gradient 2 (pred - target) / n.",
        LOSSES, lambda pred, target: (float(np.sum((pred - target) ** 2)), 2.0 * (pred - target)),
    ),
    Mistake(
        mse_loss, "MSE gradient without the factor 2",
        "The derivative of (pred - target) ** 2 is 2 (pred - target): the gradient is 2 (pred - target) / n.",
        LOSSES, lambda pred, target: (float(np.mean((pred - target) ** 2)), (pred - target) / pred.size),
    ),
    Mistake(
        bce_with_logits_loss, "binary cross-entropy through log(sigmoid(z))",
        "log(sigmoid(z)) and log(1 - sigmoid(z)) lose all precision or become -inf for large |z|; use -log sigmoid(z) = logaddexp(0, -z) and -log(1 - sigmoid(z)) = logaddexp(0, z).",
        LOSSES, lambda z, t: (
            float(-np.mean(t * np.log(1.0 / (1.0 + np.exp(-z))) + (1.0 - t) * np.log(1.0 - 1.0 / (1.0 + np.exp(-z))))),
            (1.0 / (1.0 + np.exp(-z)) - t) / z.size,
        ),
    ),
    Mistake(
        bce_with_logits_loss, "binary cross-entropy gradient not divided by n",
        "The loss is a mean over the n elements, so its gradient is (sigmoid(z) - t) / n.",
        LOSSES, lambda z, t: (float(np.mean(t * np.logaddexp(0.0, -z) + (1.0 - t) * np.logaddexp(0.0, z))), _sigmoid(z) - t),
    ),
    Mistake(
        softmax_cross_entropy_loss, "cross-entropy summed over the batch instead of averaged",
        "Both the loss and its gradient are means over the N examples: divide the summed loss and the gradient by N.",
        LOSSES, lambda logits, labels: _cross_entropy(logits, labels, loss_reduce=np.sum, grad_divisor=lambda n: 1),
    ),
    Mistake(
        softmax_cross_entropy_loss, "cross-entropy gradient not divided by N",
        "The loss is a mean over the N examples, so its gradient is (softmax(logits) - onehot(labels)) / N.",
        LOSSES, lambda logits, labels: _cross_entropy(logits, labels, loss_reduce=np.mean, grad_divisor=lambda n: 1),
    ),
    Mistake(
        softmax_cross_entropy_loss, "cross-entropy picks the label columns of every row",
        "logp[:, labels] takes N columns of EVERY row (an N x N array); each example's own entry is logp[np.arange(N), labels].",
        LOSSES, _cross_entropy_labels_as_columns,
    ),
]
