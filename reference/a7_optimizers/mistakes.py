"""Known mistakes of a7_optimizers (``grader.diagnosis``): judge-only, never released.

The tests share the initial parameters with the student's code, build the optimizer over them
(``SGD(shared, lr=..., ...)``) and step it through the course helper
``optim_runner.run_steps(optimizer, shared, grads)``, which returns the parameters after each
step. That call is what is judged: its inputs are traced back through the recorded calls (the
optimizer to the call that built it: its class and hyperparameters; each shared array to the
value it was shared as), the right answer is the same run of the oracle's class, and a
mistake's answer the same run of the oracle's class with one method written the mistaken way.
"""

from pathlib import Path

import numpy as np

from grader.calls import SHARE, is_plain
from grader.diagnosis import Function, Mistake, Problem
from grader.loader import load_module_from_path

HERE = Path(__file__).resolve().parent
optim = load_module_from_path(HERE / "optim.py")

SGD_SECTION = "SGD — `SGD(params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0)`"  # the handout's sections
ADAGRAD_SECTION = "Adagrad — `Adagrad(params, lr=0.01, eps=1e-10, weight_decay=0.0, initial_accumulator_value=0.0)`"
RMSPROP_SECTION = "RMSprop — `RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0)`"
ADAM_SECTION = "Adam — `Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)`"
ADAMW_SECTION = "AdamW — `AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)`"
EPS_SECTION = "Where `eps` goes"
INTERFACE = "The interface"


def traced(calls, position):
    """The problem a ``run_steps(optimizer, shared, grads)`` call solved: inputs ``(name, initial
    params, grads, *hyperparameters)``, ``**hyperparameters`` (the optimizer traced to the call that
    built it, each shared array to its ``share``), and the parameters it returned after each step;
    None when the optimizer was built over other arrays or a handle is not traced."""
    call, earlier = calls[position], calls[:position]
    optimizer, shared, _ = call.passed
    built = next((c for c in reversed(earlier) if c.returned is optimizer), None)
    if built is None or not built.passed or built.passed[0] is not shared:
        return None
    shares = [next((c for c in reversed(earlier) if c.function == SHARE and c.returned is p), None) for p in shared]
    if None in shares:
        return None
    args, kwargs = (built.function, [s.args[0] for s in shares], call.args[2], *built.args[1:]), dict(built.kwargs)
    return Problem(args, kwargs, call.result) if is_plain(args) and is_plain(kwargs) else None


def trajectory(optimizer_class, params, grads, *args, **kwargs):
    """What ``run_steps`` returns for ``optimizer_class`` built over ``params`` (used in place)."""
    optimizer = optimizer_class(params, *args, **kwargs)
    after = []
    for step_grads in grads:
        optimizer.step([g.copy() for g in step_grads])
        after.append([p.copy() for p in params])
    return after


def right(oracle, name, params, grads, *args, **kwargs):
    """The run of the oracle's class ``name`` (``oracle``: the oracle module of ``optim.py``)."""
    return trajectory(getattr(oracle, name), params, grads, *args, **kwargs)


def of(name, mistaken_class):
    """The mistake's answer: the run of ``mistaken_class`` when the optimizer is ``name``."""

    def wrong(built, params, grads, *args, **kwargs):
        if built != name:
            raise LookupError(f"a mistake of {name}, not of {built}")
        return trajectory(mistaken_class, params, grads, *args, **kwargs)

    return wrong


def not_in_place(built, params, grads, *args, **kwargs):
    """Parameters replaced by new arrays: the caller's arrays never move."""
    return [[p.copy() for p in params] for _ in grads]


run_steps = Function("optim_runner.py", "run_steps", view=traced, oracle=right, oracle_file="optim.py", shown="step")


class SGDDampenedFirstStep(optim.SGD):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            buf = self.buffers[i]
            buf = (1 - self.dampening) * g if buf is None else self.momentum * buf + (1 - self.dampening) * g
            self.buffers[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class SGDDecayOnlyWithMomentum(optim.SGD):
    def _update(self, i, p, g):
        if self.momentum == 0:
            p -= self.lr * g
        else:
            super()._update(i, p, g)


class SGDNesterovFromTheBuffer(optim.SGD):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            buf = self.buffers[i]
            buf = g.copy() if buf is None else self.momentum * buf + (1 - self.dampening) * g
            self.buffers[i] = buf
            g = buf + self.momentum * buf if self.nesterov else buf
        p -= self.lr * g


class SGDThroughAReshape(optim.SGD):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        if self.momentum != 0:
            buf = self.buffers[i]
            buf = g.copy() if buf is None else self.momentum * buf + (1 - self.dampening) * g
            self.buffers[i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        flat = p.reshape(-1)  # a copy when p is not C-contiguous: the update is lost
        flat -= self.lr * g.reshape(-1)


class AdagradZeroAccumulator(optim.Adagrad):
    def __init__(self, params, *args, **kwargs):
        super().__init__(params, *args, **kwargs)
        self.sums = [np.zeros_like(p) for p in self.params]


class AdagradEpsInsideTheRoot(optim.Adagrad):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        self.sums[i] += g * g
        p -= self.lr * g / np.sqrt(self.sums[i] + self.eps)


class AdagradWithoutDecay(optim.Adagrad):
    def _update(self, i, p, g):
        self.sums[i] += g * g
        p -= self.lr * g / (np.sqrt(self.sums[i]) + self.eps)


class RMSpropEpsInsideTheRoot(optim.RMSprop):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        v = self.square_avgs[i]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        p -= self.lr * g / np.sqrt(v + self.eps)


class RMSpropAlphaSwapped(optim.RMSprop):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        v = self.square_avgs[i]
        v *= 1 - self.alpha
        v += self.alpha * g * g
        p -= self.lr * g / (np.sqrt(v) + self.eps)


def adam_step(step_count=lambda optimizer: optimizer.t, denominator=None):
    """Adam's ``_adam_step`` with the bias corrections' step count, or the denominator, changed:
    ``denominator(v, bias_correction2, eps)`` gives ``sqrt(v_hat) + eps`` scaled by ``1 / sqrt(bc2)``."""

    def _adam_step(self, i, p, g):
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        t = step_count(self)
        bias_correction1 = 1 - self.beta1**t
        bias_correction2 = 1 - self.beta2**t
        if denominator is None:
            denom = np.sqrt(v) / np.sqrt(bias_correction2) + self.eps
        else:
            denom = denominator(v, bias_correction2, self.eps)
        p -= (self.lr / bias_correction1) * m / denom

    return _adam_step


def _count_per_parameter(optimizer):
    optimizer.count = getattr(optimizer, "count", 0) + 1
    return optimizer.count


def _uncorrected_step(self, i, p, g):
    m, v = self.m[i], self.v[i]
    m *= self.beta1
    m += (1 - self.beta1) * g
    v *= self.beta2
    v += (1 - self.beta2) * g * g
    p -= self.lr * m / (np.sqrt(v) + self.eps)


def _paper_step(self, i, p, g):
    m, v = self.m[i], self.v[i]
    m *= self.beta1
    m += (1 - self.beta1) * g
    v *= self.beta2
    v += (1 - self.beta2) * g * g
    bias_correction1 = 1 - self.beta1**self.t
    bias_correction2 = 1 - self.beta2**self.t
    step_size = self.lr * np.sqrt(bias_correction2) / bias_correction1
    p -= step_size * m / (np.sqrt(v) + self.eps)


def adam_mistakes(name, explanation, section, **methods):
    """The same mistake in Adam and in AdamW (``methods`` replaced in both): one name, one sentence."""
    return [
        Mistake(run_steps, name, explanation, section, of(base.__name__, type(f"{base.__name__}Mistaken", (base,), methods)))
        for base in (optim.Adam, optim.AdamW)
    ]


class AdamDecayAfterTheMoments(optim.Adam):
    def _update(self, i, p, g):
        self._adam_step(i, p, g)
        if self.weight_decay != 0:
            p -= self.lr * self.weight_decay * p


class AdamWDecayNotScaledByLr(optim.AdamW):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            p *= 1 - self.weight_decay
        self._adam_step(i, p, g)


class AdamWDecayAfterTheUpdate(optim.AdamW):
    def _update(self, i, p, g):
        self._adam_step(i, p, g)
        if self.weight_decay != 0:
            p *= 1 - self.lr * self.weight_decay


class AdamWCoupled(optim.AdamW):
    def _update(self, i, p, g):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p
        self._adam_step(i, p, g)


class AdamWWithoutDefaultDecay(optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


NOT_IN_PLACE = "the update never reaches the caller's parameters"
NOT_IN_PLACE_RULE = (
    "p = p - lr * d and self.params[i] = ... make a new array, and p.reshape(-1) is a copy when p is not "
    "C-contiguous (a transposed or Fortran-ordered parameter): update the array p itself in place, p -= lr * d."
)

MISTAKES = [
    Mistake(run_steps, NOT_IN_PLACE, NOT_IN_PLACE_RULE, INTERFACE, not_in_place),
    Mistake(run_steps, NOT_IN_PLACE, NOT_IN_PLACE_RULE, INTERFACE, of("SGD", SGDThroughAReshape)),
    Mistake(
        run_steps, "momentum buffer dampened at the first step",
        "At the first step the buffer IS the gradient (buf = g, no dampening), as in torch.optim.SGD; afterwards buf = momentum * buf + (1 - dampening) * g.",
        SGD_SECTION, of("SGD", SGDDampenedFirstStep),
    ),
    Mistake(
        run_steps, "SGD weight decay only with momentum",
        "Weight decay is added to the gradient (g + weight_decay * p) whether or not there is momentum.",
        SGD_SECTION, of("SGD", SGDDecayOnlyWithMomentum),
    ),
    Mistake(
        run_steps, "Nesterov step from the buffer instead of the gradient",
        "Nesterov's direction is g + momentum * buf, the gradient plus the look-ahead, not buf + momentum * buf.",
        SGD_SECTION, of("SGD", SGDNesterovFromTheBuffer),
    ),
    Mistake(
        run_steps, "Adagrad accumulator started at zero",
        "The sum of squared gradients starts at initial_accumulator_value, not at 0.",
        ADAGRAD_SECTION, of("Adagrad", AdagradZeroAccumulator),
    ),
    Mistake(
        run_steps, "Adagrad's eps inside the square root",
        "The step is lr * g / (sqrt(s) + eps): eps is added after the square root.",
        EPS_SECTION, of("Adagrad", AdagradEpsInsideTheRoot),
    ),
    Mistake(
        run_steps, "Adagrad without weight decay",
        "Adagrad adds weight_decay * p to the gradient before it is accumulated and applied.",
        ADAGRAD_SECTION, of("Adagrad", AdagradWithoutDecay),
    ),
    Mistake(
        run_steps, "RMSprop's eps inside the square root",
        "The step is lr * g / (sqrt(v) + eps): eps is added after the square root.",
        EPS_SECTION, of("RMSprop", RMSpropEpsInsideTheRoot),
    ),
    Mistake(
        run_steps, "RMSprop's alpha and 1 - alpha swapped",
        "alpha is the weight of the running average: v = alpha * v + (1 - alpha) * g**2.",
        RMSPROP_SECTION, of("RMSprop", RMSpropAlphaSwapped),
    ),
    *adam_mistakes(
        "Adam without bias correction",
        "m and v start at 0, so early steps must be divided by 1 - beta1**t and (under the root) 1 - beta2**t.",
        ADAM_SECTION, _adam_step=_uncorrected_step,
    ),
    *adam_mistakes(
        "bias correction with t + 1",
        "The bias corrections use the number of steps taken INCLUDING this one, t = 1 at the first step: 1 - beta**t.",
        ADAM_SECTION, _adam_step=adam_step(step_count=lambda optimizer: optimizer.t + 1),
    ),
    *adam_mistakes(
        "Adam's step counted once per parameter",
        "t counts calls of step(), one per update of ALL parameters, not one per parameter updated.",
        ADAM_SECTION, _adam_step=adam_step(step_count=_count_per_parameter),
    ),
    *adam_mistakes(
        "Adam's eps inside the square root",
        "The denominator is sqrt(v_hat) + eps: eps is added after the square root.",
        EPS_SECTION, _adam_step=adam_step(denominator=lambda v, bc2, eps: np.sqrt(v / bc2 + eps)),
    ),
    *adam_mistakes(
        "Adam's eps added to the uncorrected root",
        "PyTorch adds eps to sqrt(v_hat) = sqrt(v) / sqrt(1 - beta2**t), not to sqrt(v) (the paper's folded step size), which differs when v is small.",
        EPS_SECTION, _adam_step=_paper_step,
    ),
    Mistake(
        run_steps, "Adam's weight decay applied after the step",
        "Adam's weight decay is L2: weight_decay * p is added to the GRADIENT before the moments are updated (decoupled decay is AdamW's).",
        ADAM_SECTION, of("Adam", AdamDecayAfterTheMoments),
    ),
    Mistake(
        run_steps, "AdamW decay not scaled by lr",
        "AdamW shrinks the parameters by the factor 1 - lr * weight_decay, not 1 - weight_decay.",
        ADAMW_SECTION, of("AdamW", AdamWDecayNotScaledByLr),
    ),
    Mistake(
        run_steps, "AdamW decay after the update",
        "AdamW decays the parameters BEFORE Adam's update: p *= 1 - lr * weight_decay, then the step.",
        ADAMW_SECTION, of("AdamW", AdamWDecayAfterTheUpdate),
    ),
    Mistake(
        run_steps, "AdamW's decay coupled to the gradient",
        "AdamW's decay is decoupled: p *= 1 - lr * weight_decay, and the moments see the raw gradient (adding weight_decay * p to the gradient is Adam's L2).",
        ADAMW_SECTION, of("AdamW", AdamWCoupled),
    ),
    Mistake(
        run_steps, "AdamW's default weight decay 0",
        "AdamW's default weight_decay is 0.01, as in torch.optim.AdamW.",
        ADAMW_SECTION, of("AdamW", AdamWWithoutDefaultDecay),
    ),
]
