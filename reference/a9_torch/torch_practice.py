"""PyTorch in practice: the a9 notebook's helpers, written to run unchanged on CPU or GPU.

The student writes these in ``torch_practice.ipynb``; this module defines the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


def get_device() -> torch.device:
    """``cuda`` when CUDA is available, else ``cpu``."""
    ### BEGIN SOLUTION
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ### END SOLUTION


def build_mlp(in_features: int, hidden: int, out_features: int, p_drop: float) -> nn.Module:
    """``Linear(in, hidden) -> ReLU -> Dropout(p_drop) -> Linear(hidden, out)``.

    Maps ``(N, in_features)`` to ``(N, out_features)`` logits.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Linear(in_features, hidden),
        nn.ReLU(),
        nn.Dropout(p_drop),
        nn.Linear(hidden, out_features),
    )
    ### END SOLUTION


def train_epoch(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    device: torch.device,
) -> float:
    """One pass over ``loader`` in train mode, one optimizer step per batch ``(x, y)``.

    Returns the unweighted mean of the batch losses, ``(1 / B) * sum_b loss_b``, as a float
    (a smaller final batch counts as much as any other).
    """
    ### BEGIN SOLUTION
    model.train()
    losses = []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)
    ### END SOLUTION


def evaluate(
    model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device
) -> float:
    """Accuracy in eval mode, without building a graph: ``#(argmax_c logits == y) / #examples``."""
    ### BEGIN SOLUTION
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            predictions = model(x).argmax(dim=1)
            correct += int((predictions == y).sum().item())
            total += y.shape[0]
    return correct / total
    ### END SOLUTION


def mc_dropout_predict(
    model: nn.Module, x: torch.Tensor, n_samples: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte Carlo dropout: ``n_samples`` forward passes with dropout active, no graph.

    ``x (N, D)`` -> ``(mean, std)``, each ``(N, C)`` on ``x``'s device: the mean and the
    population standard deviation (ddof=0) over the passes of ``softmax(model(x), dim=1)``.
    ``model.training`` is the same afterwards as before.
    """
    ### BEGIN SOLUTION
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got n_samples={n_samples!r}")
    was_training = model.training
    model.train()  # dropout active
    try:
        with torch.no_grad():
            probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(n_samples)])
    finally:
        model.train(was_training)
    mean = probs.mean(dim=0)
    std = probs.std(dim=0, correction=0)
    return mean.to(x.device), std.to(x.device)
    ### END SOLUTION
