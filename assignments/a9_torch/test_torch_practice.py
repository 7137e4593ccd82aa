"""Public tests for a9_torch: the five functions of ``torch_practice.ipynb``.

Run them with ``pytest assignments/a9_torch``.

How your functions are checked:

* The models, batches and optimizers your functions get are built by ``torch_inputs.py`` beside
  your code, with float64 weights the test chose; the test then computes what it expects itself
  (in numpy, or with the same PyTorch calls written out) and compares.
* Everything is judged by what can be seen from outside your code: what your functions return,
  the parameters and gradients of the model afterwards, and forward passes the test runs itself.
  Whether you switched the mode is seen in the results: the tests use dropout with p = 1 (in train
  mode every hidden unit is dropped, so the logits are the last bias b2) and models whose two
  possible outputs per input are known. Whether a graph was recorded is seen in what you return
  (results that require grad) and in the gradients afterwards.
* The loaders are plain lists of ``(x, y)`` batches, and the last batch is often smaller: that is
  where an unweighted mean of the batch losses and an accuracy over examples differ from the
  alternatives.
* Monte Carlo dropout is checked to six digits although it is random: the test model has ONE hidden
  unit, so each stochastic pass gives one of only two probability vectors per input (unit kept or
  dropped), and whatever the random draws, the mean must be ``f * P_kept + (1 - f) * P_dropped``
  with ``f`` a multiple of ``1 / n_samples`` and the population standard deviation
  ``sqrt(f (1 - f)) |P_kept - P_dropped|``.
* Every test runs on the CPU. The copies with ``[cuda]`` in their name (marked ``gpu``) run only
  where CUDA is available, put the model on the GPU, and compare with the CPU results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import assert_close
from grader.tolerance import ATOL, RTOL

DEVICES = [pytest.param("cpu", id="cpu"), pytest.param("cuda", id="cuda", marks=pytest.mark.gpu)]
seeds = st.integers(0, 2**32 - 1)
# Each example builds a model and makes a few round trips to the worker when grading (~10 ms):
# at most 30 examples per test keep a grading run within seconds per test.
capped = settings(max_examples=min(settings.default.max_examples, 30))
# The magnitude of what a std is computed from: probabilities, at most 1. Six digits of them
# (COURSE_API "Accuracy") allow the rounding of any valid formula, sqrt(E[p^2] - E[p]^2) included,
# whose std of identical passes is the square root of a rounding error (about 1e-8), not 0.
PROBABILITY = 1.0


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def same_rows(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Per row, whether ``got`` equals ``expected`` to rounding."""
    return np.isclose(got, expected, rtol=1e-9, atol=1e-12).all(axis=1)


# ---------------------------------------------------------------- get_device


@pytest.mark.points(1)
def test_get_device_returns_the_device_of_this_machine(a9):
    """get_device() returns a torch.device: cuda exactly when torch.cuda.is_available()."""
    device = a9.nb.get_device()
    kind = a9.device_type(device)
    assert kind is not None, f"get_device() must return a torch.device, got {device!r}"
    expected = "cuda" if a9.local.cuda_available() else "cpu"
    assert kind == expected, f"get_device() returned a {kind} device on a machine where it should be {expected}"


@pytest.mark.points(1)
@pytest.mark.parametrize("available", [False, True], ids=["no-cuda", "cuda-available"])
def test_get_device_follows_cuda_availability(a9, available):
    """With torch.cuda.is_available() made to answer True (False), get_device() is cuda (cpu)."""
    a9.inputs.pretend_cuda(available)
    try:
        device = a9.nb.get_device()
    finally:
        a9.inputs.pretend_cuda(None)
    expected = "cuda" if available else "cpu"
    kind = a9.device_type(device)
    assert kind == expected, (
        f"while torch.cuda.is_available() returned {available}, get_device() returned "
        f"{'a ' + kind + ' device' if kind else repr(device)}; expected a {expected} device"
    )


# ---------------------------------------------------------------- build_mlp

sizes = st.integers(1, 8)
drop_rates = st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.6, 0.75, 0.9, 1.0]) | st.floats(0.0, 1.0)


@pytest.mark.points(2)
@capped
@given(d=sizes, h=sizes, c=sizes, p=drop_rates)
def test_build_mlp_parameters_and_sizes(a9, d, h, c, p):
    """The parameters are the weights and biases of Linear(d, h) and Linear(h, c), and (N, d) maps to (N, c)."""
    what = f"build_mlp({d}, {h}, {c}, p_drop={p})"
    model = a9.float64_model(a9.nb.build_mlp(d, h, c, p), what)
    a9.mlp_parameters(model, d, h, c, what)
    model.eval()
    out = a9.forward(model, np.zeros((2, d)), "cpu", f"{what}: the output")
    assert out.shape == (2, c), f"{what}: an input of shape (2, {d}) gives an output of shape {out.shape}, expected (2, {c})"


@pytest.mark.points(2)
@capped
@given(seed=seeds, d=sizes, h=sizes, c=sizes, p=drop_rates)
def test_build_mlp_eval_mode_is_linear_relu_linear(a9, seed, d, h, c, p):
    """In eval mode the model maps x to relu(x W1^T + b1) W2^T + b2 (dropout is the identity), every time."""
    what = f"build_mlp({d}, {h}, {c}, p_drop={p}) in eval mode"
    model = a9.float64_model(a9.nb.build_mlp(d, h, c, p), what)
    fits = a9.mlp_parameters(model, d, h, c, what)
    model.eval()
    x = np.random.default_rng(seed).normal(size=(5, d))
    first = a9.forward(model, x, "cpu", f"{what}: the output")
    second = a9.forward(model, x, "cpu", f"{what}: the output of a second pass")
    candidates = [relu(x @ w1.T + b1) @ w2.T + b2 for w1, b1, w2, b2 in fits]
    expected = min(candidates, key=lambda e: np.abs(e - first).max() if e.shape == first.shape else np.inf)
    assert_close(first, expected, what=f"{what} (with the model's own weights)")
    assert_close(second, first, what=f"{what}: a second pass on the same input")


def dropout_failure(x: np.ndarray, out: np.ndarray, weights: tuple[np.ndarray, ...], p: float, what: str) -> str | None:
    """Why ``out`` is not ``(mask * relu(x W1^T + b1) / (1 - p)) W2^T + b2`` for any 0/1 mask, or None.

    The hidden values entering the last Linear are read off the output: with W2 of shape (c, h),
    c >= h, they solve ``(out - b2) = hidden W2^T``. Rounding in the forward pass (~1e-16 of the
    output) grows by at most 1 / sigma_min(W2) in the solve; the tolerance allows 1e-8 of it.
    """
    w1, b1, w2, b2 = weights
    hidden = relu(x @ w1.T + b1)
    scaled = hidden / (1 - p) if p < 1 else np.zeros_like(hidden)
    got = np.linalg.lstsq(w2, (out - b2).T, rcond=None)[0].T
    sigma_min = np.linalg.svd(w2, compute_uv=False).min()
    tol = 1e-8 * (1 + np.abs(out - b2).max()) / max(sigma_min, 1e-300) + 1e-9 * np.abs(scaled)
    if not np.allclose(got @ w2.T + b2, out, rtol=1e-9, atol=1e-9):
        return f"{what}: the output is not (hidden units) W2^T + b2 for any hidden units: something after the last Linear changes it"
    ok = (np.abs(got) <= tol) | (np.abs(got - scaled) <= tol)
    if ok.all():
        return None
    i, j = np.argwhere(~ok)[0]
    return (
        f"{what}: hidden unit [{i}, {j}] entering the last Linear is {got[i, j]!r}; relu(z) = {hidden[i, j]!r}, "
        f"so it should be 0 (dropped) or relu(z) / (1 - p) = {scaled[i, j]!r} (kept)"
    )


@pytest.mark.points(2)
@capped
@given(seed=seeds, d=sizes, h=st.integers(1, 6), extra=st.integers(0, 3), p=st.floats(0.05, 1.0))
def test_build_mlp_train_mode_drops_hidden_units(a9, seed, d, h, extra, p):
    """In train mode each hidden unit after the ReLU is 0 or relu(z) / (1 - p): inverted dropout
    (read off the output, with at least as many outputs as hidden units)."""
    c = h + extra
    what = f"build_mlp({d}, {h}, {c}, p_drop={p}) in train mode"
    model = a9.float64_model(a9.nb.build_mlp(d, h, c, p), what)
    fits = a9.mlp_parameters(model, d, h, c, what)
    model.train()
    x = np.random.default_rng(seed).normal(size=(16, d))
    out = a9.forward(model, x, "cpu", f"{what}: the output")
    assert out.shape == (16, c), f"{what}: an input of shape (16, {d}) gives an output of shape {out.shape}, expected (16, {c})"
    failures = [dropout_failure(x, out, weights, p, what) for weights in fits]
    if all(failures):
        raise AssertionError(failures[0])


# ---------------------------------------------------------------- train_epoch


@dataclass(frozen=True)
class TrainCase:
    seed: int
    features: int
    classes: int
    batch_sizes: tuple[int, ...]
    lr: float
    momentum: float

    def data(self):
        rng = np.random.default_rng(self.seed)
        n = sum(self.batch_sizes)
        x = rng.normal(size=(n, self.features))
        y = rng.integers(0, self.classes, size=n)
        w = rng.normal(size=(self.classes, self.features))
        b = rng.normal(size=self.classes)
        return x, y, w, b


@st.composite
def train_cases(draw, min_batches=1):
    batch = draw(st.integers(1, 5))
    full = draw(st.integers(min_batches - 1, 3))
    last = draw(st.integers(1, batch))
    return TrainCase(
        seed=draw(seeds),
        features=draw(st.integers(1, 4)),
        classes=draw(st.integers(2, 5)),
        batch_sizes=(batch,) * full + (last,),
        lr=draw(st.sampled_from([0.05, 0.3, 1.0])),
        momentum=draw(st.sampled_from([0.0, 0.9])),
    )


def run_train_epoch(a9, case: TrainCase, device: str):
    """Train a float64 Linear on ``device``; the result, the expected batch losses, the parameters
    afterwards and the expected ones (the written-out loop, in this process)."""
    x, y, w, b = case.data()
    setting = a9.inputs.train_setting(x, y, w, b, list(case.batch_sizes), case.lr, case.momentum, device)  # loader on the CPU
    result = a9.nb.train_epoch(setting["model"], setting["loader"], setting["optimizer"], setting["loss_fn"], setting["device"])
    params = [value for _, value in a9.state(setting["model"], "the model after train_epoch")]

    local = a9.local
    expected_model = local.linear(w, b)
    losses = local.manual_train_epoch(
        expected_model, local.batches(x, y, list(case.batch_sizes)), local.sgd(expected_model, case.lr, case.momentum), local.cross_entropy()
    )
    expected = [value for _, value in a9.state(expected_model, "the expected model")]
    return result, losses, params, expected, setting["model"], x


def check_float(result, what: str) -> None:
    assert isinstance(result, float), f"{what} must return a Python float (use loss.item()), got {result!r}"


def check_runs_on(a9, model, x: np.ndarray, device: str, what: str) -> None:
    """The model still runs on a batch on ``device`` (torch raises when its parameters are elsewhere)."""
    try:
        a9.forward(model, x[:1], device, f"{what}: the output")
    except Exception as error:
        raise AssertionError(f"{what}: afterwards the model no longer runs on a batch on {device} ({error}); its parameters must stay on {device}") from None


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=train_cases())
def test_train_epoch_returns_mean_batch_loss(a9, device, case):
    """train_epoch returns the mean of the batch losses, as a Python float."""
    result, losses, *_ = run_train_epoch(a9, case, device)
    what = f"train_epoch (batches of sizes {list(case.batch_sizes)}, lr={case.lr}, momentum={case.momentum}, on {device})"
    check_float(result, what)
    assert_close(result, sum(losses) / len(losses), what=f"{what}: the mean of the batch losses {losses}")


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=train_cases(min_batches=2))
def test_train_epoch_updates_parameters_one_step_per_batch(a9, device, case):
    """One optimizer step per batch from fresh gradients: the weights equal those of the written-out loop."""
    _, _, params, expected, model, x = run_train_epoch(a9, case, device)
    what = f"train_epoch (batches of sizes {list(case.batch_sizes)}, lr={case.lr}, momentum={case.momentum}, on {device})"
    assert len(params) == len(expected), f"{what}: the model has {len(params)} parameters afterwards, expected {len(expected)}"
    for name, got, want in zip(("weight", "bias"), params, expected):
        assert_close(got, want, what=f"{what}: the {name} after the epoch (did you call optimizer.zero_grad() before each backward()?)")
    check_runs_on(a9, model, x, device, what)


@pytest.mark.points(2)
@capped
@given(seed=seeds, features=st.integers(1, 4), classes=st.integers(2, 5), batch=st.integers(2, 5), last=st.integers(1, 4))
def test_train_epoch_mean_is_unweighted(a9, seed, features, classes, batch, last):
    """A smaller last batch counts as much as any other: (1/B) sum_b loss_b, not a mean over examples."""
    last = min(last, batch - 1)
    case = TrainCase(seed, features, classes, (batch, batch, last), lr=0.0, momentum=0.0)  # lr 0: the losses stay fixed
    result, losses, *_ = run_train_epoch(a9, case, "cpu")
    check_float(result, "train_epoch")
    unweighted = sum(losses) / len(losses)
    weighted = sum(loss * size for loss, size in zip(losses, case.batch_sizes)) / sum(case.batch_sizes)
    hint = " (that is the mean weighted by batch size)" if abs(result - weighted) <= 1e-9 * max(1.0, abs(weighted)) else ""
    assert_close(result, unweighted, what=f"train_epoch with batch losses {losses} for batches of sizes {list(case.batch_sizes)}{hint}")


@st.composite
def mlp_train_cases(draw):
    """An MLP with dropout p = 1, data and SGD settings: in train mode every hidden unit is dropped
    (the logits are b2 whatever x, and W1, b1, W2 get zero gradients); in eval mode none is."""
    batch = draw(st.integers(1, 5))
    return {
        "seed": draw(seeds),
        "d": draw(st.integers(1, 4)),
        "h": draw(st.integers(1, 6)),
        "c": draw(st.integers(2, 5)),
        "sizes": [batch] * draw(st.integers(0, 2)) + [draw(st.integers(1, batch))],
        "lr": draw(st.sampled_from([0.05, 0.3, 1.0])),
        "momentum": draw(st.sampled_from([0.0, 0.9])),
    }


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=mlp_train_cases())
def test_train_epoch_runs_in_train_mode_on_the_device(a9, device, case):
    """The model came in eval mode with dropout p = 1: in train mode every hidden unit is dropped, so
    the mean loss and the weights afterwards are those of train-mode training; batches reach the device."""
    rng = np.random.default_rng(case["seed"])
    d, h, c, sizes = case["d"], case["h"], case["c"], case["sizes"]
    weights = rng.normal(size=(h, d)), rng.normal(size=h), rng.normal(size=(c, h)), rng.normal(size=c)
    n = sum(sizes)
    x, y = rng.normal(size=(n, d)), rng.integers(0, c, size=n)
    optimizer = ("SGD", {"lr": case["lr"], "momentum": case["momentum"]})
    theirs = a9.inputs.mlp_train_setting(*weights, 1.0, x, y, sizes, *optimizer, device, False)
    result = a9.nb.train_epoch(theirs["model"], theirs["loader"], theirs["optimizer"], theirs["loss_fn"], theirs["device"])
    ours = a9.local.mlp_train_setting(*weights, 1.0, x, y, sizes, *optimizer, "cpu", False)
    losses = a9.local.manual_train_epoch(ours["model"], ours["loader"], ours["optimizer"], ours["loss_fn"])

    what = f"train_epoch (MLP {d}-{h}-{c} with dropout p = 1, given in eval mode, batches {sizes}, on {device})"
    hint = "; in train mode every hidden unit is dropped: call model.train() first (an earlier evaluate may have switched it off)"
    check_float(result, what)
    assert_close(result, sum(losses) / len(losses), what=f"{what}: the mean batch loss{hint}")
    got = [value for _, value in a9.state(theirs["model"], f"{what}: the model")]
    expected = [value for _, value in a9.state(ours["model"], "the expected model")]
    assert len(got) == len(expected), f"{what}: the model has {len(got)} parameters afterwards, expected {len(expected)}"
    for k, (g, e) in enumerate(zip(got, expected)):
        assert_close(g, e, what=f"{what}: parameter {k} after the epoch{hint}")
    check_runs_on(a9, theirs["model"], x, device, what)


# ---------------------------------------------------------------- evaluate


@dataclass(frozen=True)
class EvalCase:
    seed: int
    features: int
    hidden: int
    classes: int
    batch_sizes: tuple[int, ...]
    p: float

    def data(self):
        rng = np.random.default_rng(self.seed)
        n = sum(self.batch_sizes)
        d, h, c = self.features, self.hidden, self.classes
        w1, b1 = rng.normal(size=(h, d)), rng.normal(size=h)
        w2, b2 = rng.normal(size=(c, h)), rng.normal(size=c)
        x = rng.normal(size=(n, d))
        logits = relu(x @ w1.T + b1) @ w2.T + b2
        # labels: about half of them the model's prediction, the rest random
        y = np.where(rng.random(n) < 0.5, logits.argmax(axis=1), rng.integers(0, c, size=n))
        return x, y, (w1, b1, w2, b2), logits


@st.composite
def eval_cases(draw):
    batch = draw(st.integers(1, 6))
    return EvalCase(
        seed=draw(seeds),
        features=draw(st.integers(1, 4)),
        hidden=draw(st.integers(1, 8)),
        classes=draw(st.integers(2, 5)),
        batch_sizes=(batch,) * draw(st.integers(0, 3)) + (draw(st.integers(1, batch)),),
        p=draw(st.sampled_from([0.3, 0.5, 0.8])),
    )


def run_evaluate(a9, case: EvalCase, device: str):
    """``evaluate`` on an MLP with dropout that starts in TRAIN mode."""
    x, y, weights, logits = case.data()
    setting = a9.inputs.mlp_setting(*weights, case.p, device, True)
    a9.check_dropout_as_built(setting["model"], case.p)
    result = a9.nb.evaluate(setting["model"], a9.inputs.batches(x, y, list(case.batch_sizes)), setting["device"])
    return result, y, logits


def accuracy_bounds(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Accuracy of the argmax, where a near-tie (within rounding) may go either way."""
    top = np.sort(logits, axis=1)
    ambiguous = (top[:, -1] - top[:, -2]) <= 1e-9 * (1 + np.abs(top[:, -1]))
    right = (logits.argmax(axis=1) == y) & ~ambiguous
    return right.sum() / len(y), (right.sum() + ambiguous.sum()) / len(y)


@pytest.mark.points(3)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=eval_cases())
def test_evaluate_returns_accuracy_over_examples(a9, device, case):
    """evaluate returns #(argmax logits == y) / #examples over all batches, as a Python float."""
    result, y, logits = run_evaluate(a9, case, device)
    what = f"evaluate (batches of sizes {list(case.batch_sizes)}, on {device})"
    assert isinstance(result, float), f"{what} must return a Python float, got {result!r}"
    low, high = accuracy_bounds(logits, y)
    # An accuracy computed in float32, as (pred == y).float().mean().item() does, is the exact
    # fraction k/n rounded once (k, n < 2**24 are exact): a relative error of at most 2**-24 = 6e-8,
    # a few such per-batch roundings at most a few times that. The course's six digits (RTOL 1e-6)
    # hold it 16 times over, while two different fractions with n <= 24 differ by at least 1/n**2.
    slack = RTOL * high + ATOL
    assert low - slack <= result <= high + slack, (
        f"{what} returned {result!r}; the eval-mode model predicts {int(round(low * len(y)))} of the {len(y)} "
        f"examples right, accuracy {low!r} (count examples over all batches, not a mean of per-batch accuracies)"
    )


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=eval_cases())
def test_evaluate_runs_in_eval_mode_on_the_device(a9, device, case):
    """Dropout is off: a model with p = 1 that came in train mode (where every input gets the logits
    b2) gets its eval-mode accuracy; batches reach the model's device."""
    x, _, weights, logits = case.data()
    y = logits.argmax(axis=1)  # the eval-mode model is right on every example
    b2 = weights[3]
    setting = a9.inputs.mlp_setting(*weights, 1.0, device, True)
    given_out = a9.forward(setting["model"], x, device, "the model given to evaluate")
    assert same_rows(given_out, np.broadcast_to(b2, given_out.shape)).all(), (
        "the model given to evaluate does not behave as it was built (with p = 1, in train mode, the logits are b2)"
    )
    result = a9.nb.evaluate(setting["model"], a9.inputs.batches(x, y, list(case.batch_sizes)), setting["device"])
    what = f"evaluate (a model with dropout p = 1 given in train mode, batches of sizes {list(case.batch_sizes)}, on {device})"
    assert isinstance(result, float), f"{what} must return a Python float, got {result!r}"
    low, high = accuracy_bounds(logits, y)
    in_train_mode = float(np.mean(y == np.argmax(b2)))
    slack = RTOL * high + ATOL
    assert low - slack <= result <= high + slack, (
        f"{what} returned {result!r}; in eval mode the model predicts every example right (accuracy {low!r}), "
        f"in train mode it would predict class {int(np.argmax(b2))} everywhere (accuracy {in_train_mode!r}): call model.eval() first"
    )


@pytest.mark.points(2)
@capped
@given(case=eval_cases())
def test_evaluate_leaves_parameters_and_gradients_unchanged(a9, case):
    """evaluate changes no parameter and accumulates no gradient (the model came with gradients).

    Whether the passes recorded a graph is not observable from outside your code: a graph that is
    built and dropped leaves no trace. What a backward pass or an optimizer step would leave is."""
    x, y, weights, _ = case.data()
    grads = [np.random.default_rng(case.seed + 1).normal(size=np.shape(w)) for w in weights]
    setting = a9.inputs.mlp_setting(*weights, case.p, "cpu", True, None, grads)
    a9.nb.evaluate(setting["model"], a9.inputs.batches(x, y, list(case.batch_sizes)), setting["device"])
    model = setting["model"]
    what = f"evaluate (batches of sizes {list(case.batch_sizes)})"
    for (layer, name), before, grad in zip((("0", "weight"), ("0", "bias"), ("3", "weight"), ("3", "bias")), weights, grads):
        parameter = getattr(getattr(model, layer), name)
        label = f"the {name} of layer {layer}"
        assert_close(a9.tensor(parameter, label).values, before, what=f"{what}: {label} afterwards (evaluate must not train)")
        after = parameter.grad
        if after is None:
            continue  # zero_grad(set_to_none=True): no gradient accumulated
        after = a9.tensor(after, f"the gradient of {label}").values
        assert np.array_equal(after, grad) or not after.any(), (
            f"{what}: the gradient of {label} changed from {grad} to {after}: evaluate ran a backward pass; "
            "run the forward passes inside `with torch.no_grad():` and compute no loss gradient"
        )


# ---------------------------------------------------------------- mc_dropout_predict


@dataclass(frozen=True)
class MCCase:
    """A model with one hidden unit: each pass gives P_kept or P_dropped per input."""

    seed: int
    n: int
    features: int
    classes: int
    p: float
    n_samples: int
    was_training: bool

    def weights(self):
        rng = np.random.default_rng(self.seed)
        x = rng.uniform(0.5, 1.5, size=(self.n, self.features))
        w1 = rng.uniform(0.5, 1.5, size=(1, self.features))
        b1 = np.array([0.1])
        spread = rng.uniform(0.5, 1.0)
        w2 = ((rng.permutation(self.classes) - (self.classes - 1) / 2) * spread)[:, None]
        b2 = rng.normal(size=self.classes)
        return x, (w1, b1, w2, b2)

    def outcomes(self):
        """The probabilities of one pass with the hidden unit kept, and with it dropped."""
        x, (w1, b1, w2, b2) = self.weights()
        z = relu(x @ w1.T + b1)
        kept = softmax(b2 + (z / (1 - self.p)) @ w2.T)
        dropped = softmax(np.broadcast_to(b2, (self.n, self.classes)))
        return kept, dropped


@st.composite
def mc_cases(draw, n_samples=st.integers(20, 40)):
    # n >= 8 inputs, n_samples >= 20 passes, 0.2 <= p <= 0.8: the chance that no input sees both
    # outcomes (dropout would look inactive) is at most (0.8**20 + 0.2**20)**8 < 1e-15
    return MCCase(
        seed=draw(seeds),
        n=draw(st.integers(8, 12)),
        features=draw(st.integers(1, 4)),
        classes=draw(st.integers(2, 5)),
        p=draw(st.sampled_from([0.2, 0.3, 0.5, 0.7, 0.8])),
        n_samples=draw(n_samples),
        was_training=draw(st.booleans()),
    )


def run_mc(a9, case: MCCase, device: str):
    """``mc_dropout_predict`` on the one-hidden-unit model; the mean and std read back, and the model."""
    x, weights = case.weights()
    setting = a9.inputs.mlp_setting(*weights, case.p, device, case.was_training, x)
    result = a9.nb.mc_dropout_predict(setting["model"], setting["x"], case.n_samples)
    assert isinstance(result, (tuple, list)) and len(result) == 2, f"mc_dropout_predict must return a tuple (mean, std), got {result!r}"
    mean, std = (a9.tensor(value, f"mc_dropout_predict's {name}") for name, value in zip(("mean", "std"), result))
    return mean, std, setting["model"]


def mixture_fractions(case: MCCase, mean: np.ndarray, what: str) -> np.ndarray:
    """Per input, the fraction f of passes with the unit kept, read off the mean; checks it.

    The mean must be a ``k / n_samples`` mixture to six digits of the probabilities (the course's
    accuracy: passes collected in a float32 buffer are as good as float64 ones). Neighbouring
    mixtures differ by ``|P_kept - P_dropped| / n_samples``, over 7e-5 in some entry of every row
    these cases build (20,000 drawn): thirty times the tolerance, so ``k`` is still read exactly."""
    kept, dropped = case.outcomes()
    direction = kept - dropped
    f = ((mean - dropped) * direction).sum(axis=1) / (direction**2).sum(axis=1)
    k = np.round(f * case.n_samples)
    for i in range(case.n):
        expected_row = (k[i] * kept[i] + (case.n_samples - k[i]) * dropped[i]) / case.n_samples
        if not (0 <= k[i] <= case.n_samples
                and np.all(np.abs(mean[i] - expected_row) <= RTOL * (PROBABILITY + np.abs(expected_row)))):
            raise AssertionError(
                f"{what}: row {i} of the mean is {mean[i]}, which is no average of {case.n_samples} passes: each pass gives "
                f"either {kept[i]} (hidden unit kept) or {dropped[i]} (dropped). Average the softmax probabilities of "
                "stochastic passes (dropout on), not the logits"
            )
    return k / case.n_samples


def check_mc_tensors(mean, std, case: MCCase, device: str, what: str) -> None:
    for name, t in (("mean", mean), ("std", std)):
        assert t.shape == (case.n, case.classes), f"{what}: {name} has shape {t.shape}, expected (N, C) = {(case.n, case.classes)}"
        assert t.device == device, f"{what}: {name} is on {t.device}, expected x's device ({device})"


def mode_failure(a9, model, case: MCCase, training: bool, what: str) -> str | None:
    """Why a forward pass of the one-hidden-unit model does not show ``training``'s mode, or None.

    In eval mode every row is the eval logits; in train mode every row is either the logits with
    the unit kept (scaled by 1 / (1 - p)) or with it dropped (b2): three different vectors."""
    x, (w1, b1, w2, b2) = case.weights()
    z = relu(x @ w1.T + b1)
    out = a9.forward(model, x, "cpu", f"{what}: the model's output")
    eval_rows = same_rows(out, b2 + z @ w2.T)
    train_rows = same_rows(out, b2 + (z / (1 - case.p)) @ w2.T) | same_rows(out, np.broadcast_to(b2, out.shape))
    if (train_rows if training else eval_rows).all():
        return None
    seen = "train mode (dropout on)" if train_rows.all() else "eval mode" if eval_rows.all() else "neither mode"
    return f"{what}: a forward pass shows {seen}, expected {'train' if training else 'eval'} mode"


def mc_what(case: MCCase, device: str) -> str:
    return f"mc_dropout_predict(model with p={case.p}, x of shape ({case.n}, {case.features}), n_samples={case.n_samples}) on {device}"


@pytest.mark.points(1)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=mc_cases())
def test_mc_dropout_returns_n_by_c_tensors_on_x_device(a9, device, case):
    """mean and std are tensors of shape (N, C) on x's device."""
    mean, std, _ = run_mc(a9, case, device)
    check_mc_tensors(mean, std, case, device, mc_what(case, device))


@pytest.mark.points(3)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=mc_cases())
def test_mc_dropout_mean_averages_probabilities_of_stochastic_passes(a9, device, case):
    """The mean is an average of softmax probabilities over passes with dropout active."""
    what = mc_what(case, device)
    mean, std, _ = run_mc(a9, case, device)
    check_mc_tensors(mean, std, case, device, what)
    f = mixture_fractions(case, mean.values, what)
    assert ((f > 0) & (f < 1)).any(), (
        f"{what}: every input got the same output in all {case.n_samples} passes; dropout must be active "
        "during the passes (model.train()), even when the model came in eval mode"
    )


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=mc_cases())
def test_mc_dropout_std_is_population_std(a9, device, case):
    """std is the population standard deviation (divide by n_samples) of the probabilities."""
    what = mc_what(case, device)
    mean, std, _ = run_mc(a9, case, device)
    check_mc_tensors(mean, std, case, device, what)
    f = mixture_fractions(case, mean.values, what)
    kept, dropped = case.outcomes()
    expected = np.sqrt(f * (1 - f))[:, None] * np.abs(kept - dropped)
    assert_close(std.values, expected, scale=PROBABILITY, what=f"{what}: std (population, correction=0: sqrt(mean((p - mean)**2)))")


@pytest.mark.points(1)
@capped
@given(case=mc_cases(n_samples=st.just(1)))
def test_mc_dropout_single_pass_has_zero_std(a9, case):
    """With n_samples = 1 the population std is exactly zero (not NaN)."""
    what = mc_what(case, "cpu")
    mean, std, _ = run_mc(a9, case, "cpu")
    check_mc_tensors(mean, std, case, "cpu", what)
    mixture_fractions(case, mean.values, what)
    assert_close(std.values, np.zeros((case.n, case.classes)), scale=PROBABILITY, what=f"{what}: std of a single pass")


@pytest.mark.points(2)
@capped
@given(case=mc_cases(n_samples=st.integers(1, 5)))
def test_mc_dropout_restores_the_mode(a9, case):
    """Afterwards the model is in the mode it was in before (train or eval), as a forward pass shows."""
    x, weights = case.weights()
    setting = a9.inputs.mlp_setting(*weights, case.p, "cpu", case.was_training, x)
    mode = "train" if case.was_training else "eval"
    model = setting["model"]
    for training in (not case.was_training, case.was_training):  # the model as built, in both modes, left as given
        model.train(training)
        as_built = mode_failure(a9, model, case, training, "the model given to mc_dropout_predict, as the test built it")
        assert as_built is None, as_built
    a9.nb.mc_dropout_predict(model, setting["x"], case.n_samples)
    failure = mode_failure(a9, model, case, case.was_training, f"the model came in {mode} mode; after mc_dropout_predict")
    assert failure is None, f"{failure}: restore the mode it had (model.train(was_training))"


@pytest.mark.points(2)
@capped
@given(case=mc_cases(n_samples=st.integers(1, 5)))
def test_mc_dropout_builds_no_graph(a9, case):
    """The results carry no graph: mean and std do not require grad.

    (Whether the passes recorded a graph that was then dropped, by detach(), is not observable
    from outside your code; the results are.)"""
    what = mc_what(case, "cpu")
    mean, std, _ = run_mc(a9, case, "cpu")
    for name, t in (("mean", mean), ("std", std)):
        assert not t.requires_grad, f"{what}: {name} requires grad: the passes built a graph; run them inside `with torch.no_grad():`"


@pytest.mark.points(1)
@capped
@given(case=eval_cases(), n_samples=st.integers(1, 4))
def test_mc_dropout_without_dropout_is_the_softmax(a9, case, n_samples):
    """With p = 0 every pass is the same: the mean is softmax(model(x)), the std is 0."""
    x, _, weights, logits = case.data()
    setting = a9.inputs.mlp_setting(*weights, 0.0, "cpu", False, x)
    result = a9.nb.mc_dropout_predict(setting["model"], setting["x"], n_samples)
    what = f"mc_dropout_predict(model with p=0, n_samples={n_samples})"
    assert isinstance(result, (tuple, list)) and len(result) == 2, f"{what} must return a tuple (mean, std), got {result!r}"
    mean, std = (a9.tensor(value, f"{what}: {name}") for name, value in zip(("mean", "std"), result))
    assert_close(mean.values, softmax(logits), scale=PROBABILITY, what=f"{what}: mean")
    assert_close(std.values, np.zeros_like(logits), scale=PROBABILITY, what=f"{what}: std")
