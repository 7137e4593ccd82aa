"""Known mistakes of a6_batchnorm (``grader.diagnosis``): judge-only, never released.

``bn_param`` is often shared with the student's code (``bn.share``) and read back after the call
(``bn.fetch``): the forward is then judged on ``out`` and the running statistics the test fetched,
from the value that was shared (``grader.diagnosis.shared_value``). A backward is judged on the
inputs of the forward call that made its cache. Each mistake is the reference with one switch
thrown (``_BatchNorm``).
"""

from dataclasses import dataclass, replace

import numpy as np

from grader.calls import is_plain
from grader.diagnosis import Function, Mistake, Problem, fetched_after, mutated, shared_value, unchanged

SECTIONS = {"forward": "The math", "backward": "Backward"}  # the handout's sections

NAMES = ("x", "gamma", "beta", "bn_param")


def _inputs(calls, position):
    """``(x, gamma, beta, bn_param)`` of the forward call at ``position``, a shared ``bn_param``
    replaced by the value it held; and the ``bn_param`` object the test passed. None when unknown."""
    call = calls[position]
    values = dict(zip(NAMES, call.args)) | call.kwargs
    passed = dict(zip(NAMES, call.passed[: len(call.args)])) | dict(zip(call.kwargs, call.passed[len(call.args) :]))
    if set(values) != set(NAMES) or not is_plain([values[n] for n in NAMES[:3]]):
        return None
    bn_param = values["bn_param"]
    if not is_plain(bn_param):
        bn_param = shared_value(calls, position, passed["bn_param"])
    if type(bn_param) is not dict:
        return None
    return (values["x"], values["gamma"], values["beta"], bn_param), passed["bn_param"]


def _forward_view(calls, position):
    """The forward's problem ``(x, gamma, beta, bn_param, state_fetched)``: ``out``, and when the
    test fetched ``bn_param`` right after, the running statistics it then held."""
    found = _inputs(calls, position)
    if found is None:
        return None
    inputs, passed = found
    out = calls[position].result[0]
    state = fetched_after(calls, position, passed)
    if type(state) is not dict:
        return Problem((*inputs, False), {}, out)
    return Problem((*inputs, True), {}, (out, state.get("running_mean"), state.get("running_var")))


def _backward_view(calls, position):
    """The backward's problem ``(dout, x, gamma, beta, bn_param)``, from the forward call that made its cache."""
    call = calls[position]
    if len(call.passed) < 2 or not call.args or not is_plain(call.args[0]):
        return None
    cache = call.passed[1]
    for i in range(position - 1, -1, -1):
        made = calls[i]
        if made.function == "batchnorm_forward" and type(made.returned) is tuple and len(made.returned) == 2 and made.returned[1] is cache:
            found = _inputs(calls, i)
            return None if found is None else Problem((call.args[0], *found[0]), {}, call.result)
    return None


def _run_forward(forward, x, gamma, beta, bn_param, state_fetched):
    bn_param = dict(bn_param)
    out, _ = forward(x, gamma, beta, bn_param)
    return (out, bn_param.get("running_mean"), bn_param.get("running_var")) if state_fetched else out


def _run_backward(forward, backward, dout, x, gamma, beta, bn_param):
    _, cache = forward(x, gamma, beta, dict(bn_param))
    return backward(dout, cache)


batchnorm_forward = Function(
    "batchnorm.py", "batchnorm_forward", view=_forward_view,
    oracle=lambda bn, *inputs: _run_forward(bn.batchnorm_forward, *inputs),
)
batchnorm_backward = Function(
    "batchnorm.py", "batchnorm_backward", view=_backward_view,
    oracle=lambda bn, *inputs: _run_backward(bn.batchnorm_forward, bn.batchnorm_backward, *inputs),
)


batchnorm_forward_in_place = Function("batchnorm.py", "batchnorm_forward", view=mutated(0), oracle=unchanged(0))  # what it leaves in x


def _centred(x, gamma, beta, bn_param):
    """x - mu, as a forward that centres x in place leaves it (mu: the batch mean, or the running one in eval)."""
    mu = x.mean(axis=0) if bn_param["mode"] == "train" else bn_param.get("running_mean", np.zeros(x.shape[1]))
    return x - mu


@dataclass(frozen=True)
class _BatchNorm:
    """The reference's batch normalization, each field a switch for one mistake (the defaults are right)."""

    momentum_on: str = "batch"  # or "running": running = momentum * running + (1 - momentum) * batch
    running_var_ddof: int = 1
    normalise_ddof: int = 0
    eps_inside_sqrt: bool = True
    eval_statistics: str = "running"  # or "batch"
    write_back: bool = True
    variance_axis: int = 0
    default_eps: float = 1e-5
    default_momentum: float = 0.1
    default_running_var: float = 1.0
    dx: str = "full"  # or "g / std", "without dvar", "train formula in eval"
    dgamma_times_std: bool = False
    dbeta_mean: bool = False
    dx_without_gamma: bool = False
    smallest_train_batch: int = 2

    def forward(self, x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", self.default_eps)
        momentum = bn_param.get("momentum", self.default_momentum)
        n, d = x.shape
        running_mean = bn_param.get("running_mean", np.zeros(d))
        running_var = bn_param.get("running_var", np.full(d, self.default_running_var))
        if mode == "train":
            if n < self.smallest_train_batch:
                raise ValueError("N < 2")
            mu = x.mean(axis=0)
            var = x.var(axis=0, ddof=self.normalise_ddof) if self.variance_axis == 0 else x.var(axis=1, keepdims=True)
            unbiased_var = x.var(axis=0, ddof=self.running_var_ddof)
            keep, move = (1 - momentum, momentum) if self.momentum_on == "batch" else (momentum, 1 - momentum)
            if self.write_back:
                bn_param["running_mean"] = keep * running_mean + move * mu
                bn_param["running_var"] = keep * running_var + move * unbiased_var
        elif self.eval_statistics == "running":
            mu, var = running_mean, running_var
        else:
            mu, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + eps) if self.eps_inside_sqrt else np.sqrt(var) + eps
        x_hat = (x - mu) / std
        return gamma * x_hat + beta, (x_hat, gamma, std, mode == "train")

    def backward(self, dout, cache):
        x_hat, gamma, std, batch_statistics = cache
        dbeta = dout.mean(axis=0) if self.dbeta_mean else dout.sum(axis=0)
        dgamma = (dout * x_hat * std).sum(axis=0) if self.dgamma_times_std else (dout * x_hat).sum(axis=0)
        g = dout if self.dx_without_gamma else gamma * dout
        if batch_statistics or self.dx == "train formula in eval":
            dx = {
                "full": lambda: (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std,
                "train formula in eval": lambda: (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std,
                "g / std": lambda: g / std,
                "without dvar": lambda: (g - g.mean(axis=0)) / std,
            }[self.dx]()
        else:
            dx = g / std
        return dx, dgamma, dbeta


def _mistake(name, explanation, functions, **switch):
    bn = replace(_BatchNorm(), **switch)
    wrongs = {
        batchnorm_forward: lambda *inputs: _run_forward(bn.forward, *inputs),
        batchnorm_backward: lambda *inputs: _run_backward(bn.forward, bn.backward, *inputs),
    }
    return [Mistake(f, name, explanation, SECTIONS["forward" if f is batchnorm_forward else "backward"], wrongs[f]) for f in functions]


FORWARD, BACKWARD, BOTH = [batchnorm_forward], [batchnorm_backward], [batchnorm_forward, batchnorm_backward]

MISTAKES = [
    *_mistake(
        "momentum convention swapped",
        "PyTorch's momentum is the weight of the NEW batch statistic: running = (1 - momentum) * running + momentum * batch_stat.",
        FORWARD, momentum_on="running",
    ),
    *_mistake(
        "biased variance in the running variance",
        "running_var averages the UNBIASED batch variance (ddof=1, as PyTorch does); the biased one (ddof=0) only normalises.",
        FORWARD, running_var_ddof=0,
    ),
    *_mistake(
        "unbiased variance used to normalise",
        "Train mode normalises with the BIASED batch variance (divide by N, ddof=0); the unbiased one only goes into running_var.",
        BOTH, normalise_ddof=1,
    ),
    *_mistake(
        "eps added outside the square root",
        "Normalise by sqrt(var + eps): eps goes inside the square root.",
        BOTH, eps_inside_sqrt=False,
    ),
    *_mistake(
        "eval mode normalises with the batch statistics",
        "In eval mode normalise with the RUNNING mean and variance, and leave them unchanged.",
        BOTH, eval_statistics="batch",
    ),
    *_mistake(
        "backward without the gradient through the mean and variance",
        "In train mode mu and var depend on x: dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std with g = gamma * dout.",
        BACKWARD, dx="g / std",
    ),
    *_mistake(
        "backward without the gradient through the variance",
        "The batch variance depends on x too: dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std, the last term included.",
        BACKWARD, dx="without dvar",
    ),
    *_mistake(
        "eval-mode backward with the train-mode formula",
        "In eval mode the running statistics are constants, so dx = gamma * dout / std.",
        BACKWARD, dx="train formula in eval",
    ),
    *_mistake(
        "running statistics not written back",
        "After a train-mode call bn_param must hold the updated running_mean and running_var: assign them into the dict.",
        FORWARD, write_back=False,
    ),
    *_mistake(
        "variance over the feature axis",
        "The batch statistics are per feature, over the batch axis 0: x.var(axis=0), shape (D,).",
        BOTH, variance_axis=1,
    ),
    *_mistake(
        "default eps 1e-8",
        "When bn_param has no 'eps' the default is 1e-5, as in PyTorch.",
        BOTH, default_eps=1e-8,
    ),
    # Where bn_param has no momentum this gives the same running statistics as the swapped
    # convention: both match, so nothing is said rather than blame a right formula.
    *_mistake(
        "default momentum 0.9",
        "When bn_param has no 'momentum' the default is 0.1 (PyTorch's convention: the weight of the new batch statistic).",
        FORWARD, default_momentum=0.9,
    ),
    *_mistake(
        "default running variance zeros",
        "When bn_param has no 'running_var' it starts at ones (and running_mean at zeros), as in PyTorch.",
        BOTH, default_running_var=0.0,
    ),
    *_mistake(
        "a batch of one accepted in train mode",
        "One example has no batch variance (and an unbiased one divides by N - 1 = 0): train mode with N < 2 raises ValueError.",
        FORWARD, smallest_train_batch=1,
    ),
    Mistake(
        batchnorm_forward_in_place, "x centred in place",
        "batchnorm_forward must leave x alone: compute x - mu as a new array (x_hat = (x - mu) / std), not with x -= mu.",
        SECTIONS["forward"], _centred,
    ),
    *_mistake(
        "dgamma from the centred x",
        "dgamma = sum_n dout * x_hat, with x_hat the NORMALISED input (x - mu) / std.",
        BACKWARD, dgamma_times_std=True,
    ),
    *_mistake(
        "dbeta averaged over the batch",
        "beta is added to every example, so dbeta is the SUM of dout over the batch.",
        BACKWARD, dbeta_mean=True,
    ),
    *_mistake(
        "dx without gamma",
        "out = gamma * x_hat + beta, so the gradient reaching x_hat is g = gamma * dout.",
        BACKWARD, dx_without_gamma=True,
    ),
]
