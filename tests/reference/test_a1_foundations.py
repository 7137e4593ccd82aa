"""The a1_foundations oracles (activations.py, losses.py) against PyTorch, in float64.

Forward passes are compared with ``torch.nn.functional``; backward passes with
``torch.autograd`` under a random upstream gradient (never all ones, which would hide bugs
that only show up in a weighted sum). Inputs come from hypothesis: shapes of 1 to 3 axes that
are rarely square, values of both signs from tiny to |x| = 1e4 (the spec's "stable" range).

Tolerance: float64 has eps = 2.2e-16. Each result is a handful of correctly rounded operations
(plus one libm call that may differ by an ulp between numpy and torch), so the two agree to a few
ulps of the quantities the result is computed from: ``rtol=1e-10`` per element plus
``atol=1e-12 * scale``, ``scale`` being that magnitude (max |x| for a log-softmax, max |dout| for
a gradient). Both are far below the spec's "six significant digits" and far above rounding noise.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.loader import load_reference
from grader.tolerance import assert_close

RTOL = 1e-10
ATOL = 1e-12
SETTINGS = settings(max_examples=60, deadline=None)

MODERATE = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
LARGE = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
VALUES = st.one_of(MODERATE, LARGE)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)
# The oracle is stable without even a floating-point warning (the spec would tolerate one).
NO_OVERFLOW = dict(over="raise", divide="raise", invalid="raise")
EXTREMES = np.array([[-1e4, -745.5, -40.0, -1e-300, 0.0, 1e-300, 40.0, 745.5, 1e4],
                     [1e4, 1e4 - 1, 0.5, -0.5, 3.0, -3.0, 1e4, -1e4, 0.0]])


@pytest.fixture(scope="module")
def act():
    return load_reference("a1_foundations", "activations")


@pytest.fixture(scope="module")
def losses():
    return load_reference("a1_foundations", "losses")




def assert_loss_close(got, want, *, scale=1.0):
    __tracebackhide__ = True
    assert isinstance(got, float), f"expected a Python float, got {type(got).__name__}"
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * scale)


def upstream(rng_seed, shape):
    """A random upstream gradient of ``shape``: standard normal, so never all ones."""
    return np.random.default_rng(rng_seed).standard_normal(shape)


def torch_forward_backward(fn, x, dout):
    """fn(x) and d<fn(x), dout>/dx computed by torch.autograd."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = fn(xt)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), xt.grad.numpy()


def magnitude(a):
    return max(1.0, float(np.max(np.abs(a)))) if np.size(a) else 1.0


@st.composite
def input_and_upstream(draw, values=VALUES):
    x = draw(hnp.arrays(np.float64, draw(SHAPES), elements=values))
    return x, upstream(draw(st.integers(0, 2**32 - 1)), x.shape)


ELEMENTWISE = {
    # name: (forward(act, x), backward(act), torch function)
    "relu": (lambda a, x: a.relu_forward(x), lambda a: a.relu_backward, F.relu),
    "leaky_relu": (lambda a, x: a.leaky_relu_forward(x), lambda a: a.leaky_relu_backward,
                   lambda t: F.leaky_relu(t, 0.01)),
    "sigmoid": (lambda a, x: a.sigmoid_forward(x), lambda a: a.sigmoid_backward, torch.sigmoid),
    "tanh": (lambda a, x: a.tanh_forward(x), lambda a: a.tanh_backward, torch.tanh),
}


def check_elementwise(act, name, x, dout):
    forward, backward, torch_fn = ELEMENTWISE[name]
    x_before, dout_before = x.copy(), dout.copy()
    out, cache = forward(act, x)
    dx = backward(act)(dout, cache)
    want_out, want_dx = torch_forward_backward(torch_fn, x, dout)
    assert_close(out, want_out, rtol=RTOL, atol=ATOL * magnitude(x))
    assert_close(dx, want_dx, rtol=RTOL, atol=ATOL * magnitude(dout))
    np.testing.assert_array_equal(x, x_before, err_msg="forward modified x")
    np.testing.assert_array_equal(dout, dout_before, err_msg="backward modified dout")


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@SETTINGS
@given(case=input_and_upstream())
def test_elementwise_activation_matches_torch(act, name, case):
    check_elementwise(act, name, *case)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_activation_is_stable_at_extremes(act, name):
    dout = upstream(0, EXTREMES.shape)
    with np.errstate(**NO_OVERFLOW):
        out, cache = ELEMENTWISE[name][0](act, EXTREMES)
        dx = ELEMENTWISE[name][1](act)(dout, cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    check_elementwise(act, name, EXTREMES, dout)


@SETTINGS
@given(case=input_and_upstream(), alpha=st.floats(0.0, 0.5))
def test_leaky_relu_alpha_matches_torch(act, case, alpha):
    x, dout = case
    out, cache = act.leaky_relu_forward(x, alpha=alpha)
    want_out, want_dx = torch_forward_backward(lambda t: F.leaky_relu(t, alpha), x, dout)
    assert_close(out, want_out, rtol=RTOL, atol=ATOL * magnitude(x))
    assert_close(act.leaky_relu_backward(dout, cache), want_dx, rtol=RTOL, atol=ATOL * magnitude(dout))


def test_relu_kink_derivative_is_zero_like_torch(act):
    x = np.array([[-1.0, 0.0, -0.0, 2.0]])
    dout = np.array([[3.0, 5.0, 7.0, 11.0]])
    _, cache = act.relu_forward(x)
    np.testing.assert_array_equal(act.relu_backward(dout, cache), [[0.0, 0.0, 0.0, 11.0]])
    np.testing.assert_array_equal(torch_forward_backward(F.relu, x, dout)[1], [[0, 0, 0, 11.0]])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(x=SHAPES.flatmap(lambda s: hnp.arrays(np.float64, s, elements=VALUES)))
def test_softmax_matches_torch_over_last_axis(act, name, x):
    x_before = x.copy()
    got = getattr(act, name)(x)
    want = getattr(F, name)(torch.from_numpy(x), dim=-1).numpy()
    # log-softmax values are differences of inputs: their rounding scales with max |x|.
    assert_close(got, want, rtol=RTOL, atol=ATOL * (magnitude(x) if name == "log_softmax" else 1.0))
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_is_stable_at_extremes(act, name):
    for x in (EXTREMES, EXTREMES.T.copy(), EXTREMES.reshape(3, 2, 3)):
        with np.errstate(**NO_OVERFLOW):
            got = getattr(act, name)(x)
        assert np.all(np.isfinite(got)), f"{name} is not finite at |x| = 1e4"
        assert_close(got, getattr(F, name)(torch.from_numpy(x), dim=-1).numpy(), rtol=RTOL, atol=ATOL * 1e4)


def test_softmax_uses_the_last_axis_on_a_non_square_batch(act):
    x = np.arange(12.0).reshape(3, 4) / 3
    np.testing.assert_allclose(act.softmax(x).sum(axis=-1), np.ones(3), rtol=1e-15)
    assert_close(act.softmax(x), F.softmax(torch.from_numpy(x), dim=1).numpy(), rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------------- losses


def torch_loss(fn, first, *rest):
    """torch's loss value and its gradient with respect to the first argument."""
    t = torch.tensor(first, dtype=torch.float64, requires_grad=True)
    loss = fn(t, *(torch.from_numpy(np.asarray(r)) for r in rest))
    loss.backward()
    return loss.item(), t.grad.numpy()


@st.composite
def same_shape_pair(draw, first=VALUES, second=VALUES):
    shape = draw(SHAPES)
    return (draw(hnp.arrays(np.float64, shape, elements=first)),
            draw(hnp.arrays(np.float64, shape, elements=second)))


@SETTINGS
@given(pair=same_shape_pair())
def test_mse_loss_matches_torch(losses, pair):
    pred, target = pair
    before = pred.copy(), target.copy()
    loss, grad = losses.mse_loss(pred, target)
    want_loss, want_grad = torch_loss(F.mse_loss, pred, target)
    scale = magnitude(pred) + magnitude(target)
    assert_loss_close(loss, want_loss, scale=scale**2)
    assert_close(grad, want_grad, rtol=RTOL, atol=ATOL * (scale / pred.size))
    np.testing.assert_array_equal(pred, before[0])
    np.testing.assert_array_equal(target, before[1])


@SETTINGS
@given(pair=same_shape_pair(second=st.floats(0.0, 1.0)))
def test_bce_with_logits_loss_matches_torch(losses, pair):
    logits, target = pair
    before = logits.copy(), target.copy()
    loss, grad = losses.bce_with_logits_loss(logits, target)
    want_loss, want_grad = torch_loss(F.binary_cross_entropy_with_logits, logits, target)
    assert_loss_close(loss, want_loss, scale=magnitude(logits))
    assert_close(grad, want_grad, rtol=RTOL, atol=ATOL * (1.0 / logits.size))
    np.testing.assert_array_equal(logits, before[0])
    np.testing.assert_array_equal(target, before[1])


def test_bce_with_logits_loss_is_stable_at_extremes(losses):
    target = np.tile([0.0, 1.0, 0.3], 6)[: EXTREMES.size].reshape(EXTREMES.shape)
    with np.errstate(**NO_OVERFLOW):
        loss, grad = losses.bce_with_logits_loss(EXTREMES, target)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    want_loss, want_grad = torch_loss(F.binary_cross_entropy_with_logits, EXTREMES, target)
    assert_loss_close(loss, want_loss, scale=1e4)
    assert_close(grad, want_grad, rtol=RTOL, atol=ATOL * (1.0 / EXTREMES.size))


@st.composite
def logits_and_labels(draw, values=VALUES):
    n, c = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    logits = draw(hnp.arrays(np.float64, (n, c), elements=values))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return logits, labels


@SETTINGS
@given(case=logits_and_labels())
def test_softmax_cross_entropy_loss_matches_torch(losses, case):
    logits, labels = case
    before = logits.copy(), labels.copy()
    loss, grad = losses.softmax_cross_entropy_loss(logits, labels)
    want_loss, want_grad = torch_loss(F.cross_entropy, logits, labels)
    assert_loss_close(loss, want_loss, scale=magnitude(logits))
    assert_close(grad, want_grad, rtol=RTOL, atol=ATOL * (1.0 / logits.shape[0]))
    np.testing.assert_array_equal(logits, before[0])
    np.testing.assert_array_equal(labels, before[1])


def test_softmax_cross_entropy_loss_is_stable_at_extremes(losses):
    labels = np.array([2, 0])
    with np.errstate(**NO_OVERFLOW):
        loss, grad = losses.softmax_cross_entropy_loss(EXTREMES, labels)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    want_loss, want_grad = torch_loss(F.cross_entropy, EXTREMES, labels)
    assert_loss_close(loss, want_loss, scale=1e4)
    assert_close(grad, want_grad, rtol=RTOL, atol=ATOL * 0.5)
    # The research notes' probe: logits [1000, 0, -1000] with label 2 cost exactly 2000.
    loss, _ = losses.softmax_cross_entropy_loss(np.array([[1000.0, 0.0, -1000.0]]), np.array([2]))
    assert loss == 2000.0
