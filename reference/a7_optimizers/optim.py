"""Optimizers in the style of ``torch.optim``, over a list of float64 numpy arrays.

Each optimizer keeps a reference to the caller's arrays and updates them IN PLACE in
``step(grads)``; ``grads`` is a list of arrays aligned with ``params`` and is never modified.
Every class follows its PyTorch namesake step for step, the first step included.

Notation, for one parameter ``p`` with gradient ``g`` at step ``t = 1, 2, ...``:
``lr`` learning rate, ``wd`` weight decay (L2: ``g <- g + wd * p``, unless stated otherwise).
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Base class: holds the parameter list and checks the gradients passed to ``step``."""

    def __init__(self, params: list[np.ndarray]) -> None:
        self.params = list(params)  # the same array objects as the caller's: updated in place
        self.t = 0  # number of steps taken so far

    def step(self, grads: list[np.ndarray]) -> None:
        """Apply one update to every parameter, given its gradient."""
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradients for {len(self.params)} parameters")
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g.shape != p.shape:
                raise ValueError(f"gradient {i} has shape {g.shape}, parameter has {p.shape}")
            self._update(i, p, np.asarray(g, dtype=p.dtype))

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        """Update parameter number ``i`` in place from its gradient ``g`` (do not modify ``g``)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    ``g <- g + wd * p``
    momentum ``mu > 0``: ``buf = g`` at step 1 (no dampening), afterwards
    ``buf = mu * buf + (1 - dampening) * g``; then ``d = g + mu * buf`` (Nesterov) or ``d = buf``
    no momentum: ``d = g``
    ``p <- p - lr * d``
    """

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        ### BEGIN SOLUTION
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"nesterov=True needs momentum > 0 and dampening == 0, "
                f"got momentum={momentum!r}, dampening={dampening!r}"
            )
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)
        ### END SOLUTION

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        ### BEGIN SOLUTION
        if self.weight_decay != 0:
            g = g + self.weight_decay * p  # a new array: the caller's gradient stays untouched
        if self.momentum != 0:
            buf = self.buffers[i]
            if buf is None:
                buf = g.copy()  # first step: the buffer is the gradient itself, no dampening
            else:
                buf = self.momentum * buf + (1 - self.dampening) * g
            self.buffers[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g
        ### END SOLUTION


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad`` (without ``lr_decay``).

    ``g <- g + wd * p``;  ``s <- s + g**2`` (``s`` starts at ``initial_accumulator_value``);
    ``p <- p - lr * g / (sqrt(s) + eps)``
    """

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = lr
        self.eps = eps
        self.weight_decay = weight_decay
        ### BEGIN SOLUTION
        self.sums = [np.full_like(p, initial_accumulator_value) for p in self.params]
        ### END SOLUTION

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        ### BEGIN SOLUTION
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        self.sums[i] += g * g
        p -= self.lr * g / (np.sqrt(self.sums[i]) + self.eps)
        ### END SOLUTION


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (not centred, no momentum).

    ``g <- g + wd * p``;  ``v <- alpha * v + (1 - alpha) * g**2`` (``v`` starts at 0);
    ``p <- p - lr * g / (sqrt(v) + eps)``  (eps outside the square root)
    """

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        ### BEGIN SOLUTION
        self.square_avgs = [np.zeros_like(p) for p in self.params]
        ### END SOLUTION

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        ### BEGIN SOLUTION
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        v = self.square_avgs[i]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        p -= self.lr * g / (np.sqrt(v) + self.eps)
        ### END SOLUTION


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient, no AMSGrad).

    ``g <- g + wd * p``
    ``m <- b1 * m + (1 - b1) * g``;  ``v <- b2 * v + (1 - b2) * g**2``  (both start at 0)
    ``p <- p - lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``  (eps outside the sqrt)
    """

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        ### BEGIN SOLUTION
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        ### END SOLUTION

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        ### BEGIN SOLUTION
        if self.weight_decay != 0:
            g = g + self.weight_decay * p  # L2 decay, coupled to the gradient
        self._adam_step(i, p, g)
        ### END SOLUTION

    def _adam_step(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        """Update the moments of parameter ``i`` from ``g`` and take the bias-corrected step."""
        ### BEGIN SOLUTION
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        bias_correction1 = 1 - self.beta1**self.t
        bias_correction2 = 1 - self.beta2**self.t
        denom = np.sqrt(v) / np.sqrt(bias_correction2) + self.eps
        p -= (self.lr / bias_correction1) * m / denom
        ### END SOLUTION


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    First ``p <- p * (1 - lr * wd)``, then Adam's update with the raw gradient ``g``.
    """

    def __init__(
        self,
        params: list[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        ### BEGIN SOLUTION
        if self.weight_decay != 0:
            p *= 1 - self.lr * self.weight_decay  # decoupled decay, before the moment updates
        self._adam_step(i, p, g)
        ### END SOLUTION
