"""The a2_backprop oracles (layers.py, mlp.py) against PyTorch, in float64.

The one deliberate difference from PyTorch is the weight layout: the course's linear weight is
(D, M) and computes ``x @ W + b``, while ``torch.nn.Linear`` stores (M, D) and computes
``x @ W.T + b`` (``test_linear_weight_is_the_transpose_of_torch_nn_linear``).

Tolerance: a sum of K products in float64 is off by at most about K * eps * sum |terms|, so a
result is compared with ``rtol=1e-10`` plus ``atol=1e-12 * scale``, where ``scale`` bounds the
magnitude of the terms it sums (e.g. D * max|x| * max|W| + max|b| for ``x @ W + b``).
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
SETTINGS = settings(max_examples=50, deadline=None)
VALUES = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
SEEDS = st.integers(0, 2**32 - 1)

# Train/validate on 3 interleaved spirals: no linear model separates them.
SPIRAL_TRAINING = dict(layer_sizes=[2, 64, 64, 3], lr=0.3, epochs=30, batch_size=32, reg=1e-4)


@pytest.fixture(scope="module")
def layers():
    return load_reference("a2_backprop", "layers")


@pytest.fixture(scope="module")
def mlp():
    return load_reference("a2_backprop", "mlp")


@pytest.fixture(scope="module")
def datasets():
    return load_reference("a2_backprop", "datasets")




def magnitude(a):
    return max(1.0, float(np.max(np.abs(a)))) if np.size(a) else 1.0


def spirals(datasets, seed, n_per_class=500, n_train=1200):
    rng = np.random.default_rng(seed)
    x, y = datasets.make_spirals(n_per_class, rng)
    return (x[:n_train], y[:n_train], x[n_train:], y[n_train:]), rng


# ------------------------------------------------------------------------------- linear


@st.composite
def linear_case(draw):
    n, d, m = (draw(st.integers(1, 7)) for _ in range(3))
    x, W, b = (draw(hnp.arrays(np.float64, s, elements=VALUES)) for s in ((n, d), (d, m), (m,)))
    return x, W, b, np.random.default_rng(draw(SEEDS)).standard_normal((n, m))


@SETTINGS
@given(case=linear_case())
def test_linear_matches_torch_autograd(layers, case):
    x, W, b, dout = case
    before = [a.copy() for a in case]
    out, cache = layers.linear_forward(x, W, b)
    dx, dW, db = layers.linear_backward(dout, cache)

    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    want = xt @ Wt + bt
    want.backward(torch.from_numpy(dout))

    d = x.shape[1]
    assert_close(out, want.detach().numpy(), rtol=RTOL, atol=ATOL * (d * magnitude(x) * magnitude(W) + magnitude(b)))
    assert_close(dx, xt.grad.numpy(), rtol=RTOL, atol=ATOL * (W.shape[1] * magnitude(dout) * magnitude(W)))
    assert_close(dW, Wt.grad.numpy(), rtol=RTOL, atol=ATOL * (x.shape[0] * magnitude(dout) * magnitude(x)))
    assert_close(db, bt.grad.numpy(), rtol=RTOL, atol=ATOL * (x.shape[0] * magnitude(dout)))
    for a, a0 in zip(case, before):
        np.testing.assert_array_equal(a, a0, err_msg="an argument was modified")


def test_linear_weight_is_the_transpose_of_torch_nn_linear(layers):
    """The spec's only departure from PyTorch: W is (D, M), nn.Linear's weight is (M, D)."""
    rng = np.random.default_rng(3)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)
    torch_layer = torch.nn.Linear(3, 5, dtype=torch.float64)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.from_numpy(W.T))
        torch_layer.bias.copy_(torch.from_numpy(b))
    out, _ = layers.linear_forward(x, W, b)
    assert torch_layer.weight.shape == (5, 3) and W.shape == (3, 5)
    assert_close(out, torch_layer(torch.from_numpy(x)).detach().numpy(), rtol=RTOL, atol=ATOL * 10.0)
    assert_close(out, F.linear(torch.from_numpy(x), torch.from_numpy(W.T), torch.from_numpy(b))
                 .numpy(), rtol=RTOL, atol=ATOL * 10.0)


# ---------------------------------------------------------------------------------- mlp


def torch_mlp_loss(params, x, y, reg):
    """The spec's mlp_loss written with torch ops; params is a dict of torch tensors."""
    L = len(params) // 2
    h = torch.from_numpy(x)
    for l in range(1, L + 1):
        h = h @ params[f"W{l}"] + params[f"b{l}"]
        if l < L:
            h = torch.relu(h)
    penalty = sum((params[f"W{l}"] ** 2).sum() for l in range(1, L + 1))
    return h, F.cross_entropy(h, torch.from_numpy(y)) + 0.5 * reg * penalty


@st.composite
def mlp_case(draw):
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=5))
    sizes[-1] = max(sizes[-1], 2)  # at least two classes
    n = draw(st.integers(1, 8))
    x = draw(hnp.arrays(np.float64, (n, sizes[0]), elements=VALUES))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, sizes[-1] - 1)))
    reg = draw(st.one_of(st.just(0.0), st.floats(1e-3, 2.0)))
    return sizes, x, y, reg, draw(SEEDS)


def rounding_scales(params, x):
    """Magnitudes of the terms that mlp_forward and mlp_loss sum, bounding their rounding.

    The forward pass run on |x|, |W|, |b| (nothing cancels) bounds every activation term; the
    backward pass run on |W| from an upstream of 1 per score (|dscores| <= 1) bounds every
    gradient term, including those of dW = h.T @ dh.
    """
    L = len(params) // 2
    hs = [np.abs(x)]
    for l in range(1, L + 1):
        hs.append(hs[-1] @ np.abs(params[f"W{l}"]) + np.abs(params[f"b{l}"]))
    d, grad_scale = np.ones_like(hs[-1]), 1.0
    for l in range(L, 0, -1):
        grad_scale = max(grad_scale, float((hs[l - 1].T @ d).max()), float(d.sum(axis=0).max()))
        d = d @ np.abs(params[f"W{l}"]).T
    return max(1.0, max(float(h.max()) for h in hs)), grad_scale


def random_params(mlp, sizes, seed):
    """init_mlp's weights with non-zero biases, so every gradient path is exercised."""
    rng = np.random.default_rng(seed)
    params = mlp.init_mlp(sizes, rng)
    return {k: v + rng.standard_normal(v.shape) if k.startswith("b") else v
            for k, v in params.items()}


@SETTINGS
@given(case=mlp_case())
def test_mlp_forward_and_loss_match_torch_autograd(mlp, case):
    sizes, x, y, reg, seed = case
    params = random_params(mlp, sizes, seed)
    before = {k: v.copy() for k, v in params.items()}, x.copy(), y.copy()

    scores = mlp.mlp_forward(params, x)
    loss, grads = mlp.mlp_loss(params, x, y, reg=reg)

    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    want_scores, want_loss = torch_mlp_loss(tparams, x, y, reg)
    want_loss.backward()

    forward_scale, grad_scale = rounding_scales(params, x)
    weight_scale = max(magnitude(params[k]) for k in params if k.startswith("W"))
    assert_close(scores, want_scores.detach().numpy(), rtol=RTOL, atol=ATOL * forward_scale)
    assert isinstance(loss, float)
    penalty_scale = reg * sum(np.sum(params[k] ** 2) for k in params if k.startswith("W"))
    np.testing.assert_allclose(loss, want_loss.item(), rtol=RTOL,
                               atol=ATOL * (forward_scale + penalty_scale))
    assert set(grads) == set(params)
    for k in params:
        assert_close(grads[k], tparams[k].grad.numpy(), rtol=RTOL, atol=ATOL * (grad_scale + reg * weight_scale))
    for k in params:
        np.testing.assert_array_equal(params[k], before[0][k], err_msg=f"{k} was modified")
    np.testing.assert_array_equal(x, before[1])
    np.testing.assert_array_equal(y, before[2])


def test_mlp_loss_regularisation_term_and_gradient(mlp):
    """reg > 0 adds 0.5 * reg * sum(W ** 2) over the weights only, and reg * W to each dW."""
    params = random_params(mlp, [4, 5, 3], seed=1)
    x, y = np.random.default_rng(2).standard_normal((6, 4)), np.array([0, 1, 2, 2, 1, 0])
    loss0, grads0 = mlp.mlp_loss(params, x, y, reg=0.0)
    loss1, grads1 = mlp.mlp_loss(params, x, y, reg=0.7)
    penalty = 0.5 * 0.7 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    np.testing.assert_allclose(loss1 - loss0, penalty, rtol=1e-12)
    for k in ("W1", "W2"):
        assert_close(grads1[k] - grads0[k], 0.7 * params[k], rtol=RTOL, atol=ATOL * 10.0)
    for k in ("b1", "b2"):
        np.testing.assert_array_equal(grads1[k], grads0[k])


@pytest.mark.parametrize("sizes", [[300, 200, 100], [50, 400, 7]])
def test_init_mlp_shapes_and_kaiming_normal_scale(mlp, sizes):
    rng = np.random.default_rng(11)
    global_state = np.random.get_state()
    params = mlp.init_mlp(sizes, rng)
    assert list(params) == [f"{p}{l}" for l in range(1, len(sizes)) for p in "Wb"]
    for l, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        assert W.shape == (fan_in, fan_out) and W.dtype == np.float64
        assert b.shape == (fan_out,) and b.dtype == np.float64
        np.testing.assert_array_equal(b, 0.0)
        # With n draws of N(0, s^2): var(W)/s^2 is 1 +- sqrt(2/n), the mean is 0 +- s/sqrt(n),
        # and the kurtosis 3 +- sqrt(24/n) (a uniform has 1.8). Six sigma: a 2e-9 false fail.
        n, s = W.size, np.sqrt(2.0 / fan_in)
        assert abs(W.var() / s**2 - 1) < 6 * np.sqrt(2 / n)
        assert abs(W.mean()) < 6 * s / np.sqrt(n)
        assert abs(np.mean(W**4) / W.var() ** 2 - 3) < 6 * np.sqrt(24 / n)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state[1],
                                  err_msg="init_mlp used numpy's global random state")


def test_init_mlp_is_deterministic_in_its_rng(mlp):
    a = mlp.init_mlp([3, 4, 2], np.random.default_rng(5))
    b = mlp.init_mlp([3, 4, 2], np.random.default_rng(5))
    c = mlp.init_mlp([3, 4, 2], np.random.default_rng(6))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


# ---------------------------------------------------------------------------- train_mlp


def test_make_spirals_is_deterministic_and_needs_a_hidden_layer(mlp, datasets):
    x1, y1 = datasets.make_spirals(100, np.random.default_rng(0))
    x2, y2 = datasets.make_spirals(100, np.random.default_rng(0))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.shape == (300, 2) and x1.dtype == np.float64
    np.testing.assert_array_equal(np.bincount(y1), [100, 100, 100])
    (data, rng) = spirals(datasets, 0)
    _, history = mlp.train_mlp(*data, [2, 3], lr=0.3, epochs=30, batch_size=32, rng=rng)
    assert history["val_acc"][-1] < 0.8, "a linear model should not separate the spirals"


@pytest.mark.parametrize("seed", [0, 1])
def test_train_mlp_reaches_95_percent_on_spirals(mlp, datasets, seed):
    data, rng = spirals(datasets, seed)
    params, history = mlp.train_mlp(*data, **SPIRAL_TRAINING, rng=rng)
    epochs = SPIRAL_TRAINING["epochs"]
    assert set(history) >= {"train_loss", "val_acc"}
    assert len(history["train_loss"]) == len(history["val_acc"]) == epochs
    assert all(isinstance(v, float) and np.isfinite(v) and v > 0 for v in history["train_loss"])
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in history["val_acc"])
    assert history["val_acc"][-1] >= 0.95, history["val_acc"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert set(params) == {f"{p}{l}" for l in (1, 2, 3) for p in "Wb"}


def test_train_mlp_is_deterministic_for_equal_seeds(mlp, datasets):
    data, _ = spirals(datasets, 0, n_per_class=50, n_train=120)
    kwargs = dict(layer_sizes=[2, 8, 3], epochs=3, batch_size=16)
    runs = [mlp.train_mlp(*data, **kwargs, rng=np.random.default_rng(s)) for s in (4, 4, 5)]
    (p1, h1), (p2, h2), (p3, h3) = runs
    assert h1 == h2 and all(np.array_equal(p1[k], p2[k]) for k in p1)
    assert h1["train_loss"] != h3["train_loss"]


@pytest.mark.parametrize("batch_size", [16, 7, 100, 1000])
def test_train_mlp_matches_torch_sgd_step_for_step(mlp, datasets, batch_size):
    """Same init and the same per-epoch shuffles, then torch.optim.SGD on the spec's loss.

    120 samples are not a multiple of 16, 7 or 100: the final partial batch must be a step.
    """
    data, _ = spirals(datasets, 1, n_per_class=50, n_train=120)
    x_train, y_train, x_val, y_val = data
    before = [a.copy() for a in data]
    sizes, lr, reg, epochs = [2, 6, 5, 3], 0.2, 0.05, 3
    params, history = mlp.train_mlp(*data, sizes, lr=lr, epochs=epochs, batch_size=batch_size,
                                    reg=reg, rng=np.random.default_rng(9))

    rng = np.random.default_rng(9)
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in mlp.init_mlp(sizes, rng).items()}
    opt = torch.optim.SGD(tparams.values(), lr=lr)
    want_loss, want_acc = [], []
    for _ in range(epochs):
        order = rng.permutation(len(y_train))
        batch_losses = []
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            opt.zero_grad()
            _, loss = torch_mlp_loss(tparams, x_train[batch], y_train[batch], reg)
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        want_loss.append(np.mean(batch_losses))
        with torch.no_grad():
            scores, _ = torch_mlp_loss(tparams, x_val, y_val, reg)
        want_acc.append(float(np.mean(scores.argmax(dim=1).numpy() == y_val)))

    np.testing.assert_allclose(history["train_loss"], want_loss, rtol=RTOL, atol=ATOL * 100)
    assert history["val_acc"] == want_acc
    for k in tparams:
        assert_close(params[k], tparams[k].detach().numpy(), rtol=RTOL, atol=ATOL * 100.0)
    for a, a0 in zip(data, before):
        np.testing.assert_array_equal(a, a0, err_msg="train_mlp modified its data")
