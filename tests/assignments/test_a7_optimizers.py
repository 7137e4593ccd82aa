"""Planted submissions of a7_optimizers, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.
"""

from __future__ import annotations


from tests.planted import Edit, Rewrite, Variant

ASSIGNMENT = "a7_optimizers"
F = "optim.py"

BUGGY = [
    Variant("sgd-dampening-on-first-step", (
        Edit(F, "buf = g.copy()  # first step: the buffer is the gradient itself, no dampening",
             "buf = (1 - self.dampening) * g  # a zero buffer updated as usual"),
    ), mistake="momentum buffer dampened at the first step"),
    Variant("sgd-weight-decay-only-with-momentum", (
        Rewrite(F, "SGD._update", '''
            def _update(self, i, p, g):
                if self.momentum != 0:
                    if self.weight_decay != 0:
                        g = g + self.weight_decay * p
                    buf = self.buffers[i]
                    if buf is None:
                        buf = g.copy()
                    else:
                        buf = self.momentum * buf + (1 - self.dampening) * g
                    self.buffers[i] = buf
                    g = g + self.momentum * buf if self.nesterov else buf
                p -= self.lr * g
        '''),
    ), mistake="SGD weight decay only with momentum"),
    Variant("sgd-nesterov-uses-buffer-not-gradient", (
        Edit(F, "g = g + self.momentum * buf if self.nesterov else buf",
             "g = buf + self.momentum * buf if self.nesterov else buf"),
    ), mistake="Nesterov step from the buffer instead of the gradient"),
    Variant("sgd-nesterov-never-raises", (
        Edit(F, "if nesterov and (momentum <= 0 or dampening != 0):", "if False:"),
    )),
    Variant("sgd-nesterov-raises-only-for-zero-momentum", (
        Edit(F, "if nesterov and (momentum <= 0 or dampening != 0):", "if nesterov and momentum <= 0:"),
    )),
    Variant("sgd-nesterov-accepts-a-negative-momentum", (
        Edit(F, "if nesterov and (momentum <= 0 or dampening != 0):", "if nesterov and (momentum == 0 or dampening != 0):"),
    )),
    Variant("sgd-weight-decay-modifies-the-gradient", (
        Edit(F, "g = g + self.weight_decay * p  # a new array: the caller's gradient stays untouched",
             "g += self.weight_decay * p"),
    )),
    Variant("sgd-momentum-buffer-aliases-the-gradient", (
        Rewrite(F, "SGD._update", '''
            def _update(self, i, p, g):
                if self.weight_decay != 0:
                    g = g + self.weight_decay * p
                if self.momentum != 0:
                    buf = self.buffers[i]
                    if buf is None:
                        buf = g  # no copy: the next in-place update writes into the caller's gradient
                    else:
                        buf *= self.momentum
                        buf += (1 - self.dampening) * g
                    self.buffers[i] = buf
                    g = g + self.momentum * buf if self.nesterov else buf
                p -= self.lr * g
        '''),
    )),
    Variant("sgd-parameters-not-updated-in-place", (
        Edit(F, "        p -= self.lr * g\n", "        self.params[i] = p - self.lr * g\n"),
    ), mistake="the update never reaches the caller's parameters"),
    Variant("sgd-state-shared-between-optimizers", (
        Edit(F, "        self.buffers: list[np.ndarray | None] = [None] * len(self.params)\n",
             "        self.buffers = SGD.__dict__.get('_shared', None) or [None] * len(self.params)\n"
             "        SGD._shared = self.buffers\n"),
    )),
    Variant("adagrad-ignores-initial-accumulator-value", (
        Edit(F, "np.full_like(p, initial_accumulator_value)", "np.zeros_like(p)"),
    ), mistake="Adagrad accumulator started at zero"),
    Variant("adagrad-eps-inside-sqrt", (
        Edit(F, "p -= self.lr * g / (np.sqrt(self.sums[i]) + self.eps)",
             "p -= self.lr * g / np.sqrt(self.sums[i] + self.eps)"),
    ), mistake="Adagrad's eps inside the square root"),
    Variant("adagrad-ignores-weight-decay", (
        Rewrite(F, "Adagrad._update", '''
            def _update(self, i, p, g):
                self.sums[i] += g * g
                p -= self.lr * g / (np.sqrt(self.sums[i]) + self.eps)
        '''),
    ), mistake="Adagrad without weight decay"),
    Variant("rmsprop-eps-inside-sqrt", (
        Edit(F, "p -= self.lr * g / (np.sqrt(v) + self.eps)", "p -= self.lr * g / np.sqrt(v + self.eps)"),
    ), mistake="RMSprop's eps inside the square root"),
    Variant("rmsprop-alpha-and-one-minus-alpha-swapped", (
        Edit(F, "        v *= self.alpha\n        v += (1 - self.alpha) * g * g\n",
             "        v *= 1 - self.alpha\n        v += self.alpha * g * g\n"),
    ), mistake="RMSprop's alpha and 1 - alpha swapped"),
    Variant("adam-no-bias-correction", (
        Edit(F, "bias_correction1 = 1 - self.beta1**self.t", "bias_correction1 = 1.0"),
        Edit(F, "bias_correction2 = 1 - self.beta2**self.t", "bias_correction2 = 1.0"),
    ), mistake="Adam without bias correction"),
    Variant("adam-bias-correction-with-t-plus-one", (
        Edit(F, "bias_correction1 = 1 - self.beta1**self.t", "bias_correction1 = 1 - self.beta1 ** (self.t + 1)"),
        Edit(F, "bias_correction2 = 1 - self.beta2**self.t", "bias_correction2 = 1 - self.beta2 ** (self.t + 1)"),
    ), mistake="bias correction with t + 1"),
    Variant("adam-step-counted-per-parameter", (
        Edit(F, "bias_correction1 = 1 - self.beta1**self.t",
             "self.count = getattr(self, 'count', 0) + 1  # once per PARAMETER, not per step\n"
             "        bias_correction1 = 1 - self.beta1**self.count"),
        Edit(F, "bias_correction2 = 1 - self.beta2**self.t", "bias_correction2 = 1 - self.beta2**self.count"),
    ), mistake="Adam's step counted once per parameter"),
    Variant("adam-eps-inside-sqrt", (
        Edit(F, "denom = np.sqrt(v) / np.sqrt(bias_correction2) + self.eps",
             "denom = np.sqrt(v / bias_correction2 + self.eps)"),
    ), mistake="Adam's eps inside the square root"),
    Variant("adam-eps-not-scaled-paper-form", (
        Edit(F, "        denom = np.sqrt(v) / np.sqrt(bias_correction2) + self.eps\n"
                "        p -= (self.lr / bias_correction1) * m / denom\n",
             "        step_size = self.lr * np.sqrt(bias_correction2) / bias_correction1\n"
             "        p -= step_size * m / (np.sqrt(v) + self.eps)\n"),
    ), mistake="Adam's eps added to the uncorrected root"),
    Variant("adam-weight-decay-added-after-the-moments", (
        Rewrite(F, "Adam._update", '''
            def _update(self, i, p, g):
                self._adam_step(i, p, g)
                if self.weight_decay != 0:
                    p -= self.lr * self.weight_decay * p
        '''),
    ), mistake="Adam's weight decay applied after the step"),
    Variant("adamw-decay-not-scaled-by-lr", (
        Edit(F, "p *= 1 - self.lr * self.weight_decay", "p *= 1 - self.weight_decay"),
    ), mistake="AdamW decay not scaled by lr"),
    Variant("adamw-decay-after-the-update", (
        Rewrite(F, "AdamW._update", '''
            def _update(self, i, p, g):
                self._adam_step(i, p, g)
                if self.weight_decay != 0:
                    p *= 1 - self.lr * self.weight_decay
        '''),
    ), mistake="AdamW decay after the update"),
    Variant("adamw-coupled-l2-like-adam", (
        Rewrite(F, "AdamW._update", '''
            def _update(self, i, p, g):
                if self.weight_decay != 0:
                    g = g + self.weight_decay * p
                self._adam_step(i, p, g)
        '''),
    ), mistake="AdamW's decay coupled to the gradient"),
    Variant("adamw-default-weight-decay-zero", (
        Edit(F, "        weight_decay: float = 0.01,\n", "        weight_decay: float = 0.0,\n"),
    )),
    Variant("sgd_updates_a_flattened_reshape_in_place", (Edit(F, "        p -= self.lr * g\n\n\nclass Adagrad", "        flat = p.reshape(-1)  # a view of p only when p is contiguous\n        flat -= self.lr * g.reshape(-1)\n\n\nclass Adagrad"),), mistake="the update never reaches the caller's parameters"),
]

CORRECT = [
    Variant("adam-textbook-bias-corrected-moments", (
        Rewrite(F, "Adam._adam_step", '''
            def _adam_step(self, i, p, g):
                self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
                self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g**2
                m_hat = self.m[i] / (1 - self.beta1**self.t)
                v_hat = self.v[i] / (1 - self.beta2**self.t)
                p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        '''),
    )),
    Variant("adam-per-parameter-state-dicts-and-eps-hat", (
        Rewrite(F, "Adam._adam_step", '''
            def _adam_step(self, i, p, g):
                state = self.__dict__.setdefault("state", {}).setdefault(i, {"step": 0})
                state["step"] += 1
                t = state["step"]
                self.m[i] += (1 - self.beta1) * (g - self.m[i])
                self.v[i] += (1 - self.beta2) * (g * g - self.v[i])
                bc2 = np.sqrt(1 - self.beta2**t)
                step_size = self.lr * bc2 / (1 - self.beta1**t)
                p -= step_size * self.m[i] / (np.sqrt(self.v[i]) + self.eps * bc2)
        '''),
        Rewrite(F, "AdamW._update", '''
            def _update(self, i, p, g):
                p -= self.lr * self.weight_decay * p
                self._adam_step(i, p, g)
        '''),
    )),
    Variant("sgd-nesterov-cs231n-form-and-zero-buffer", (
        Rewrite(F, "SGD._update", '''
            def _update(self, i, p, g):
                g = g + self.weight_decay * p
                if self.momentum == 0:
                    p -= self.lr * g
                    return
                previous = self.buffers[i]
                if previous is None:
                    velocity = g.copy()
                    previous = np.zeros_like(g)
                else:
                    velocity = self.momentum * previous + (1 - self.dampening) * g
                self.buffers[i] = velocity
                if self.nesterov:
                    # p -= lr * ((1 + mu) v - mu v_prev), which equals lr * (g + mu v)
                    p -= self.lr * ((1 + self.momentum) * velocity - self.momentum * previous)
                else:
                    p -= self.lr * velocity
        '''),
    )),
    Variant("sgd-nesterov-checked-at-the-first-step", (
        Edit(F, "if nesterov and (momentum <= 0 or dampening != 0):", "if False:"),
        Edit(F, "    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:\n        if self.weight_decay != 0:\n"
                "            g = g + self.weight_decay * p  # a new array",
             "    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:\n"
             "        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):\n"
             "            raise ValueError('Nesterov momentum requires a momentum and zero dampening')\n"
             "        if self.weight_decay != 0:\n"
             "            g = g + self.weight_decay * p  # a new array"),
    )),
    Variant("adaptive-states-replaced-not-updated-in-place", (
        Rewrite(F, "Adagrad._update", '''
            def _update(self, i, p, g):
                g = g + self.weight_decay * p
                self.sums[i] = self.sums[i] + g**2
                np.subtract(p, self.lr * g / (self.sums[i] ** 0.5 + self.eps), out=p)
        '''),
        Rewrite(F, "RMSprop._update", '''
            def _update(self, i, p, g):
                g = g + self.weight_decay * p
                self.square_avgs[i] = self.alpha * self.square_avgs[i] + (1 - self.alpha) * np.square(g)
                p[...] = p - self.lr * g / (np.sqrt(self.square_avgs[i]) + self.eps)
        '''),
    )),
]
