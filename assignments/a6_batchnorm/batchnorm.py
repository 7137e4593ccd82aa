"""Batch normalization over the batch axis of ``x (N, D)`` (a6_batchnorm, ``batchnorm.py``).

Conventions are PyTorch's (``torch.nn.functional.batch_norm``):

* train mode normalises with the batch mean and the BIASED batch variance (divide by ``N``);
* the running statistics move towards the batch statistics by ``momentum``,
  ``running = (1 - momentum) * running + momentum * batch_stat``, and ``running_var`` averages
  the UNBIASED batch variance (divide by ``N - 1``);
* eval mode normalises with the running statistics and leaves them unchanged.

``bn_param`` keys: ``"mode"`` (``"train"`` or ``"eval"``), ``"eps"`` (default ``1e-5``),
``"momentum"`` (default ``0.1``), ``"running_mean"``/``"running_var"`` (default zeros/ones of
shape ``(D,)``). A train-mode call stores new running-statistic arrays in ``bn_param``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BatchNormCache = tuple[np.ndarray, np.ndarray, np.ndarray, bool]


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict[str, Any]
) -> tuple[np.ndarray, BatchNormCache]:
    """``x (N, D)``, ``gamma (D,)``, ``beta (D,)`` -> ``out (N, D)``.

    ``out = gamma * (x - mu) / sqrt(var + eps) + beta``, with ``(mu, var)`` the batch mean and
    biased variance in train mode, the running statistics in eval mode.
    """
    raise NotImplementedError("Implement batchnorm_forward: see the assignment's README.md")


def batchnorm_backward(dout: np.ndarray, cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``dout (N, D)`` -> ``(dx (N, D), dgamma (D,), dbeta (D,))``.

    ``dbeta = sum_n dout``, ``dgamma = sum_n dout * x_hat``. With batch statistics (train),
    ``dx = (g - mean_n g - x_hat * mean_n(g * x_hat)) / std`` where ``g = gamma * dout``; with
    running statistics (eval) they are constants and ``dx = g / std``.
    """
    raise NotImplementedError("Implement batchnorm_backward: see the assignment's README.md")
