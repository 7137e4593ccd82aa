"""Planted submissions of a6_batchnorm, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.
"""

from __future__ import annotations


from tests.planted import Edit, Rewrite, Variant

ASSIGNMENT = "a6_batchnorm"
B = "batchnorm.py"
RUNNING_MEAN = 'bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu'
RUNNING_VAR = 'bn_param["running_var"] = (1 - momentum) * running_var + momentum * unbiased_var'
TRAIN_DX = "dx = (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std"

BUGGY = [
    Variant("momentum-convention-flipped", (
        Edit(B, RUNNING_MEAN, 'bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu'),
        Edit(B, RUNNING_VAR, 'bn_param["running_var"] = momentum * running_var + (1 - momentum) * unbiased_var'),
    ), mistake="momentum convention swapped"),
    Variant("biased-running-var", (Edit(B, "unbiased_var = x.var(axis=0, ddof=1)", "unbiased_var = x.var(axis=0)"),), mistake="biased variance in the running variance"),
    Variant("unbiased-variance-normalises", (Edit(B, "var = x.var(axis=0)  # biased", "var = x.var(axis=0, ddof=1)  # biased"),), mistake="unbiased variance used to normalise"),
    Variant("sqrt-var-plus-eps", (Edit(B, "std = np.sqrt(var + eps)", "std = np.sqrt(var) + eps"),), mistake="eps added outside the square root"),
    Variant("eval-uses-batch-statistics", (Edit(B, "mu, var = running_mean, running_var", "mu, var = x.mean(axis=0), x.var(axis=0)"),), mistake="eval mode normalises with the batch statistics"),
    Variant("backward-drops-dmean-dvar", (Edit(B, TRAIN_DX, "dx = g / std"),), mistake="backward without the gradient through the mean and variance"),
    Variant("backward-drops-dvar-only", (Edit(B, TRAIN_DX, "dx = (g - g.mean(axis=0)) / std"),), mistake="backward without the gradient through the variance"),
    Variant("eval-backward-uses-train-formula", (Edit(B, "    if batch_statistics:\n", "    if True:\n"),), mistake="eval-mode backward with the train-mode formula"),
    Variant("running-stats-not-written-back", (
        Edit(B, RUNNING_MEAN, "running_mean = (1 - momentum) * running_mean + momentum * mu"),
        Edit(B, RUNNING_VAR, "running_var = (1 - momentum) * running_var + momentum * unbiased_var"),
    ), mistake="running statistics not written back"),
    Variant("variance-over-the-feature-axis", (Edit(B, "var = x.var(axis=0)  # biased", "var = x.var(axis=1, keepdims=True)  # biased"),), mistake="variance over the feature axis"),
    Variant("eps-and-momentum-required", (
        Edit(B, 'eps = bn_param.get("eps", 1e-5)', 'eps = bn_param["eps"]'),
        Edit(B, 'momentum = bn_param.get("momentum", 0.1)', 'momentum = bn_param["momentum"]'),
    )),
    Variant("running-stats-required", (
        Edit(B, 'running_mean = bn_param.get("running_mean", np.zeros(d))', 'running_mean = bn_param["running_mean"]'),
        Edit(B, 'running_var = bn_param.get("running_var", np.ones(d))', 'running_var = bn_param["running_var"]'),
    )),
    Variant("default-eps-1e-8", (Edit(B, 'bn_param.get("eps", 1e-5)', 'bn_param.get("eps", 1e-8)'),), mistake="default eps 1e-8"),
    Variant("default-momentum-0.9-cs231n", (Edit(B, 'bn_param.get("momentum", 0.1)', 'bn_param.get("momentum", 0.9)'),)),
    Variant("default-running-var-zeros-cs231n", (Edit(B, 'bn_param.get("running_var", np.ones(d))', 'bn_param.get("running_var", np.zeros(d))'),), mistake="default running variance zeros"),
    Variant("no-value-error-for-one-sample", (Edit(B, "        if n < 2:\n", "        if n < 1:\n"),), mistake="a batch of one accepted in train mode"),
    Variant("dgamma-uses-centred-x", (Edit(B, "dgamma = (dout * x_hat).sum(axis=0)", "dgamma = (dout * x_hat * std).sum(axis=0)"),), mistake="dgamma from the centred x"),
    Variant("dbeta-mean-over-batch", (Edit(B, "dbeta = dout.sum(axis=0)", "dbeta = dout.mean(axis=0)"),), mistake="dbeta averaged over the batch"),
    Variant("dx-without-gamma", (Edit(B, "g = gamma * dout  # gradient with respect to x_hat", "g = dout"),), mistake="dx without gamma"),
    Variant("forward-centres-x-in-place", (
        Edit(B, "    x_hat = (x - mu) / std\n", "    x -= mu\n    x_hat = x / std\n"),
    ), mistake="x centred in place"),
    Variant("backward-reads-a-module-global-cache", (
        Edit(B, 'return out, (x_hat, gamma, std, mode == "train")', 'global _LAST_CACHE\n    _LAST_CACHE = (x_hat, gamma, std, mode == "train")\n    return out, _LAST_CACHE'),
        Edit(B, "x_hat, gamma, std, batch_statistics = cache", "x_hat, gamma, std, batch_statistics = _LAST_CACHE"),
    )),  # state kept between calls: wrong as soon as another layer's forward runs before this backward
]

CORRECT = [
    Variant("staged-backprop-through-the-graph", (
        Rewrite(B, "batchnorm_forward", '''
            def batchnorm_forward(x, gamma, beta, bn_param):
                mode = bn_param["mode"]
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.1)
                n, d = x.shape
                if mode == "train":
                    if n < 2:
                        raise ValueError("train mode needs two or more samples")
                    mu = np.sum(x, axis=0) / n
                    xc = x - mu
                    var = np.sum(xc ** 2, axis=0) / n
                    bn_param["running_mean"] = (1 - momentum) * bn_param.get("running_mean", np.zeros(d)) + momentum * mu
                    bn_param["running_var"] = (1 - momentum) * bn_param.get("running_var", np.ones(d)) + momentum * var * n / (n - 1)
                else:
                    var = bn_param.get("running_var", np.ones(d))
                    xc = x - bn_param.get("running_mean", np.zeros(d))
                ivar = 1.0 / np.sqrt(var + eps)
                xhat = xc * ivar
                return gamma * xhat + beta, (xc, ivar, var, eps, gamma, xhat, mode)
        '''),
        Rewrite(B, "batchnorm_backward", '''
            def batchnorm_backward(dout, cache):
                xc, ivar, var, eps, gamma, xhat, mode = cache
                n = dout.shape[0]
                dbeta = np.sum(dout, axis=0)
                dgamma = np.sum(dout * xhat, axis=0)
                dxhat = dout * gamma
                if mode != "train":
                    return dxhat * ivar, dgamma, dbeta
                dvar = np.sum(dxhat * xc, axis=0) * -0.5 * (var + eps) ** -1.5
                dmu = -np.sum(dxhat * ivar, axis=0) + dvar * np.mean(-2.0 * xc, axis=0)
                dx = dxhat * ivar + dvar * 2.0 * xc / n + dmu / n
                return dx, dgamma, dbeta
        '''),
    )),
    Variant("in-place-running-stats-and-moment-variance", (
        Rewrite(B, "batchnorm_forward", '''
            def batchnorm_forward(x, gamma, beta, bn_param):
                n, d = x.shape
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.1)
                if bn_param["mode"] == "train":
                    if n <= 1:
                        raise ValueError(f"a batch of {n} sample has no variance")
                    running_mean = bn_param.setdefault("running_mean", np.zeros(d))
                    running_var = bn_param.setdefault("running_var", np.ones(d))
                    mu = x.mean(axis=0)
                    var = (x * x).mean(axis=0) - mu * mu
                    running_mean *= 1 - momentum
                    running_mean += momentum * mu
                    running_var *= 1 - momentum
                    running_var += momentum * var * (n / (n - 1))
                else:
                    mu = bn_param.get("running_mean", np.zeros(d))
                    var = bn_param.get("running_var", np.ones(d))
                std = np.sqrt(var + eps)
                x_hat = (x - mu) / std
                return gamma * x_hat + beta, (x_hat, gamma, std, bn_param["mode"] == "train")
        '''),
    )),
    Variant("eval-as-precomputed-scale-and-shift", (
        Rewrite(B, "batchnorm_forward", '''
            def batchnorm_forward(x, gamma, beta, bn_param):
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.1)
                n, d = x.shape
                running_mean = bn_param.get("running_mean", np.zeros(d))
                running_var = bn_param.get("running_var", np.ones(d))
                if bn_param["mode"] == "eval":
                    inv_std = 1.0 / np.sqrt(running_var + eps)
                    scale = gamma * inv_std
                    shift = beta - running_mean * scale
                    return x * scale + shift, ("eval", (x - running_mean) * inv_std, scale)
                if n < 2:
                    raise ValueError("need N >= 2 in train mode")
                mu = x.mean(axis=0)
                centred = x - mu
                var = (centred ** 2).mean(axis=0)
                bn_param["running_mean"] = running_mean + momentum * (mu - running_mean)
                bn_param["running_var"] = running_var + momentum * ((centred ** 2).sum(axis=0) / (n - 1) - running_var)
                inv_std = 1.0 / np.sqrt(var + eps)
                x_hat = centred * inv_std
                return gamma * x_hat + beta, ("train", x_hat, gamma, inv_std)
        '''),
        Rewrite(B, "batchnorm_backward", '''
            def batchnorm_backward(dout, cache):
                if cache[0] == "eval":
                    _, x_hat, scale = cache
                    return dout * scale, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
                _, x_hat, gamma, inv_std = cache
                n = dout.shape[0]
                dx_hat = dout * gamma
                dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
                return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        '''),
    )),
    Variant("column-by-column-loops", (
        Rewrite(B, "batchnorm_forward", '''
            def batchnorm_forward(x, gamma, beta, bn_param):
                mode = bn_param["mode"]
                eps = bn_param.get("eps", 1e-5)
                momentum = bn_param.get("momentum", 0.1)
                n, d = x.shape
                if mode == "train" and n < 2:
                    raise ValueError("batchnorm in train mode needs at least two samples")
                running_mean = np.array(bn_param.get("running_mean", np.zeros(d)), dtype=float)
                running_var = np.array(bn_param.get("running_var", np.ones(d)), dtype=float)
                out = np.empty_like(x)
                x_hat = np.empty_like(x)
                std = np.empty(d)
                for j in range(d):
                    column = x[:, j]
                    if mode == "train":
                        mu = sum(column) / n
                        var = sum((v - mu) ** 2 for v in column) / n
                        running_mean[j] = (1 - momentum) * running_mean[j] + momentum * mu
                        running_var[j] = (1 - momentum) * running_var[j] + momentum * var * n / (n - 1)
                    else:
                        mu, var = running_mean[j], running_var[j]
                    std[j] = np.sqrt(var + eps)
                    x_hat[:, j] = (column - mu) / std[j]
                    out[:, j] = gamma[j] * x_hat[:, j] + beta[j]
                if mode == "train":
                    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
                return out, (x_hat, gamma, std, mode == "train")
        '''),
    )),
    Variant("batchnorm_cache_as_a_dict", (
        Edit(B, "return out, (x_hat, gamma, std, mode == \"train\")", "return out, {\"x_hat\": x_hat, \"gamma\": gamma, \"std\": std, \"train\": mode == \"train\"}"),
        Edit(B, "x_hat, gamma, std, batch_statistics = cache", "x_hat, gamma, std, batch_statistics = cache[\"x_hat\"], cache[\"gamma\"], cache[\"std\"], cache[\"train\"]"),
    )),
    Variant("batchnorm_cache_as_a_top_level_dataclass", (
        Edit(B, "from typing import Any\n", "from dataclasses import dataclass\nfrom typing import Any\n"),
        Edit(B, "import numpy as np\n", "import numpy as np\n\n\n@dataclass\nclass BatchNormState:\n    x_hat: np.ndarray\n    gamma: np.ndarray\n    std: np.ndarray\n    train: bool\n"),
        Edit(B, 'return out, (x_hat, gamma, std, mode == "train")', 'return out, BatchNormState(x_hat, gamma, std, mode == "train")'),
        Edit(B, "x_hat, gamma, std, batch_statistics = cache", "x_hat, gamma, std, batch_statistics = cache.x_hat, cache.gamma, cache.std, cache.train"),
    )),  # under the stub's `from __future__ import annotations` a dataclass looks its module up in sys.modules
]
