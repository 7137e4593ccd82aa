"""The gradient check passes correct backward passes and catches planted wrong ones."""

import numpy as np
import pytest

from grader.gradcheck import call_many, check_gradient, check_layer_gradient


def linear_forward(x, w, b):
    return x @ w + b, (x, w)


def linear_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def linear_backward_transposed_dw(dout, cache):
    """dW computed as (dout^T x) and reshaped instead of transposed: right numbers, wrong places."""
    x, w = cache
    return dout @ w.T, (dout.T @ x).reshape(w.shape), dout.sum(axis=0)


def linear_backward_db_mean(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)


def softmax_forward(x):
    z = np.exp(x - x.max(axis=1, keepdims=True))
    s = z / z.sum(axis=1, keepdims=True)
    return s, s


def softmax_backward(dout, s):
    return s * (dout - (dout * s).sum(axis=1, keepdims=True))


def softmax_backward_diagonal_only(dout, s):
    return dout * s * (1 - s)


def sigmoid_forward(x):
    s = 1 / (1 + np.exp(-x))
    return s, s


def sigmoid_backward(dout, s):
    return dout * s * (1 - s)


def sigmoid_backward_from_input(dout, s):
    return dout * s


def batchnorm_forward(x):
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return xhat, (xhat, var)


def batchnorm_backward(dout, cache):
    xhat, var = cache
    return (dout - dout.mean(axis=0) - xhat * (dout * xhat).mean(axis=0)) / np.sqrt(var + 1e-5)


def batchnorm_backward_no_batch_terms(dout, cache):
    xhat, var = cache
    return dout / np.sqrt(var + 1e-5)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def layer_inputs(rng, name):
    if name == "linear":
        return {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((3, 5)), "b": rng.standard_normal(5)}
    return {"x": rng.standard_normal((4, 6))}


CORRECT = [
    ("linear", linear_forward, linear_backward),
    ("softmax", softmax_forward, softmax_backward),
    ("sigmoid", sigmoid_forward, sigmoid_backward),
    ("batchnorm", batchnorm_forward, batchnorm_backward),
]
BUGGY = [
    ("linear", linear_forward, linear_backward_transposed_dw),
    ("linear", linear_forward, linear_backward_db_mean),
    ("softmax", softmax_forward, softmax_backward_diagonal_only),
    ("sigmoid", sigmoid_forward, sigmoid_backward_from_input),
    ("batchnorm", batchnorm_forward, batchnorm_backward_no_batch_terms),
]


@pytest.mark.parametrize("name, forward, backward", CORRECT, ids=[c[0] for c in CORRECT])
def test_correct_backward_passes(rng, name, forward, backward):
    check_layer_gradient(forward, backward, layer_inputs(rng, name), rng=rng)


@pytest.mark.parametrize("name, forward, backward", BUGGY, ids=[b[2].__name__ for b in BUGGY])
def test_wrong_backward_is_caught(rng, name, forward, backward):
    with pytest.raises(AssertionError, match="disagree with central differences; worst: d"):
        check_layer_gradient(forward, backward, layer_inputs(rng, name), rng=rng)


def test_upstream_gradient_is_random_not_ones(rng):
    seen = []

    def backward(dout, s):
        seen.append(dout.copy())
        return softmax_backward(dout, s)

    check_layer_gradient(softmax_forward, backward, {"x": rng.standard_normal((3, 4))}, rng=rng)
    assert not np.allclose(seen[0], seen[0].flat[0])


def test_report_names_argument_index_and_values(rng):
    inputs = layer_inputs(rng, "linear")
    with pytest.raises(AssertionError) as info:
        check_layer_gradient(linear_forward, linear_backward_db_mean, inputs, rng=rng)
    message = str(info.value)
    assert "db[" in message and "numerically" in message and "of 5 checked entries" not in message


def test_loss_gradient_with_scalar_output(rng):
    def mse(pred, target):
        diff = pred - target
        return float(np.mean(diff**2)), 2 * diff / diff.size

    pred, target = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loss, grad = mse(pred, target)
    check_gradient(mse, {"pred": pred, "target": target}, {"pred": grad}, rng=rng, pick=0)
    with pytest.raises(AssertionError):
        check_gradient(mse, {"pred": pred, "target": target}, {"pred": grad * pred.shape[0]}, rng=rng, pick=0)


def test_large_inputs_are_sampled(rng):
    calls = []

    def forward(x):
        calls.append(1)
        return sigmoid_forward(x)

    check_layer_gradient(forward, sigmoid_backward, {"x": rng.standard_normal((50, 40))}, rng=rng, max_entries=25)
    assert len(calls) == 1 + 2 * 25 + 1


def test_batched_functions_get_one_round_trip(rng):
    class Batched:
        __name__ = "batched"

        def __init__(self):
            self.batches = 0

        def __call__(self, x):
            return sigmoid_forward(x)

        def map_calls(self, calls, pick):
            self.batches += 1
            return call_many(sigmoid_forward, calls, pick)

    forward = Batched()
    check_layer_gradient(forward, sigmoid_backward, {"x": rng.standard_normal((3, 5))}, rng=rng)
    assert forward.batches == 1  # the unperturbed objective and every perturbed evaluation together


def test_wrong_gradient_type_is_reported(rng):
    with pytest.raises(AssertionError, match="dtype float64"):
        check_layer_gradient(sigmoid_forward, lambda d, s: (d * s * (1 - s)).astype(np.float32), {"x": rng.standard_normal((2, 3))}, rng=rng)
