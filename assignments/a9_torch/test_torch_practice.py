"""Public tests for a9_torch: the five functions of ``torch_practice.ipynb``.

Run them with ``pytest assignments/a9_torch``.

How your functions are checked:

* The models, batches and optimizers your functions get are built by ``torch_probes.py`` beside
  your code, with float64 weights the test chose; the test then computes what it expects itself
  (in numpy, or with the same PyTorch calls written out) and compares.
* A ``Recorder`` wraps the model and notes, for every forward call, whether the model was in
  train mode, whether autograd was recording a graph, and which device the batch was on.
* The loaders are plain lists of ``(x, y)`` batches, and the last batch is often smaller: that is
  where an unweighted mean of the batch losses and an accuracy over examples differ from the
  alternatives.
* Monte Carlo dropout is checked exactly although it is random: the test model has ONE hidden
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


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def kind_of(probes, value) -> str:
    s = probes.summary(value)
    return f"a tensor of shape {s['shape']}" if s["tensor"] else f"a {s['type']}"


# ---------------------------------------------------------------- get_device


@pytest.mark.points(1)
def test_get_device_returns_the_device_of_this_machine(a9):
    """get_device() returns a torch.device: cuda exactly when torch.cuda.is_available()."""
    nb, probes = a9.nb, a9.probes
    device = nb.get_device()
    kind = probes.device_type(device)
    assert kind is not None, f"get_device() must return a torch.device, got {kind_of(probes, device)}"
    expected = "cuda" if probes.cuda_available() else "cpu"
    assert kind == expected, f"get_device() returned a {kind} device on a machine where it should be {expected}"


@pytest.mark.points(1)
@pytest.mark.parametrize("available", [False, True], ids=["no-cuda", "cuda-available"])
def test_get_device_follows_cuda_availability(a9, available):
    """With torch.cuda.is_available() made to answer True (False), get_device() is cuda (cpu)."""
    nb, probes = a9.nb, a9.probes
    probes.pretend_cuda(available)
    try:
        device = nb.get_device()
    finally:
        probes.pretend_cuda(None)
    expected = "cuda" if available else "cpu"
    kind = probes.device_type(device)
    assert kind == expected, (
        f"while torch.cuda.is_available() returned {available}, get_device() returned "
        f"{'a ' + kind + ' device' if kind else kind_of(probes, device)}; expected a {expected} device"
    )


# ---------------------------------------------------------------- build_mlp

sizes = st.integers(1, 8)
drop_rates = st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.6, 0.75, 0.9, 1.0]) | st.floats(0.0, 1.0)


def linears(layers: list[dict], what: str) -> tuple[dict, dict]:
    found = [layer for layer in layers if layer["kind"] == "Linear"]
    assert len(found) >= 2, f"{what}: a forward pass called {len(found)} nn.Linear layer(s); expected 2"
    return found[0], found[-1]


@pytest.mark.points(2)
@capped
@given(d=sizes, h=sizes, c=sizes, p=drop_rates)
def test_build_mlp_layers_and_sizes(a9, d, h, c, p):
    """The forward pass calls Linear(d, h) -> ReLU -> Dropout(p) -> Linear(h, c), in this order."""
    nb, probes = a9.nb, a9.probes
    what = f"build_mlp({d}, {h}, {c}, p_drop={p})"
    layers = probes.probe_mlp(nb.build_mlp(d, h, c, p), np.zeros((2, d)), False)["layers"]
    kinds = [layer["kind"] for layer in layers]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear"], (
        f"{what}: a forward pass calls the layers {' -> '.join(kinds) or '(none)'}; expected "
        "Linear -> ReLU -> Dropout -> Linear (the modules nn.Linear, nn.ReLU, nn.Dropout)"
    )
    first, _, dropout, last = layers
    assert (first["in_features"], first["out_features"]) == (d, h), f"{what}: first layer is Linear({first['in_features']}, {first['out_features']}), expected Linear({d}, {h})"
    assert (last["in_features"], last["out_features"]) == (h, c), f"{what}: last layer is Linear({last['in_features']}, {last['out_features']}), expected Linear({h}, {c})"
    assert dropout["p"] == p, f"{what}: the dropout layer has p={dropout['p']}, expected p={p} (the probability of dropping)"


@pytest.mark.points(2)
@capped
@given(seed=seeds, d=sizes, h=sizes, c=sizes, p=drop_rates)
def test_build_mlp_eval_mode_is_linear_relu_linear(a9, seed, d, h, c, p):
    """In eval mode the model maps x to relu(x W1^T + b1) W2^T + b2: dropout is the identity."""
    nb, probes = a9.nb, a9.probes
    what = f"build_mlp({d}, {h}, {c}, p_drop={p}) in eval mode"
    x = np.random.default_rng(seed).normal(size=(5, d))
    probed = probes.probe_mlp(nb.build_mlp(d, h, c, p), x, False)
    first, last = linears(probed["layers"], what)
    expected = relu(x @ first["weight"].T + first["bias"]) @ last["weight"].T + last["bias"]
    assert_close(probed["output"], expected, what=what)


@pytest.mark.points(2)
@capped
@given(seed=seeds, d=sizes, h=sizes, c=sizes, p=st.floats(0.05, 1.0))
def test_build_mlp_train_mode_drops_hidden_units(a9, seed, d, h, c, p):
    """In train mode each hidden unit after the ReLU is 0 or relu(z) / (1 - p): inverted dropout."""
    nb, probes = a9.nb, a9.probes
    what = f"build_mlp({d}, {h}, {c}, p_drop={p}) in train mode"
    x = np.random.default_rng(seed).normal(size=(16, d))
    first, last = linears(probes.probe_mlp(nb.build_mlp(d, h, c, p), x, True)["layers"], what)
    hidden = relu(x @ first["weight"].T + first["bias"])
    got = last["input"]
    assert got.shape == hidden.shape, f"{what}: the last Linear got input of shape {got.shape}, expected {hidden.shape}"
    scaled = hidden / (1 - p) if p < 1 else np.zeros_like(hidden)
    ok = (got == 0) | np.isclose(got, scaled, rtol=1e-9, atol=1e-12)
    if not ok.all():
        i, j = np.argwhere(~ok)[0]
        raise AssertionError(
            f"{what}: hidden unit [{i}, {j}] entering the last Linear is {got[i, j]!r}; relu(z) = {hidden[i, j]!r}, "
            f"so it should be 0 (dropped) or relu(z) / (1 - p) = {scaled[i, j]!r} (kept)"
        )


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


def run_train_epoch(nb, probes, local, case: TrainCase, device: str):
    """Train a float64 Linear (started in eval mode) on ``device``; also the expected values."""
    x, y, w, b = case.data()
    setting = probes.train_setting(x, y, w, b, list(case.batch_sizes), case.lr, case.momentum, device)  # loader on the CPU
    result = nb.train_epoch(setting["model"], setting["loader"], setting["optimizer"], setting["loss_fn"], setting["device"])
    after = probes.report(setting["model"])

    expected_model = local.linear(w, b)
    losses = local.manual_train_epoch(
        expected_model, local.batches(x, y, list(case.batch_sizes)), local.sgd(expected_model, case.lr, case.momentum), local.cross_entropy()
    )
    return result, losses, after["parameters"], local.parameters(expected_model), after["calls"], after["devices"]


def check_float(probes, result, what: str) -> None:
    assert isinstance(result, float), f"{what} must return a Python float (use loss.item()), got {kind_of(probes, result)}"


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=train_cases())
def test_train_epoch_returns_mean_batch_loss(a9, device, case):
    """train_epoch returns the mean of the batch losses, as a Python float."""
    nb, probes, local_probes = a9.nb, a9.probes, a9.local
    result, losses, *_ = run_train_epoch(nb, probes, local_probes, case, device)
    what = f"train_epoch (batches of sizes {list(case.batch_sizes)}, lr={case.lr}, momentum={case.momentum}, on {device})"
    check_float(probes, result, what)
    assert_close(result, sum(losses) / len(losses), what=f"{what}: the mean of the batch losses {losses}")


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=train_cases(min_batches=2))
def test_train_epoch_updates_parameters_one_step_per_batch(a9, device, case):
    """One optimizer step per batch from fresh gradients: the weights equal those of the written-out loop."""
    nb, probes, local_probes = a9.nb, a9.probes, a9.local
    _, _, params, expected, _, devices = run_train_epoch(nb, probes, local_probes, case, device)
    what = f"train_epoch (batches of sizes {list(case.batch_sizes)}, lr={case.lr}, momentum={case.momentum}, on {device})"
    assert devices == [device], f"{what}: after training the parameters are on {devices}; they must stay on {device}"
    for name, got, want in zip(("weight", "bias"), params, expected):
        assert_close(got, want, what=f"{what}: the {name} after the epoch (did you call optimizer.zero_grad() before each backward()?)")


@pytest.mark.points(2)
@capped
@given(seed=seeds, features=st.integers(1, 4), classes=st.integers(2, 5), batch=st.integers(2, 5), last=st.integers(1, 4))
def test_train_epoch_mean_is_unweighted(a9, seed, features, classes, batch, last):
    """A smaller last batch counts as much as any other: (1/B) sum_b loss_b, not a mean over examples."""
    nb, probes, local_probes = a9.nb, a9.probes, a9.local
    last = min(last, batch - 1)
    case = TrainCase(seed, features, classes, (batch, batch, last), lr=0.0, momentum=0.0)  # lr 0: the losses stay fixed
    result, losses, *_ = run_train_epoch(nb, probes, local_probes, case, "cpu")
    check_float(probes, result, "train_epoch")
    unweighted = sum(losses) / len(losses)
    weighted = sum(loss * size for loss, size in zip(losses, case.batch_sizes)) / sum(case.batch_sizes)
    hint = " (that is the mean weighted by batch size)" if abs(result - weighted) <= 1e-9 * max(1.0, abs(weighted)) else ""
    assert_close(result, unweighted, what=f"train_epoch with batch losses {losses} for batches of sizes {list(case.batch_sizes)}{hint}")


@pytest.mark.points(2)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=train_cases())
def test_train_epoch_runs_in_train_mode_on_the_device(a9, device, case):
    """Every forward pass runs in train mode (the model came in eval mode), on batches moved to the device."""
    nb, probes, local_probes = a9.nb, a9.probes, a9.local
    *_, calls, _ = run_train_epoch(nb, probes, local_probes, case, device)
    assert calls, "train_epoch never called the model"
    for training, _, where in calls:
        assert training, "train_epoch ran the model in eval mode: call model.train() first (an earlier evaluate may have switched it off)"
        assert where == device, f"train_epoch gave the model a batch on {where}; move each batch to the device ({device})"


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


def run_evaluate(nb, probes, case: EvalCase, device: str):
    """``evaluate`` on a Recorder-wrapped MLP that starts in TRAIN mode."""
    x, y, weights, logits = case.data()
    setting = probes.mlp_setting(*weights, case.p, device, True)
    result = nb.evaluate(setting["model"], probes.batches(x, y, list(case.batch_sizes)), setting["device"])
    return result, y, logits, probes.report(setting["model"])["calls"]


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
    nb, probes = a9.nb, a9.probes
    result, y, logits, _ = run_evaluate(nb, probes, case, device)
    what = f"evaluate (batches of sizes {list(case.batch_sizes)}, on {device})"
    assert isinstance(result, float), f"{what} must return a Python float, got {kind_of(probes, result)}"
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
    """Every forward pass runs in eval mode (dropout off; the model came in train mode), on the device."""
    nb, probes = a9.nb, a9.probes
    *_, calls = run_evaluate(nb, probes, case, device)
    assert calls, "evaluate never called the model"
    for training, _, where in calls:
        assert not training, "evaluate ran the model in train mode: call model.eval() first (dropout must be off)"
        assert where == device, f"evaluate gave the model a batch on {where}; move each batch to the device ({device})"


@pytest.mark.points(2)
@capped
@given(case=eval_cases())
def test_evaluate_builds_no_graph(a9, case):
    """Every forward pass runs with autograd off (inside torch.no_grad())."""
    nb, probes = a9.nb, a9.probes
    *_, calls = run_evaluate(nb, probes, case, "cpu")
    assert calls, "evaluate never called the model"
    assert not any(grad for _, grad, _ in calls), "evaluate built a graph: run the forward passes inside `with torch.no_grad():`"


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


def run_mc(nb, probes, case: MCCase, device: str):
    """``mc_dropout_predict`` on the one-hidden-unit model; what came back, and the model's report."""
    x, weights = case.weights()
    setting = probes.mlp_setting(*weights, case.p, device, case.was_training, x)
    result = nb.mc_dropout_predict(setting["model"], setting["x"], case.n_samples)
    assert isinstance(result, (tuple, list)) and len(result) == 2, f"mc_dropout_predict must return a tuple (mean, std), got {result!r}"
    mean, std = probes.inspect(*result)
    return mean, std, probes.report(setting["model"])


def mixture_fractions(case: MCCase, mean: np.ndarray, what: str) -> np.ndarray:
    """Per input, the fraction f of passes with the unit kept, read off the mean; checks it."""
    kept, dropped = case.outcomes()
    direction = kept - dropped
    f = ((mean - dropped) * direction).sum(axis=1) / (direction**2).sum(axis=1)
    k = np.round(f * case.n_samples)
    for i in range(case.n):
        expected_row = (k[i] * kept[i] + (case.n_samples - k[i]) * dropped[i]) / case.n_samples
        if not (0 <= k[i] <= case.n_samples and abs(f[i] * case.n_samples - k[i]) < 1e-6
                and np.allclose(mean[i], expected_row, rtol=1e-9, atol=1e-12)):
            raise AssertionError(
                f"{what}: row {i} of the mean is {mean[i]}, which is no average of {case.n_samples} passes: each pass gives "
                f"either {kept[i]} (hidden unit kept) or {dropped[i]} (dropped). Average the softmax probabilities of "
                "stochastic passes (dropout on), not the logits"
            )
    return k / case.n_samples


def check_mc_tensors(mean: dict, std: dict, case: MCCase, device: str, what: str) -> None:
    for name, s in (("mean", mean), ("std", std)):
        assert s["tensor"], f"{what}: {name} must be a torch.Tensor, got a {s['type']}"
        assert s["shape"] == (case.n, case.classes), f"{what}: {name} has shape {s['shape']}, expected (N, C) = {(case.n, case.classes)}"
        assert s["device"] == device, f"{what}: {name} is on {s['device']}, expected x's device ({device})"


def mc_what(case: MCCase, device: str) -> str:
    return f"mc_dropout_predict(model with p={case.p}, x of shape ({case.n}, {case.features}), n_samples={case.n_samples}) on {device}"


@pytest.mark.points(1)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=mc_cases())
def test_mc_dropout_returns_n_by_c_tensors_on_x_device(a9, device, case):
    """mean and std are tensors of shape (N, C) on x's device."""
    nb, probes = a9.nb, a9.probes
    mean, std, _ = run_mc(nb, probes, case, device)
    check_mc_tensors(mean, std, case, device, mc_what(case, device))


@pytest.mark.points(3)
@pytest.mark.parametrize("device", DEVICES)
@capped
@given(case=mc_cases())
def test_mc_dropout_mean_averages_probabilities_of_stochastic_passes(a9, device, case):
    """The mean is an average of softmax probabilities over passes with dropout active."""
    nb, probes = a9.nb, a9.probes
    what = mc_what(case, device)
    mean, std, _ = run_mc(nb, probes, case, device)
    check_mc_tensors(mean, std, case, device, what)
    f = mixture_fractions(case, mean["values"], what)
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
    nb, probes = a9.nb, a9.probes
    what = mc_what(case, device)
    mean, std, _ = run_mc(nb, probes, case, device)
    check_mc_tensors(mean, std, case, device, what)
    f = mixture_fractions(case, mean["values"], what)
    kept, dropped = case.outcomes()
    expected = np.sqrt(f * (1 - f))[:, None] * np.abs(kept - dropped)
    assert_close(std["values"], expected, what=f"{what}: std (population, correction=0: sqrt(mean((p - mean)**2)))")


@pytest.mark.points(1)
@capped
@given(case=mc_cases(n_samples=st.just(1)))
def test_mc_dropout_single_pass_has_zero_std(a9, case):
    """With n_samples = 1 the population std is exactly zero (not NaN)."""
    nb, probes = a9.nb, a9.probes
    what = mc_what(case, "cpu")
    mean, std, _ = run_mc(nb, probes, case, "cpu")
    check_mc_tensors(mean, std, case, "cpu", what)
    mixture_fractions(case, mean["values"], what)
    assert_close(std["values"], np.zeros((case.n, case.classes)), what=f"{what}: std of a single pass")


@pytest.mark.points(2)
@capped
@given(case=mc_cases(n_samples=st.integers(1, 5)))
def test_mc_dropout_restores_the_mode(a9, case):
    """Afterwards the model and all its submodules are in the mode they were in before (train or eval)."""
    nb, probes = a9.nb, a9.probes
    *_, after = run_mc(nb, probes, case, "cpu")
    modes = after["modes"]
    mode = "train" if case.was_training else "eval"
    assert all(m == case.was_training for m in modes), (
        f"the model came in {mode} mode; after mc_dropout_predict the modes of the model and its submodules are {modes}: "
        f"restore the mode it had (model.train(was_training))"
    )


@pytest.mark.points(2)
@capped
@given(case=mc_cases(n_samples=st.integers(1, 5)))
def test_mc_dropout_builds_no_graph(a9, case):
    """The passes run with autograd off, and the results do not require grad."""
    nb, probes = a9.nb, a9.probes
    what = mc_what(case, "cpu")
    mean, std, after = run_mc(nb, probes, case, "cpu")
    calls = after["calls"]
    assert calls, f"{what} never called the model"
    assert not any(grad for _, grad, _ in calls), f"{what} built a graph: run the passes inside `with torch.no_grad():`"
    for name, s in (("mean", mean), ("std", std)):
        assert s["tensor"] and not s["requires_grad"], f"{what}: {name} requires grad; no graph is needed"


@pytest.mark.points(1)
@capped
@given(case=eval_cases(), n_samples=st.integers(1, 4))
def test_mc_dropout_without_dropout_is_the_softmax(a9, case, n_samples):
    """With p = 0 every pass is the same: the mean is softmax(model(x)), the std is 0."""
    nb, probes = a9.nb, a9.probes
    x, _, weights, logits = case.data()
    setting = probes.mlp_setting(*weights, 0.0, "cpu", False, x)
    mean, std = probes.inspect(*nb.mc_dropout_predict(setting["model"], setting["x"], n_samples))
    what = f"mc_dropout_predict(model with p=0, n_samples={n_samples})"
    assert_close(mean.get("values"), softmax(logits), what=f"{what}: mean")
    assert_close(std.get("values"), np.zeros_like(logits), what=f"{what}: std")
