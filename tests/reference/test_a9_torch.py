"""The a9_torch oracle (reference/a9_torch/torch_practice.py): PyTorch helpers on CPU and GPU.

The helpers are torch code themselves, so each is checked against a manual computation written
out here with the same model, data and torch seed. Models are float64 and the manual loop does
the same operations in the same order, so CPU results agree to rounding (rel 1e-12). The GPU
copies (marked ``gpu``; skipped without CUDA) compare a CUDA run with the CPU run from the same
starting weights: cuBLAS may sum in another order, so float64 agreement is checked at rel 1e-9.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from grader.course import PROJECT_ROOT, Course
from grader.loader import load_module_from_path, load_reference

tp = load_reference("a9_torch", "torch_practice")
inputs = load_module_from_path(Course(PROJECT_ROOT).assignments_dir / "a9_torch" / "torch_inputs.py")  # the tests' own expected-value helpers

CPU = torch.device("cpu")
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


def on_gpu(test):
    """Mark a test ``gpu`` and skip it cleanly where CUDA is not available."""
    return pytest.mark.gpu(requires_cuda(test))


seeds = st.integers(0, 2**31 - 1)


class Recorder(nn.Module):
    """Wraps a model and records, per forward call, (training, grad enabled, input device)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool, torch.device]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled(), x.device))
        return self.inner(x)


def make_data(seed: int, n: int, d: int, c: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y


def make_mlp(seed: int, d: int, h: int, c: int, p: float) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return tp.build_mlp(d, h, c, p).double()


def manual_mc(model, x, n_samples, seed) -> tuple[torch.Tensor, torch.Tensor]:
    """MC-dropout mean and population std, written out, from torch seed ``seed``."""
    torch.manual_seed(seed)
    model.train()
    with torch.no_grad():
        probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)])
    return probs.mean(0), ((probs - probs.mean(0)) ** 2).mean(0).sqrt()


# ---------------------------------------------------------------- get_device


@pytest.mark.parametrize("available, kind", [(False, "cpu"), (True, "cuda")])
def test_get_device_follows_cuda_availability(monkeypatch, available, kind):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    device = tp.get_device()
    assert isinstance(device, torch.device)
    assert device.type == kind


def test_get_device_on_this_machine():
    assert tp.get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------- build_mlp


@settings(max_examples=15, deadline=None)
@given(d=st.integers(1, 8), h=st.integers(1, 8), c=st.integers(1, 8), p=st.floats(0.0, 1.0))
def test_build_mlp_structure(d, h, c, p):
    model = tp.build_mlp(d, h, c, p)
    assert isinstance(model, nn.Module)
    leaves = [m for m in model.modules() if not list(m.children())]
    assert [type(m) for m in leaves] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    first, _, dropout, last = leaves
    assert (first.in_features, first.out_features) == (d, h)
    assert (last.in_features, last.out_features) == (h, c)
    assert dropout.p == p
    assert model(torch.randn(3, d)).shape == (3, c)


def test_build_mlp_applies_relu_before_dropout():
    """In eval mode the MLP is exactly last(relu(first(x)))."""
    model = make_mlp(0, 4, 6, 3, 0.5).eval()
    first, _, _, last = [m for m in model.modules() if not list(m.children())]
    x = torch.randn(5, 4, dtype=torch.float64)
    torch.testing.assert_close(model(x), last(torch.relu(first(x))), rtol=0, atol=0)


# ---------------------------------------------------------------- train_epoch


def check_train_epoch(seed: int, n: int, batch_size: int, device: torch.device) -> float:
    """Run the oracle on ``device`` and the manual loop on CPU from the same weights; compare."""
    x, y = make_data(seed, n, 3, 4)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    model = nn.Linear(3, 4).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(4, 3, generator=torch.Generator().manual_seed(seed + 1)))
        model.bias.zero_()
    manual_model = copy.deepcopy(model)
    wrapped = Recorder(model).to(device).eval()  # train_epoch must switch to train mode itself
    optimizer = torch.optim.SGD(wrapped.parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    result = tp.train_epoch(wrapped, loader, optimizer, loss_fn, device)

    losses = inputs.manual_train_epoch(
        manual_model, loader, torch.optim.SGD(manual_model.parameters(), lr=0.5, momentum=0.9),
        loss_fn,
    )
    tol = 1e-12 if device.type == "cpu" else 1e-9
    assert isinstance(result, float)
    assert result == pytest.approx(sum(losses) / len(losses), rel=tol)
    assert [call[0] for call in wrapped.calls] == [True] * len(losses)  # train mode, every batch
    assert all(call[2].type == device.type for call in wrapped.calls)  # batches moved to device
    for p, q in zip(model.parameters(), manual_model.parameters()):
        assert p.device.type == device.type
        torch.testing.assert_close(p.detach().cpu(), q.detach(), rtol=tol, atol=tol)
    return result


@settings(max_examples=10, deadline=None)
@given(seed=seeds, n=st.integers(1, 9), batch_size=st.integers(1, 4))
def test_train_epoch_returns_mean_batch_loss(seed, n, batch_size):
    check_train_epoch(seed, n, batch_size, CPU)


def test_train_epoch_mean_is_unweighted():
    """5 examples in batches of 2, 2, 1: the last batch counts as a whole batch."""
    x, y = make_data(3, 5, 3, 4)
    batches = [(x[:2], y[:2]), (x[2:4], y[2:4]), (x[4:], y[4:])]
    model = nn.Linear(3, 4).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no update: losses are fixed
    loss_fn = nn.CrossEntropyLoss()
    result = tp.train_epoch(model, batches, optimizer, loss_fn, CPU)
    with torch.no_grad():
        batch_losses = [loss_fn(model(bx), by).item() for bx, by in batches]
        per_example = nn.CrossEntropyLoss(reduction="sum")(model(x), y).item() / 5
    assert result == pytest.approx(sum(batch_losses) / 3, rel=1e-12)
    assert result != pytest.approx(per_example, rel=1e-6)  # the check can tell the two apart


# ---------------------------------------------------------------- evaluate


def check_evaluate(seed: int, n: int, batch_size: int, device: torch.device) -> float:
    x, y = make_data(seed, n, 4, 3)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    model = make_mlp(seed, 4, 8, 3, 0.5)
    expected_model = copy.deepcopy(model).eval()
    wrapped = Recorder(model).to(device).train()  # evaluate must switch to eval mode itself
    result = tp.evaluate(wrapped, loader, device)
    with torch.no_grad():
        expected = (expected_model(x).argmax(dim=1) == y).double().mean().item()
    assert isinstance(result, float)
    assert 0.0 <= result <= 1.0
    assert result == pytest.approx(expected, abs=1e-12)
    assert wrapped.calls, "the model was never called"
    for training, grad_enabled, x_device in wrapped.calls:
        assert not training, "evaluate ran the model in train mode"
        assert not grad_enabled, "evaluate built a graph"
        assert x_device.type == device.type
    return result


@settings(max_examples=10, deadline=None)
@given(seed=seeds, n=st.integers(1, 20), batch_size=st.integers(1, 8))
def test_evaluate_accuracy_in_eval_mode_without_graph(seed, n, batch_size):
    check_evaluate(seed, n, batch_size, CPU)


def test_evaluate_counts_correct_predictions():
    """A fixed linear model whose predictions are known: 3 of 4 right."""
    model = nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.eye(2, dtype=torch.float64))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    y = torch.tensor([0, 1, 0, 0])
    assert tp.evaluate(model, [(x[:3], y[:3]), (x[3:], y[3:])], CPU) == 0.75


# ---------------------------------------------------------------- mc_dropout_predict


def check_mc_dropout(seed: int, n: int, n_samples: int, was_training: bool, device: torch.device):
    x, _ = make_data(seed, n, 5, 4)
    x = x.to(device)
    model = Recorder(make_mlp(seed, 5, 16, 4, 0.3)).to(device).train(was_training)
    with torch.random.fork_rng(devices=None if device.type == "cuda" else []):
        torch.manual_seed(seed)
        mean, std = tp.mc_dropout_predict(model, x, n_samples)
        assert all(m.training is was_training for m in model.modules()), "mode not restored"
        calls = list(model.calls)
        expected_mean, expected_std = manual_mc(model, x, n_samples, seed)
    assert len(calls) == n_samples
    assert all(training and not grad_enabled for training, grad_enabled, _ in calls)
    for name, got in [("mean", mean), ("std", std)]:
        assert isinstance(got, torch.Tensor), name
        assert got.shape == (n, 4), name
        assert got.device == x.device, name
        assert not got.requires_grad, name
    torch.testing.assert_close(mean, expected_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(std, expected_std, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(mean.sum(dim=1), torch.ones(n, dtype=mean.dtype, device=device))
    return mean, std


@settings(max_examples=10, deadline=None)
@given(seed=seeds, n=st.integers(1, 6), n_samples=st.integers(1, 12), was_training=st.booleans())
def test_mc_dropout_predict_matches_manual_loop(seed, n, n_samples, was_training):
    check_mc_dropout(seed, n, n_samples, was_training, CPU)


@pytest.mark.parametrize("was_training", [True, False])
def test_mc_dropout_single_sample_has_zero_std(was_training):
    _, std = check_mc_dropout(1, 4, 1, was_training, CPU)
    assert torch.equal(std, torch.zeros_like(std))


def test_mc_dropout_is_stochastic_and_uses_population_std():
    mean, std = check_mc_dropout(2, 3, 30, False, CPU)
    assert (std > 0).any(), "dropout was not active"


def test_mc_dropout_without_dropout_is_deterministic():
    x, _ = make_data(4, 3, 5, 4)
    model = make_mlp(4, 5, 16, 4, 0.0).eval()
    mean, std = tp.mc_dropout_predict(model, x, 5)
    with torch.no_grad():
        torch.testing.assert_close(mean, torch.softmax(model(x), dim=1), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(std, torch.zeros_like(std), rtol=0, atol=1e-15)
    assert not model.training


# ---------------------------------------------------------------- the same on a GPU


@on_gpu
def test_gpu_get_device_is_cuda():
    assert tp.get_device().type == "cuda"


@on_gpu
@pytest.mark.parametrize("seed, n, batch_size", [(0, 9, 4), (5, 7, 2), (11, 1, 3)])
def test_gpu_train_epoch_agrees_with_cpu(seed, n, batch_size):
    cuda = torch.device("cuda")
    gpu_loss = check_train_epoch(seed, n, batch_size, cuda)  # also: parameters stay on cuda
    cpu_loss = check_train_epoch(seed, n, batch_size, CPU)
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-9)


@on_gpu
@pytest.mark.parametrize("seed, n, batch_size", [(0, 20, 8), (3, 5, 5)])
def test_gpu_evaluate_agrees_with_cpu(seed, n, batch_size):
    assert check_evaluate(seed, n, batch_size, torch.device("cuda")) == check_evaluate(
        seed, n, batch_size, CPU
    )


@on_gpu
@pytest.mark.parametrize("was_training", [True, False])
def test_gpu_mc_dropout_on_cuda(was_training):
    """On CUDA: results on the cuda device, equal to the manual loop with the same seed."""
    check_mc_dropout(6, 5, 8, was_training, torch.device("cuda"))


@on_gpu
def test_gpu_mc_dropout_without_dropout_agrees_with_cpu():
    """Dropout's random draws differ between devices; with p = 0 the results must agree."""
    cuda = torch.device("cuda")
    x, _ = make_data(8, 4, 5, 4)
    model = make_mlp(8, 5, 16, 4, 0.0)
    cpu_mean, cpu_std = tp.mc_dropout_predict(model, x, 3)
    gpu_model = copy.deepcopy(model).to(cuda)
    assert all(p.device.type == "cuda" for p in gpu_model.parameters())
    gpu_mean, gpu_std = tp.mc_dropout_predict(gpu_model, x.to(cuda), 3)
    assert gpu_mean.device.type == "cuda" and gpu_std.device.type == "cuda"
    torch.testing.assert_close(gpu_mean.cpu(), cpu_mean, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(gpu_std.cpu(), cpu_std, rtol=0, atol=1e-12)
