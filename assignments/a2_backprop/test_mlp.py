"""Public tests for mlp.py: run them with ``pytest assignments/a2_backprop``.

The forward pass and the loss are compared with a plain re-statement of the handout's formulas
(``handout_scores`` and ``handout_loss`` below); your gradients with central differences of that loss.
Networks have one to three layers of unequal sizes, or ten to twelve narrow ones (parameter
names "W10", "W11", ... come after "W9"), and inputs are kept away from the ReLU kink (no
pre-activation within 1e-4 of 0), where central differences are meaningless.

``train_mlp`` is tested without depending on how you draw your random numbers:
with ``lr=0`` the parameters never move, so every epoch's recorded loss must be the mean over
that epoch's batches (the final, smaller batch included) of the batch loss at the returned
parameters, for some shuffle; and the shuffles must differ between epochs.
"""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, assert_normal, check_array_type, check_gradient, check_scalar_type
from grader import strategies as dl

# `student` and `helper` are function-scoped fixtures that hold no per-example state: safe under @given
fixture_ok = settings(suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
REGS = st.sampled_from([0.0, 0.1, 1.0]) | st.floats(1e-3, 2.0)
KINK_GAP = 1e-4


def generator(helper, seed):
    """A numpy Generator living where your code runs (in a separate process when grading)."""
    return helper("course_rng.py").generator(seed)


def seed_from(rng):
    return int(rng.integers(2**32))


# ------------------------------------------------------------- the handout, stated plainly
def handout_scores(params, x):
    """Logits and the hidden pre-activations of the MLP in the handout."""
    L = len(params) // 2
    h, pre = x, []
    for l in range(1, L + 1):
        a = h @ params[f"W{l}"] + params[f"b{l}"]
        if l < L:
            pre.append(a)
            a = np.maximum(a, 0.0)
        h = a
    return h, pre


def handout_example_losses(params, x, y):
    """-log softmax(scores)[n, y_n] for every example n (stable)."""
    s, _ = handout_scores(params, x)
    s = s - s.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y]


def handout_penalty(params, reg):
    return 0.5 * reg * sum(np.sum(params[k] ** 2) for k in params if k.startswith("W"))


def handout_loss(params, x, y, reg):
    return float(np.mean(handout_example_losses(params, x, y)) + handout_penalty(params, reg))


def handout_accuracy(params, x, y):
    return float(np.mean(np.argmax(handout_scores(params, x)[0], axis=1) == y))


@st.composite
def networks(draw, max_layers=3):
    """(params, x, y): random layer sizes (consecutive sizes differ, N != C), nothing near a kink."""
    seed = draw(SEEDS)
    sizes = draw(dl.layer_sizes(max_layers=max_layers, max_width=7))
    L = len(sizes) - 1
    n = draw(st.integers(1, 6).filter(lambda n: n != sizes[-1]))
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        params = {}
        for l in range(1, L + 1):
            params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l]))
            params[f"b{l}"] = rng.standard_normal(sizes[l]) * 0.5
        x = rng.standard_normal((n, sizes[0])) * 2
        if all(np.min(np.abs(a)) > KINK_GAP for a in handout_scores(params, x)[1]):
            break
    y = rng.integers(0, sizes[-1], n)
    layout = draw(st.sampled_from(dl.LAYOUTS))
    return {k: dl.laid_out(v, layout) for k, v in params.items()}, dl.laid_out(x, layout), dl.laid_out(y, layout)


# --------------------------------------------------------------------------- init_mlp
@pytest.mark.points(1)
def test_init_mlp_keys_shapes_and_zero_biases(student, helper, rng):
    mlp = student("mlp.py")
    sizes = [5, 7, 4, 3]
    params = mlp.init_mlp(sizes, generator(helper, seed_from(rng)))
    assert sorted(params) == sorted(["W1", "b1", "W2", "b2", "W3", "b3"]), f"init_mlp keys: {sorted(params)}"
    for l in range(1, 4):
        check_array_type(params[f"W{l}"], (sizes[l - 1], sizes[l]), what=f"W{l}")
        assert_close(params[f"b{l}"], np.zeros(sizes[l]), what=f"b{l} (biases start at zero)")


@pytest.mark.points(2)
def test_init_mlp_weights_are_kaiming_normal(student, helper, rng):
    """W_l ~ N(0, 2 / fan_in): checked with bounds a correct initializer misses w.p. below 1e-9."""
    mlp = student("mlp.py")
    sizes = [300, 100, 40]
    params = mlp.init_mlp(sizes, generator(helper, seed_from(rng)))
    for l in (1, 2):
        fan_in = sizes[l - 1]
        assert_normal(params[f"W{l}"], 0.0, np.sqrt(2.0 / fan_in), what=f"W{l} of shape ({fan_in}, {sizes[l]}): std sqrt(2 / fan_in)")


@pytest.mark.points(1)
def test_init_mlp_draws_from_its_rng_alone(student, helper):
    mlp, course = student("mlp.py"), helper("course_rng.py")
    sizes = [4, 6, 3]
    before = course.global_state()
    first = mlp.init_mlp(sizes, course.generator(7))
    again = mlp.init_mlp(sizes, course.generator(7))
    other = mlp.init_mlp(sizes, course.generator(8))
    assert all(np.array_equal(a, b) for a, b in zip(course.global_state(), before)), "init_mlp used numpy's global random state: draw from rng"
    for k in first:
        assert_close(again[k], first[k], what=f"{k} from two generators with the same seed")
    assert not np.allclose(first["W1"], other["W1"]), "init_mlp gave the same W1 for seeds 7 and 8: draw from the rng argument"


# ---------------------------------------------------------------- mlp_forward, mlp_loss
@pytest.mark.points(2)
@fixture_ok
@given(net=networks())
def test_mlp_forward_gives_the_logits(student, net):
    params, x, _ = net
    want, _ = handout_scores(params, x)
    got = student("mlp.py").mlp_forward(params, x)
    assert_close(got, want, scale=np.max(np.abs(want), initial=1.0), what="mlp_forward logits")


@pytest.mark.points(2)
@fixture_ok
@given(net=networks(), reg=REGS)
def test_mlp_loss_value(student, net, reg):
    params, x, y = net
    loss, grads = student("mlp.py").mlp_loss(params, x, y, reg=reg)
    check_scalar_type(loss, what="mlp_loss loss")
    assert sorted(grads) == sorted(params), f"mlp_loss grads should have the keys of params, {sorted(params)}; got {sorted(grads)}"
    assert_close(loss, handout_loss(params, x, y, reg), what=f"mlp_loss loss (reg={reg}: 0.5 * reg * sum of W ** 2, no biases)")


@pytest.mark.points(3)
@fixture_ok
@given(net=networks(), seed=SEEDS)
def test_mlp_loss_gradients_match_numerical_gradients(student, net, seed):
    params, x, y = net
    _, grads = student("mlp.py").mlp_loss(params, x, y, reg=0.0)
    keys = list(params)

    def loss_of(*arrays):
        return handout_loss(dict(zip(keys, arrays)), x, y, 0.0)

    check_gradient(loss_of, params, {k: grads[k] for k in keys}, rng=np.random.default_rng(seed), what="mlp_loss grads (reg=0)")


@pytest.mark.points(2)
@fixture_ok
@given(net=networks(max_layers=2), reg=REGS.filter(lambda r: r > 0), seed=SEEDS)
def test_mlp_loss_gradients_with_regularisation(student, net, reg, seed):
    params, x, y = net
    _, grads = student("mlp.py").mlp_loss(params, x, y, reg=reg)
    keys = list(params)

    def loss_of(*arrays):
        return handout_loss(dict(zip(keys, arrays)), x, y, reg)

    check_gradient(loss_of, params, {k: grads[k] for k in keys}, rng=np.random.default_rng(seed), what=f"mlp_loss grads (reg={reg}; the penalty adds reg * W to dW, nothing to db)")


@pytest.mark.points(1)
def test_mlp_loss_leaves_its_arguments_unmodified(student, rng):
    mlp = student("mlp.py")
    params = {"W1": rng.standard_normal((3, 5)), "b1": rng.standard_normal(5), "W2": rng.standard_normal((5, 2)), "b2": rng.standard_normal(2)}
    x, y = rng.standard_normal((4, 3)), np.array([0, 1, 1, 0])
    shared = mlp.share({k: v.copy() for k, v in params.items()}), mlp.share(x.copy()), mlp.share(y.copy())
    mlp.mlp_loss(*shared, reg=0.5)
    mlp.mlp_forward(shared[0], shared[1])
    after = mlp.fetch(shared[0])
    for k in params:
        assert np.array_equal(after[k], params[k]), f"mlp_loss or mlp_forward modified params[{k!r}]"
    assert np.array_equal(mlp.fetch(shared[1]), x), "mlp_loss or mlp_forward modified x"
    assert np.array_equal(mlp.fetch(shared[2]), y), "mlp_loss modified y"


# -------------------------------------------------------------------------- train_mlp
def blobs(rng, n, centers, std):
    """Gaussian clusters: class k around centers[k] (rows shuffled)."""
    centers = np.asarray(centers, dtype=np.float64)
    y = rng.integers(0, len(centers), n)
    return centers[y] + std * rng.standard_normal((n, centers.shape[1])), y


def xor_quadrants(rng, n):
    """Four clusters at (+-2, +-2); the label is 1 where x1 * x2 < 0. No line separates them."""
    corners = np.array([[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0], [-2.0, 2.0]])
    which = rng.integers(0, 4, n)
    return corners[which] + 0.5 * rng.standard_normal((n, 2)), (which >= 2).astype(np.int64)


def check_history(history, epochs):
    __tracebackhide__ = True
    missing = [key for key in ("train_loss", "val_acc") if key not in history]
    assert not missing, f"history should have the keys 'train_loss' and 'val_acc'; it lacks {missing} (its keys: {list(history)})"
    for key in ("train_loss", "val_acc"):  # other keys (a student's own records) are free
        assert len(history[key]) == epochs, f"history[{key!r}] has {len(history[key])} entries for {epochs} epochs"
        for value in history[key]:
            check_scalar_type(value, what=f"an entry of history[{key!r}]")
            assert np.isfinite(value), f"history[{key!r}] holds {value}"
    assert all(0.0 <= a <= 1.0 for a in history["val_acc"]), f"val_acc must be fractions in [0, 1], got {history['val_acc']}"


def partial_batch_sums(history_losses, example_losses, penalty, batch_size):
    """For each epoch, the sum of the losses of the examples in the final batch, as recorded.

    With fixed parameters, an epoch over N examples in nb batches of B (the last of r <= B) records
    mean over batches of the batch means: (1/nb) * ((S - P) / B + P / r), S the sum of all example
    losses, P that of the last batch. Solve for P.
    """
    n = len(example_losses)
    nb = -(-n // batch_size)
    r = n - (nb - 1) * batch_size
    total = float(np.sum(example_losses))
    return [(nb * (v - penalty) - total / batch_size) / (1.0 / r - 1.0 / batch_size) for v in history_losses], r


LR0 = dict(layer_sizes=[3, 6, 4], lr=0.0, epochs=8, batch_size=4, reg=0.3)


def lr0_run(mlp, helper, rng):
    x_train, y_train = rng.standard_normal((10, 3)) * 2, rng.integers(0, 4, 10)
    x_val, y_val = rng.standard_normal((7, 3)) * 2, rng.integers(0, 4, 7)
    params, history = mlp.train_mlp(x_train, y_train, x_val, y_val, **LR0, rng=generator(helper, seed_from(rng)))
    check_history(history, LR0["epochs"])
    example_losses = handout_example_losses(params, x_train, y_train)
    sums, r = partial_batch_sums(history["train_loss"], example_losses, handout_penalty(params, LR0["reg"]), LR0["batch_size"])
    possible = np.array([sum(c) for c in itertools.combinations(example_losses, r)])
    return params, history, (x_val, y_val), sums, possible, example_losses


@pytest.mark.points(3)
def test_train_mlp_records_the_mean_batch_loss_with_the_final_partial_batch(student, helper, rng):
    """lr=0, N=10, batch_size=4: batches of 4, 4 and 2; each epoch's train_loss must be the mean of
    the three batch losses (penalty included) at the (unchanged) parameters."""
    params, history, (x_val, y_val), sums, possible, losses = lr0_run(student("mlp.py"), helper, rng)
    tolerance = 1e-7 * (1.0 + np.sum(losses))
    for epoch, p in enumerate(sums):
        closest = possible[np.argmin(np.abs(possible - p))]
        assert abs(closest - p) <= tolerance, (
            f"epoch {epoch}: train_loss {history['train_loss'][epoch]:.10g} is not the mean over the epoch's batches "
            f"(4, 4 and the final 2 examples) of the batch loss plus the penalty, for any shuffle"
        )
    for epoch, acc in enumerate(history["val_acc"]):
        assert_close(acc, handout_accuracy(params, x_val, y_val), what=f"val_acc after epoch {epoch} (validation accuracy of the parameters)")


@pytest.mark.points(2)
def test_train_mlp_shuffles_afresh_every_epoch(student, helper, rng):
    """With lr=0, the loss recorded for an epoch depends only on which examples land in the final
    batch of 2: with a fresh shuffle every epoch, 8 epochs all picking the same pair is (1/45)^7."""
    _, history, _, sums, possible, losses = lr0_run(student("mlp.py"), helper, rng)
    spread = max(sums) - min(sums)
    assert spread > 1e-7 * (1.0 + np.sum(losses)), "every epoch put the same examples in the same batches: shuffle afresh, from rng, each epoch"


@pytest.mark.points(1)
def test_train_mlp_is_deterministic_for_equal_seeds_and_leaves_global_state_alone(student, helper, rng):
    mlp, course = student("mlp.py"), helper("course_rng.py")
    x, y = xor_quadrants(rng, 37)
    before = course.global_state()
    runs = [mlp.train_mlp(x[:30], y[:30], x[30:], y[30:], [2, 5, 2], lr=0.1, epochs=3, batch_size=8, rng=course.generator(s)) for s in (3, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(course.global_state(), before)), "train_mlp used numpy's global random state: draw from rng"
    (p1, h1), (p2, h2) = runs
    assert_close(np.array(h2["train_loss"]), np.array(h1["train_loss"]), what="train_loss of two runs with equal seeds (use only the rng argument)")
    for k in p1:
        assert_close(p2[k], p1[k], what=f"{k} after two runs with equal seeds")


@pytest.mark.points(2)
def test_train_mlp_learns_xor_quadrants(student, helper, rng):
    """An easy problem that still needs the hidden layer: validation accuracy must reach 90%."""
    mlp = student("mlp.py")
    x, y = xor_quadrants(rng, 300)
    params, history = mlp.train_mlp(x[:200], y[:200], x[200:], y[200:], [2, 16, 2], lr=0.3, epochs=25, batch_size=32, rng=generator(helper, seed_from(rng)))
    check_history(history, 25)
    assert history["train_loss"][-1] < history["train_loss"][0], f"the training loss did not decrease: {history['train_loss']}"
    assert history["val_acc"][-1] >= 0.9, f"validation accuracy after 25 epochs is {history['val_acc'][-1]:.3f}, expected at least 0.9"
    assert_close(history["val_acc"][-1], handout_accuracy(params, x[200:], y[200:]), what="the last val_acc vs the accuracy of the returned parameters")


@pytest.mark.points(1)
def test_train_mlp_learns_when_the_only_batch_is_partial(student, helper, rng):
    """batch_size 64 > N = 45: every epoch is one (partial) batch, full-batch gradient descent."""
    mlp = student("mlp.py")
    x, y = blobs(rng, 75, [[3.0, 0.0], [-1.5, 2.6], [-1.5, -2.6]], 0.5)
    params, history = mlp.train_mlp(x[:45], y[:45], x[45:], y[45:], [2, 8, 3], lr=0.5, epochs=20, batch_size=64, rng=generator(helper, seed_from(rng)))
    check_history(history, 20)
    assert history["train_loss"][-1] < history["train_loss"][0], f"the training loss did not decrease: {history['train_loss']}"
    assert history["val_acc"][-1] >= 0.8, f"validation accuracy {history['val_acc'][-1]:.3f} after 20 full-batch steps, expected at least 0.8"


@pytest.mark.points(1)
def test_train_mlp_leaves_the_data_unmodified(student, helper, rng):
    mlp = student("mlp.py")
    x, y = xor_quadrants(rng, 30)
    shared = [mlp.share(a.copy()) for a in (x[:20], y[:20], x[20:], y[20:])]
    mlp.train_mlp(*shared, [2, 4, 2], lr=0.1, epochs=2, batch_size=8, rng=generator(helper, seed_from(rng)))
    for name, original, s in zip(("x_train", "y_train", "x_val", "y_val"), (x[:20], y[:20], x[20:], y[20:]), shared):
        assert np.array_equal(mlp.fetch(s), original), f"train_mlp modified {name} (shuffle an index array, not the data)"


@pytest.mark.points(2)
def test_mlp_imports_no_banned_library_and_runs(student, helper, rng):
    """numpy only (no torch, scipy, ...); and the file must be implemented: every function runs."""
    mlp = student("mlp.py")
    mlp.assert_no_banned_imports()
    params = mlp.init_mlp([2, 3, 2], generator(helper, 0))
    x, y = rng.standard_normal((4, 2)), np.array([0, 1, 1, 0])
    mlp.mlp_forward(params, x)
    mlp.mlp_loss(params, x, y)
    mlp.train_mlp(x, y, x, y, [2, 3, 2], epochs=1, batch_size=3, rng=generator(helper, 1))
