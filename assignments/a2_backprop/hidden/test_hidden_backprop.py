"""Hidden tests for layers.py and mlp.py: the student against the reference oracle (instructor only).

Non-square layers, batches of one and more, N != C and N == C, one to four layers, several
regularisation strengths, inputs of magnitude up to 100. Networks keep every hidden
pre-activation away from the ReLU kink, where any subgradient would be allowed. ``train_mlp`` is
judged without depending on the order of random draws (see the public tests' ``lr=0`` trick),
here with other batch geometries, and on the reference's spiral data set.
"""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, assert_normal, check_scalar_type
from grader import strategies as dl

fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
REGS = st.sampled_from([0.0, 1e-3, 0.05, 0.5, 2.0])
MAGNITUDES = st.sampled_from([1.0, 10.0, 100.0])


def generator(helper, seed):
    return helper("course_rng.py").generator(seed)


# --------------------------------------------------------------------------------- layers
@st.composite
def linear_inputs(draw):
    n = draw(st.sampled_from([1, 2, 3, 5, 8]))
    d = draw(st.integers(1, 7))
    m = draw(st.integers(1, 7).filter(lambda m: m != d))
    magnitude = draw(MAGNITUDES)
    return tuple(draw(dl.arrays(shape, magnitude=magnitude)) for shape in ((n, d), (d, m), (m,)))


@pytest.mark.points(3)
@fixture_ok
@given(case=linear_inputs(), seed=SEEDS)
def test_linear_matches_reference(student, reference, case, seed):
    layers, ref = student("layers.py"), reference("layers.py")
    x, W, b = case
    out, cache = layers.linear_forward(x, W, b)
    want, ref_cache = ref.linear_forward(x, W, b)
    scale = x.shape[1] * np.max(np.abs(x), initial=1) * np.max(np.abs(W), initial=1) + np.max(np.abs(b))
    assert_close(out, want, scale=scale, what="linear_forward output")
    dout = np.random.default_rng(seed).standard_normal(want.shape)
    got = layers.linear_backward(dout, cache)
    expected = ref.linear_backward(dout, ref_cache)
    assert isinstance(got, tuple) and len(got) == 3, "linear_backward returns (dx, dW, db)"
    scales = (W.shape[1] * np.max(np.abs(W), initial=1), x.shape[0] * np.max(np.abs(x), initial=1), x.shape[0])
    for name, g, e, s in zip(("dx", "dW", "db"), got, expected, scales):
        assert_close(g, e, scale=s * np.max(np.abs(dout)), what=f"linear_backward {name}")


# ------------------------------------------------------------------------------------ mlp
def _pre_activations(params, x):
    L = len(params) // 2
    h, pre = x, []
    for l in range(1, L):
        a = h @ params[f"W{l}"] + params[f"b{l}"]
        pre.append(a)
        h = np.maximum(a, 0.0)
    return pre


@st.composite
def networks(draw, max_layers=4, square=False):
    seed = draw(SEEDS)
    sizes = draw(dl.layer_sizes(max_layers=max_layers, max_width=8))
    L = len(sizes) - 1
    n = sizes[-1] if square else draw(st.sampled_from([1, 2, 3, 5, 9]).filter(lambda n: n != sizes[-1]))
    magnitude = draw(MAGNITUDES)
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        params = {}
        for l in range(1, L + 1):
            params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l])) * np.sqrt(2.0 / sizes[l - 1])
            params[f"b{l}"] = rng.standard_normal(sizes[l]) * 0.1
        x = rng.standard_normal((n, sizes[0])) * magnitude
        if all(np.min(np.abs(a)) > 1e-6 * magnitude for a in _pre_activations(params, x)):
            break
    y = rng.integers(0, sizes[-1], n)
    layout = draw(st.sampled_from(dl.LAYOUTS))
    return {k: dl.laid_out(v, layout) for k, v in params.items()}, dl.laid_out(x, layout), dl.laid_out(y, layout)


@pytest.mark.points(2)
@fixture_ok
@given(net=networks())
def test_mlp_forward_matches_reference(student, reference, net):
    params, x, _ = net
    want = reference("mlp.py").mlp_forward(params, x)
    assert_close(student("mlp.py").mlp_forward(params, x), want, scale=np.max(np.abs(want), initial=1.0), what="mlp_forward logits")


def _compare_loss(mlp, ref, params, x, y, reg):
    __tracebackhide__ = True
    loss, grads = mlp.mlp_loss(params, x, y, reg=reg)
    want_loss, want_grads = ref.mlp_loss(params, x, y, reg=reg)
    check_scalar_type(loss, what="mlp_loss loss")
    assert_close(loss, want_loss, what=f"mlp_loss loss (reg={reg})")
    assert sorted(grads) == sorted(want_grads), f"grads keys {sorted(grads)}, expected {sorted(want_grads)}"
    for k in want_grads:
        scale = np.max(np.abs(want_grads[k]), initial=0.0) + reg * np.max(np.abs(params[k]))
        assert_close(grads[k], want_grads[k], scale=scale, what=f"mlp_loss grads[{k!r}] (reg={reg})")


@pytest.mark.points(4)
@fixture_ok
@given(net=networks(), reg=REGS)
def test_mlp_loss_matches_reference(student, reference, net, reg):
    _compare_loss(student("mlp.py"), reference("mlp.py"), *net, reg)


@pytest.mark.points(1)
@fixture_ok
@given(net=networks(max_layers=2, square=True), reg=REGS)
def test_mlp_loss_with_as_many_examples_as_classes(student, reference, net, reg):
    _compare_loss(student("mlp.py"), reference("mlp.py"), *net, reg)


@pytest.mark.points(2)
@pytest.mark.parametrize("sizes", [[60, 200, 10], [500, 30], [20, 300, 150, 7]], ids=str)
def test_init_mlp_kaiming_normal_for_other_layer_sizes(student, helper, rng, sizes):
    params = student("mlp.py").init_mlp(sizes, generator(helper, int(rng.integers(2**32))))
    assert sorted(params) == sorted([f"{p}{l}" for l in range(1, len(sizes)) for p in "Wb"])
    for l in range(1, len(sizes)):
        W, b = params[f"W{l}"], params[f"b{l}"]
        assert W.shape == (sizes[l - 1], sizes[l]) and W.dtype == np.float64, f"W{l}: shape {W.shape}, dtype {W.dtype}"
        assert_close(b, np.zeros(sizes[l]), what=f"b{l}")
        if W.size >= 1000:
            assert_normal(W, 0.0, np.sqrt(2.0 / sizes[l - 1]), what=f"W{l} of shape {W.shape}")


# ------------------------------------------------------------------------------ train_mlp
def _example_losses(ref, params, x, y):
    s = ref.mlp_forward(params, x)
    s = s - s.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y]


@pytest.mark.points(3)
@pytest.mark.parametrize("n, batch_size", [(13, 5), (12, 4), (7, 3), (9, 1), (6, 10)], ids=lambda v: str(v))
def test_train_mlp_records_mean_batch_losses(student, reference, helper, rng, n, batch_size):
    """lr=0: every epoch's train_loss is the mean over its batches of the batch loss at the
    returned (unchanged) parameters for some partition into batches of batch_size and a final
    smaller one; val_acc is the validation accuracy."""
    ref = reference("mlp.py")
    reg, epochs = 0.7, 6
    x, y = rng.standard_normal((n, 4)) * 2, rng.integers(0, 3, n)
    x_val, y_val = rng.standard_normal((11, 4)), rng.integers(0, 3, 11)
    params, history = student("mlp.py").train_mlp(x, y, x_val, y_val, [4, 5, 7, 3], lr=0.0, epochs=epochs, batch_size=batch_size, reg=reg, rng=generator(helper, int(rng.integers(2**32))))
    assert len(history["train_loss"]) == epochs and len(history["val_acc"]) == epochs, "one history entry per epoch"
    losses = _example_losses(ref, params, x, y)
    penalty = 0.5 * reg * sum(np.sum(params[k] ** 2) for k in params if k.startswith("W"))
    nb = -(-n // batch_size)
    r = n - (nb - 1) * batch_size
    total = float(np.sum(losses))
    if r == batch_size:  # equal batches: the mean of batch means is the mean
        possible = np.array([total])
        partial = lambda v: total  # noqa: E731
    else:
        possible = np.array([sum(c) for c in itertools.combinations(losses, r)])
        partial = lambda v: (nb * (v - penalty) - total / batch_size) / (1.0 / r - 1.0 / batch_size)  # noqa: E731
    for epoch, v in enumerate(history["train_loss"]):
        check_scalar_type(v, what="a train_loss entry")
        if r == batch_size:
            assert_close(v, total / n + penalty, what=f"train_loss of epoch {epoch} ({nb} equal batches)")
        else:
            p = partial(v)
            assert np.min(np.abs(possible - p)) <= 1e-7 * (1 + total), f"epoch {epoch}: train_loss {v:.10g} is not the mean of the {nb} batch losses (the last of {r})"
        assert_close(history["val_acc"][epoch], ref.accuracy(params, x_val, y_val), what=f"val_acc of epoch {epoch}")


@pytest.mark.points(3)
def test_train_mlp_reaches_90_percent_on_spirals(student, reference, helper, rng):
    """Three interleaved spirals: the network must learn them (the reference reaches 95%)."""
    x, y = reference("datasets.py").make_spirals(500, rng)
    params, history = student("mlp.py").train_mlp(
        x[:1200], y[:1200], x[1200:], y[1200:], [2, 64, 64, 3], lr=0.3, epochs=30, batch_size=32, reg=1e-4, rng=generator(helper, int(rng.integers(2**32)))
    )
    assert history["val_acc"][-1] >= 0.9, f"validation accuracy {history['val_acc'][-1]:.3f} on the spirals, expected at least 0.9"
    assert_close(history["val_acc"][-1], reference("mlp.py").accuracy(params, x[1200:], y[1200:]), what="the last val_acc vs the returned parameters")


@pytest.mark.points(1)
def test_train_mlp_with_a_larger_learning_rate_and_regularisation_is_deterministic(student, helper, rng):
    mlp = student("mlp.py")
    x, y = rng.standard_normal((50, 3)), rng.integers(0, 4, 50)
    kwargs = dict(lr=0.05, epochs=4, batch_size=7, reg=0.01)
    (p1, h1), (p2, h2) = (mlp.train_mlp(x[:40], y[:40], x[40:], y[40:], [3, 9, 4], **kwargs, rng=generator(helper, 11)) for _ in range(2))
    assert_close(np.array(h2["train_loss"]), np.array(h1["train_loss"]), what="train_loss of two runs with seed 11")
    for k in p1:
        assert_close(p2[k], p1[k], what=f"{k} of two runs with seed 11")


@pytest.mark.points(1)
def test_train_mlp_starts_from_kaiming_normal_weights_and_zero_biases(student, helper, rng):
    """``train_mlp`` starts from ``init_mlp(layer_sizes, rng)``: with ``lr=0`` the parameters it
    returns are its starting point, which must be Kaiming normal with zero biases, drawn from
    ``rng`` (whichever order you draw the initial weights and the shuffles in)."""
    sizes = [200, 100, 3]
    x, y = rng.standard_normal((12, 200)), rng.integers(0, 3, 12)
    seed = int(rng.integers(2**32 - 1))
    params, other = (student("mlp.py").train_mlp(x, y, x, y, sizes, lr=0.0, epochs=2, batch_size=5, rng=generator(helper, s))[0] for s in (seed, seed + 1))
    assert sorted(params) == ["W1", "W2", "b1", "b2"], f"train_mlp returned the parameters {sorted(params)}"
    assert not np.allclose(params["W1"], other["W1"]), "train_mlp with lr=0 returned the same W1 for two seeds: its starting weights must come from init_mlp(layer_sizes, rng)"
    for l in (1, 2):
        assert_close(params[f"b{l}"], np.zeros(sizes[l]), what=f"b{l} after training with lr=0 (the biases start at zero)")
        assert_normal(params[f"W{l}"], 0.0, np.sqrt(2.0 / sizes[l - 1]), what=f"W{l} after training with lr=0 (train_mlp starts from init_mlp: std sqrt(2 / fan_in))")


# ------------------------------------------------------------------------- default arguments
@pytest.mark.points(1)
def test_mlp_loss_without_reg_has_no_penalty(student, reference, rng):
    """``mlp_loss(params, x, y)``: the handout's default is ``reg=0.0``."""
    sizes = [4, 7, 3]
    params = {}
    for l in (1, 2):
        params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l]))
        params[f"b{l}"] = rng.standard_normal(sizes[l]) * 0.1
    x, y = rng.standard_normal((5, 4)) * 2, rng.integers(0, 3, 5)
    loss, grads = student("mlp.py").mlp_loss(params, x, y)
    want_loss, want_grads = reference("mlp.py").mlp_loss(params, x, y, reg=0.0)
    assert_close(loss, want_loss, what="mlp_loss(params, x, y) loss (the default reg is 0.0)")
    for k in want_grads:
        assert_close(grads[k], want_grads[k], scale=np.max(np.abs(want_grads[k])), what=f"mlp_loss(params, x, y) grads[{k!r}] (the default reg is 0.0)")


@pytest.mark.points(1)
def test_train_mlp_defaults_are_lr_0_1_epochs_20_batch_size_64_and_no_penalty(student, reference, helper, rng):
    """``train_mlp`` called without ``lr``, ``epochs``, ``batch_size`` and ``reg``, on N = 50 < 64
    examples: every epoch is one full batch whatever the shuffle, so the run is 20 gradient steps
    of size 0.1 on the unpenalised loss, from your initial parameters for that seed: those a run
    with ``lr=0`` and the same seed returns (whichever order you draw the initial weights and the
    shuffles in). Each epoch's val_acc is the accuracy of the parameters after that epoch's step."""
    mlp, ref = student("mlp.py"), reference("mlp.py")
    sizes = [3, 6, 4]
    rule = rng.standard_normal((3, 4))  # labels a network can learn: validation accuracy moves between epochs
    x, x_val = rng.standard_normal((50, 3)) * 2, rng.standard_normal((40, 3)) * 2
    y, y_val = np.argmax(x @ rule, axis=1), np.argmax(x_val @ rule, axis=1)
    seed = int(rng.integers(2**32))
    params, history = mlp.train_mlp(x, y, x_val, y_val, sizes, rng=generator(helper, seed))
    expected, _ = mlp.train_mlp(x, y, x_val, y_val, sizes, lr=0.0, epochs=20, batch_size=64, reg=0.0, rng=generator(helper, seed))
    losses, accuracies = [], []
    for _ in range(20):
        loss, grads = ref.mlp_loss(expected, x, y, reg=0.0)
        expected = {k: expected[k] - 0.1 * grads[k] for k in expected}
        losses.append(loss)
        accuracies.append(ref.accuracy(expected, x_val, y_val))
    assert len(history["train_loss"]) == 20, f"{len(history['train_loss'])} train_loss entries without an epochs argument: the default is epochs=20"
    assert_close(np.array(history["train_loss"], dtype=np.float64), np.array(losses), what="train_loss of a run with the default lr=0.1, batch_size=64, reg=0.0 (one full batch per epoch)")
    assert_close(np.array(history["val_acc"], dtype=np.float64), np.array(accuracies), what="val_acc of each epoch (the validation accuracy after that epoch's update) in a run with the default arguments")
    for k in expected:
        assert_close(params[k], expected[k], scale=np.max(np.abs(expected[k])), what=f"{k} after a run with the default lr=0.1, epochs=20, batch_size=64, reg=0.0")
