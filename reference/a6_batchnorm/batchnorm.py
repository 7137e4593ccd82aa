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
    ### BEGIN SOLUTION
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    n, d = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(d))
    running_var = bn_param.get("running_var", np.ones(d))

    if mode == "train":
        if n < 2:
            raise ValueError(f"batch normalization in train mode needs N >= 2 samples, got x.shape={x.shape}")
        mu = x.mean(axis=0)
        var = x.var(axis=0)  # biased (ddof=0): used to normalise
        unbiased_var = x.var(axis=0, ddof=1)  # used for the running estimate
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * unbiased_var
    elif mode == "eval":
        mu, var = running_mean, running_var
    else:
        raise ValueError(f"bn_param['mode']={mode!r}; expected 'train' or 'eval'")

    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, std, mode == "train")
    ### END SOLUTION


def batchnorm_backward(dout: np.ndarray, cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``dout (N, D)`` -> ``(dx (N, D), dgamma (D,), dbeta (D,))``.

    ``dbeta = sum_n dout``, ``dgamma = sum_n dout * x_hat``. With batch statistics (train),
    ``dx = (g - mean_n g - x_hat * mean_n(g * x_hat)) / std`` where ``g = gamma * dout``; with
    running statistics (eval) they are constants and ``dx = g / std``.
    """
    ### BEGIN SOLUTION
    x_hat, gamma, std, batch_statistics = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = gamma * dout  # gradient with respect to x_hat
    if batch_statistics:
        dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std
    else:
        dx = g / std
    return dx, dgamma, dbeta
    ### END SOLUTION
