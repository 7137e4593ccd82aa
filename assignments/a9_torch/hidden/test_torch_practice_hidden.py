"""Hidden tests for a9_torch: the student's notebook against the reference oracle.

The same setting is built twice from the same numbers: beside the student's code (``a9.inputs``,
a worker when grading) and in this process for the oracle (``a9.local`` +
``reference("torch_practice.py")``); the plain results (returned values, parameters read through
``state_dict()``, outputs of forward passes) are compared. Settings where the oracle's
answer does not depend on random draws are compared exactly (to rounding): models without
dropout or with p in {0, 1} for training, eval-mode evaluation. Monte Carlo dropout is compared
through its exact two-outcome structure and its keep rate (a 1e-9 statistical bound).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import assert_close, assert_fraction

seeds = st.integers(0, 2**32 - 1)
capped = settings(max_examples=min(settings.default.max_examples, 30))
NOTEBOOK = "torch_practice.py"  # the reference keeps the notebook's oracle as a module

OPTIMIZERS = st.sampled_from([
    ("SGD", {"lr": 0.2}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.95)}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
])


def mlp_weights(rng: np.random.Generator, d: int, h: int, c: int):
    return rng.normal(size=(h, d)), rng.normal(size=h), rng.normal(size=(c, h)), rng.normal(size=c)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def batch_sizes(draw, max_batch: int = 6) -> list[int]:
    batch = draw(st.integers(1, max_batch))
    return [batch] * draw(st.integers(0, 3)) + [draw(st.integers(1, batch))]


@st.composite
def train_settings(draw):
    rng_seed = draw(seeds)
    return {
        "seed": rng_seed,
        "d": draw(st.integers(1, 5)),
        "h": draw(st.integers(1, 7)),
        "c": draw(st.integers(2, 6)),
        "p": draw(st.sampled_from([0.0, 1.0])),  # no randomness: the oracle's losses are exact
        "sizes": batch_sizes(draw),
        "optimizer": draw(OPTIMIZERS),
        "training": draw(st.booleans()),
    }


@pytest.mark.points(2)
@capped
@given(setting=train_settings())
def test_hidden_build_mlp_matches_reference(a9, reference, setting):
    """build_mlp: the oracle's model given the student's weights computes the same outputs, in eval
    mode and (for p = 0 and p = 1, where train mode is not random) in train mode; and, like the
    oracle's, the model trains: for p = 1 a backward pass in train mode gives the gradients of the
    model whose hidden units are all dropped."""
    ref = reference(NOTEBOOK)
    d, h, c = setting["d"], setting["h"], setting["c"]
    p = [0.0, 0.15, 0.5, 0.85, 1.0][setting["seed"] % 5]
    x = np.random.default_rng(setting["seed"]).normal(size=(3, d))
    what = f"build_mlp({d}, {h}, {c}, {p})"
    theirs = a9.float64_model(a9.nb.build_mlp(d, h, c, p), what)
    fits = a9.mlp_parameters(theirs, d, h, c, what)
    modes = [False, True] if p in (0.0, 1.0) else [False]
    got = {}
    for training in modes:
        theirs.train(training)
        got[training] = a9.forward(theirs, x, "cpu", f"{what}: the output")
    failures = []
    for weights in fits:
        ours = a9.local.load_parameters(ref.build_mlp(d, h, c, p).double(), list(weights))
        for training in modes:
            ours.train(training)
            expected = a9.forward_here(ours, x, "the oracle's output")
            mode = "train" if training else "eval"
            if got[training].shape != expected.shape or not np.allclose(got[training], expected, rtol=1e-9, atol=1e-12):
                failures.append(f"{what} in {mode} mode: output {got[training]}, the oracle's with the same weights {expected}")
                break
        else:
            break
    else:
        raise AssertionError(failures[0])
    if p == 1.0:
        check_trains_with_every_hidden_unit_dropped(a9, theirs, x, c, what)


def check_trains_with_every_hidden_unit_dropped(a9, model, x: np.ndarray, c: int, what: str) -> None:
    """``model(x).sum().backward()`` in train mode with p = 1: the logits are b2 whatever x, so b2's
    gradient is N in every entry and every other parameter's is zero (or None: not reached).
    A Dropout that works in place on the ReLU's output raises here, as in any training."""
    __tracebackhide__ = True
    names = [name for name, _ in a9.state(model, what)]
    model.train(True)
    try:
        model(a9.inputs.tensor(x)).sum().backward()
    except Exception as error:
        raise AssertionError(f"{what}: the model cannot be trained: a backward pass in train mode raised {error}") from None
    grads = []
    for name in names:
        grad = model.get_parameter(name).grad
        grads.append(None if grad is None else a9.tensor(grad, f"{what}: the gradient of {name}").values)
    reached = [(name, g) for name, g in zip(names, grads) if g is not None and np.any(g)]
    expected = np.full(c, float(len(x)))
    ok = len(reached) == 1 and reached[0][1].shape == (c,) and np.allclose(reached[0][1], expected, rtol=1e-9, atol=1e-12)
    assert ok, (
        f"{what} in train mode (every hidden unit dropped): the gradients of model(x).sum() for x of {len(x)} rows "
        f"should be {expected} for the last bias and zero elsewhere, got {dict((n, g) for n, g in zip(names, grads))}"
    )


@pytest.mark.points(3)
@capped
@given(setting=train_settings())
def test_hidden_train_epoch_two_epochs_match_reference(a9, reference, setting):
    """Two epochs with SGD (momentum, Nesterov, dampening, weight decay), Adam, AdamW or RMSprop:
    the returned means and the final weights equal the oracle's."""
    nb, inputs, local = a9.nb, a9.inputs, a9.local
    ref = reference(NOTEBOOK)
    rng = np.random.default_rng(setting["seed"])
    d, h, c = setting["d"], setting["h"], setting["c"]
    weights = mlp_weights(rng, d, h, c)
    n = sum(setting["sizes"])
    x, y = rng.normal(size=(n, d)), rng.integers(0, c, size=n)
    name, options = setting["optimizer"]
    args = (*weights, setting["p"], x, y, setting["sizes"], name, options, "cpu", setting["training"])
    theirs, ours = inputs.mlp_train_setting(*args), local.mlp_train_setting(*args)

    what = f"train_epoch (MLP {d}-{h}-{c}, p={setting['p']}, {name}{options}, batches {setting['sizes']})"
    for epoch in (1, 2):
        got = nb.train_epoch(theirs["model"], theirs["loader"], theirs["optimizer"], theirs["loss_fn"], theirs["device"])
        expected = ref.train_epoch(ours["model"], ours["loader"], ours["optimizer"], ours["loss_fn"], ours["device"])
        assert isinstance(got, float), f"{what} must return a Python float"
        assert_close(got, expected, what=f"{what}, epoch {epoch}: the mean batch loss")
    got = [value for _, value in a9.state(theirs["model"], f"{what}: the model")]
    expected = [value for _, value in a9.state(ours["model"], "the oracle's model")]
    assert len(got) == len(expected), f"{what}: the model has {len(got)} parameters afterwards, expected {len(expected)}"
    for k, (g, e) in enumerate(zip(got, expected)):
        assert_close(g, e, what=f"{what}: parameter {k} after two epochs")


@pytest.mark.points(2)
@capped
@given(seed=seeds, d=st.integers(1, 5), h=st.integers(1, 8), c=st.integers(2, 6), p=st.sampled_from([0.2, 0.5, 0.9]), data=st.data())
def test_hidden_evaluate_matches_reference(a9, reference, seed, d, h, c, p, data):
    """evaluate on a model that came in train mode: the oracle's accuracy."""
    nb, inputs, local = a9.nb, a9.inputs, a9.local
    ref = reference(NOTEBOOK)
    rng = np.random.default_rng(seed)
    weights = mlp_weights(rng, d, h, c)
    sizes = batch_sizes(data.draw, max_batch=8)
    n = sum(sizes)
    x = rng.normal(size=(n, d))
    w1, b1, w2, b2 = weights
    logits = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    y = np.where(rng.random(n) < 0.6, logits.argmax(axis=1), rng.integers(0, c, size=n))
    theirs = inputs.mlp_setting(*weights, p, "cpu", True)
    ours = local.mlp_setting(*weights, p, "cpu", True)
    a9.check_dropout_as_built(theirs["model"], p)
    got = nb.evaluate(theirs["model"], inputs.batches(x, y, sizes), theirs["device"])
    expected = ref.evaluate(ours["model"], local.batches(x, y, sizes), ours["device"])
    assert isinstance(got, float), "evaluate must return a Python float"
    assert_close(got, expected, what=f"evaluate (MLP {d}-{h}-{c}, p={p}, batches {sizes})")


@pytest.mark.points(2)
@capped
@given(seed=seeds, n=st.integers(1, 9), d=st.integers(1, 4), h=st.integers(1, 6), c=st.integers(2, 6),
       p=st.sampled_from([0.0, 1.0]), n_samples=st.integers(1, 12), training=st.booleans())
def test_hidden_mc_dropout_without_randomness_matches_reference(a9, reference, seed, n, d, h, c, p, n_samples, training):
    """p = 0 (every pass the eval model) and p = 1 (every hidden unit dropped): mean, std and the
    model's outputs afterwards (its mode: p = 1 shows it) equal the oracle's."""
    nb, inputs, local = a9.nb, a9.inputs, a9.local
    ref = reference(NOTEBOOK)
    rng = np.random.default_rng(seed)
    weights = mlp_weights(rng, d, h, c)
    x = rng.normal(size=(n, d))
    theirs = inputs.mlp_setting(*weights, p, "cpu", training, x)
    ours = local.mlp_setting(*weights, p, "cpu", training, x)
    got = nb.mc_dropout_predict(theirs["model"], theirs["x"], n_samples)
    expected = ref.mc_dropout_predict(ours["model"], ours["x"], n_samples)
    what = f"mc_dropout_predict (MLP {d}-{h}-{c}, p={p}, x of shape {(n, d)}, n_samples={n_samples})"
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"{what} must return a tuple (mean, std), got {got!r}"
    for name, g, e in zip(("mean", "std"), got, expected):
        g, e = a9.tensor(g, f"{what}: {name}"), a9.tensor(e, "the oracle's result")
        assert g.shape == e.shape, f"{what}: {name} has shape {g.shape}, expected {e.shape}"
        # judged to six digits of the probabilities they come from (at most 1): passes computed in
        # float32 are fine, and a std of identical passes from sqrt(E[p^2] - E[p]^2) is the square
        # root of a rounding error, not 0
        assert_close(g.values, e.values, scale=1.0, what=f"{what}: {name}")
    after = a9.forward(theirs["model"], x, "cpu", f"{what}: the model's output afterwards")
    assert_close(after, a9.forward_here(ours["model"], x, "the oracle's model afterwards"), what=f"{what}: the model's output afterwards (its mode differs from before)")


@pytest.mark.points(2)
@capped
@given(seed=seeds, n=st.integers(8, 16), d=st.integers(1, 4), c=st.integers(2, 6),
       p=st.sampled_from([0.25, 0.4, 0.6, 0.75]), n_samples=st.integers(20, 50), training=st.booleans())
def test_hidden_mc_dropout_keeps_units_at_the_rate_1_minus_p(a9, seed, n, d, c, p, n_samples, training):
    """One hidden unit: every row of the mean is a k/n mixture of the two outcomes (to six digits), and the
    kept passes over all rows look like Binomial(N * n_samples, 1 - p) draws (1e-9 bound)."""
    nb, inputs = a9.nb, a9.inputs
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, size=(n, d))
    w1, b1 = rng.uniform(0.5, 1.5, size=(1, d)), np.array([0.1])
    w2 = ((rng.permutation(c) - (c - 1) / 2) * rng.uniform(0.5, 1.0))[:, None]
    b2 = rng.normal(size=c)
    z = np.maximum(x @ w1.T + b1, 0)
    kept, dropped = softmax(b2 + (z / (1 - p)) @ w2.T), softmax(np.broadcast_to(b2, (n, c)))
    setting = inputs.mlp_setting(w1, b1, w2, b2, p, "cpu", training, x)
    result = nb.mc_dropout_predict(setting["model"], setting["x"], n_samples)
    what = f"mc_dropout_predict (p={p}, n_samples={n_samples})"
    assert isinstance(result, (tuple, list)) and len(result) == 2, f"{what} must return a tuple (mean, std), got {result!r}"
    mean = a9.tensor(result[0], f"{what}: mean")
    assert mean.shape == (n, c), f"{what}: mean has shape {mean.shape}, expected {(n, c)}"
    direction = kept - dropped
    f = ((mean.values - dropped) * direction).sum(axis=1) / (direction**2).sum(axis=1)
    k = np.round(f * n_samples)
    mixture = (k[:, None] * kept + (n_samples - k[:, None]) * dropped) / n_samples
    assert np.all((k >= 0) & (k <= n_samples)), f"{what}: the mean is not an average of {n_samples} passes"
    # six digits of the probabilities (float32 passes are as good as float64 ones); neighbouring
    # mixtures differ by |kept - dropped| / n_samples: at least 6.5e-5 in some entry of every row
    # (20,000 cases drawn as here), thirty times the tolerance, so k is still read exactly
    assert_close(mean.values, mixture, scale=1.0, what=f"{what}: mean as the average of the passes")
    hits = np.concatenate([np.arange(n_samples) < ki for ki in k.astype(int)])
    assert_fraction(hits, 1 - p, what=f"{what}: passes with the hidden unit kept")
