"""Planted submissions of a5_regularization, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.
"""

from __future__ import annotations


from tests.planted import Edit, Rewrite, Variant

ASSIGNMENT = "a5_regularization"
D = "dropout.py"
E = "early_stopping.py"
MASK = "keep = rng.random(x.shape) >= p  # True with probability 1 - p"
IMPROVES = "if val_loss < self.best_loss - self.min_delta:  # False for NaN"

BUGGY = [
    # ------------------------------------------------------------------ dropout
    Variant("dropout-p-is-the-keep-probability", (Edit(D, MASK, "keep = rng.random(x.shape) < p"),), mistake="p taken as the keep probability"),
    Variant("dropout-no-inverted-scale", (Edit(D, "scale = 1.0 / (1.0 - p)", "scale = 1.0"),), mistake="dropout without the inverted scale"),
    Variant("dropout-scale-one-over-p", (Edit(D, "scale = 1.0 / (1.0 - p)", "scale = 1.0 / p"),), mistake="dropout survivors scaled by 1 / p"),
    Variant("dropout-randn-mask", (Edit(D, MASK, "keep = rng.standard_normal(x.shape) >= p"),), mistake="dropout mask from a normal draw"),
    Variant("dropout-active-in-eval", (Edit(D, "    if not train:\n", "    if False:  # train ignored\n"),), mistake="dropout active in eval mode"),
    Variant("dropout-p-one-gives-nan", (
        Rewrite(D, "_through_mask", '''
            def _through_mask(a, keep, p):
                return a * keep / (1.0 - p)
        '''),
    ), mistake="dropout divides by 1 - p"),
    Variant("dropout-backward-draws-a-new-mask", (
        Edit(D, "    return _through_mask(x, keep, p), (keep, p)\n", "    return _through_mask(x, keep, p), (keep, p, rng)\n"),
        Edit(D, "        return x, (keep, 0.0)", "        return x, (keep, 0.0, rng)"),
        Rewrite(D, "dropout_backward", '''
            def dropout_backward(dout, cache):
                keep, p, rng = cache
                if p > 0:
                    keep = rng.random(dout.shape) >= p
                return _through_mask(np.asarray(dout, dtype=np.float64), keep, p)
        '''),
    ), mistake="dropout backward draws a new mask"),
    Variant("dropout-backward-ignores-the-scale", (
        Edit(D, "    return _through_mask(np.asarray(dout, dtype=np.float64), keep, p)",
             "    return np.where(keep, dout, 0.0)"),
    ), mistake="dropout backward without the scale"),
    Variant("dropout-global-numpy-random", (Edit(D, MASK, "keep = np.random.random(x.shape) >= p"),)),
    Variant("dropout-one-coin-per-row", (Edit(D, MASK, "keep = rng.random((x.shape[0], 1)) >= p"),), mistake="one dropout coin per row"),
    Variant("dropout-eval-backward-scaled", (Edit(D, "        return x, (keep, 0.0)", "        return x, (keep, p)"),), mistake="eval-mode backward scaled"),
    Variant("dropout-forward-writes-into-x", (
        Edit(D, "    return _through_mask(x, keep, p), (keep, p)\n",
             "    x[...] = _through_mask(x, keep, p)\n    return x, (keep, p)\n"),
    ), mistake="x overwritten with the output"),
    Variant("dropout-backward-uses-the-latest-mask", (
        Edit(D, "    return _through_mask(x, keep, p), (keep, p)\n",
             "    _LAST.update(keep=keep)\n    return _through_mask(x, keep, p), (keep, p)\n"),
        Edit(D, "DropoutCache = tuple[np.ndarray, float]\n", "DropoutCache = tuple[np.ndarray, float]\n_LAST = {}\n"),
        Edit(D, "    keep, p = cache\n", "    keep, p = cache\n    keep = _LAST.get('keep', keep) if p > 0 else keep\n"),
    )),
    Variant("dropout-fixed-count-of-drops", (  # not independent coins: a (1, 1) input is never (or always) dropped
        Edit(D, MASK, "keep = np.ones(x.size, dtype=bool)\n    keep[rng.choice(x.size, int(round(p * x.size)), replace=False)] = False\n    keep = keep.reshape(x.shape)"),
    )),
    Variant("dropout-backward-mask-read-from-the-output", (  # drops the gradient wherever x == 0 (after a ReLU)
        Edit(D, "    return _through_mask(x, keep, p), (keep, p)",
             "    out = _through_mask(x, keep, p)\n    return out, (out != 0, p)"),
    ), mistake="dropout backward mask read from the output"),
    # ------------------------------------------------------------------ early stopping
    Variant("es-equal-loss-improves", (Edit(E, IMPROVES, "if val_loss <= self.best_loss - self.min_delta:"),)),
    Variant("es-min-delta-sign-flipped", (Edit(E, IMPROVES, "if val_loss < self.best_loss + self.min_delta:"),)),  # the first failing example the grade profile finds matches no single mistake: undiagnosed
    Variant("es-min-delta-relative", (Edit(E, IMPROVES, "if val_loss < self.best_loss * (1 - self.min_delta):"),), mistake="min_delta taken as relative"),
    Variant("es-nan-improves", (Edit(E, IMPROVES, "if not val_loss >= self.best_loss - self.min_delta:"),), mistake="a NaN loss counted as an improvement"),
    Variant("es-first-loss-always-best", (Edit(E, IMPROVES, "if self.best_step is None or val_loss < self.best_loss - self.min_delta:"),), mistake="the first loss always taken as the best"),
    Variant("es-counter-not-reset", (Edit(E, "            self.counter = 0\n", ""),), mistake="counter not reset on an improvement"),
    Variant("es-patience-off-by-one", (
        Edit(E, "return self.counter > 0 and self.counter >= self.patience", "return self.counter > self.patience"),
    ), mistake="patience off by one"),
    Variant("es-patience-zero-stops-on-improvement", (
        Edit(E, "return self.counter > 0 and self.counter >= self.patience", "return self.counter >= self.patience"),
    ), mistake="patience 0 stops on an improvement"),
    Variant("es-best-step-from-one", (Edit(E, "self.best_step = self._steps_taken\n", "self.best_step = self._steps_taken + 1\n"),), mistake="best_step counted from 1"),
    Variant("es-stop-is-sticky", (
        Edit(E, "        return self.counter > 0 and self.counter >= self.patience",
             "        self.stopped = getattr(self, 'stopped', False) or (self.counter > 0 and self.counter >= self.patience)\n"
             "        return self.stopped"),
    ), mistake="stopping made sticky"),
    Variant("es-best-loss-tracks-any-smaller-loss", (
        Edit(E, "            self.counter += 1\n", "            self.counter += 1\n            self.best_loss = min(self.best_loss, val_loss)\n"),
    )),  # the first failing example the grade profile finds matches no single mistake: undiagnosed
    Variant("es-history-shared-between-instances", (
        Rewrite(E, "EarlyStopping.step", '''
            history = []

            def step(self, val_loss):
                self.history.append(float(val_loss))
                k = len(self.history) - 1
                if self.history[k] < self.best_loss - self.min_delta:
                    self.best_loss, self.best_step, self.counter = self.history[k], k, 0
                else:
                    self.counter += 1
                return self.counter > 0 and self.counter >= self.patience
        '''),
    )),
    Variant("es-default-min-delta-1e-4", (
        Edit(E, "def __init__(self, patience: int, min_delta: float = 0.0) -> None:", "def __init__(self, patience: int, min_delta: float = 1e-4) -> None:"),
    )),
]

CORRECT = [
    Variant("dropout-binomial-mask-divide-and-scaled-mask-cache", (
        Rewrite(D, "dropout_forward", '''
            def dropout_forward(x, p, train, rng):
                if not train:
                    return x.copy(), np.ones_like(x)
                if p == 1:
                    return np.zeros_like(x), np.zeros_like(x)
                scaled_mask = rng.binomial(1, 1 - p, size=x.shape) / (1 - p)
                return x * scaled_mask, scaled_mask
        '''),
        Rewrite(D, "dropout_backward", '''
            def dropout_backward(dout, cache):
                return dout * cache
        '''),
    )),
    Variant("dropout-uniform-boolean-indexing-loops", (
        Rewrite(D, "dropout_forward", '''
            def dropout_forward(x, p, train, rng):
                if not train:
                    return x, None
                keep = rng.uniform(size=x.shape) < 1 - p
                out = np.zeros_like(x)
                for index in np.ndindex(x.shape):
                    if keep[index]:
                        out[index] = x[index] / (1 - p)
                return out, (keep, p)
        '''),
        Rewrite(D, "dropout_backward", '''
            def dropout_backward(dout, cache):
                if cache is None:
                    return dout.copy()
                keep, p = cache
                dx = np.zeros_like(dout)
                dx[keep] = dout[keep] / (1 - p)
                return dx
        '''),
    )),
    Variant("es-difference-form-numpy-bool", (
        Rewrite(E, "EarlyStopping.step", '''
            def step(self, val_loss):
                if self.best_loss - val_loss > self.min_delta:
                    self.best_loss = float(val_loss)
                    self.best_step = self._steps_taken
                    self.counter = 0
                else:
                    self.counter += 1
                self._steps_taken += 1
                return np.logical_and(self.counter > 0, self.counter >= self.patience)
        '''),
        Edit(E, "import math\n", "import math\n\nimport numpy as np\n"),
    )),
    Variant("es-history-and-explicit-nan", (
        Rewrite(E, "EarlyStopping.__init__", '''
            def __init__(self, patience, min_delta=0.0):
                self.patience, self.min_delta = patience, min_delta
                self.history = []
                self.best_loss, self.best_step, self.counter = math.inf, None, 0
        '''),
        Rewrite(E, "EarlyStopping.step", '''
            def step(self, val_loss):
                self.history.append(val_loss)
                if not math.isnan(val_loss) and val_loss < self.best_loss - self.min_delta:
                    self.best_loss, self.best_step = val_loss, len(self.history) - 1
                self.counter = len(self.history) - (0 if self.best_step is None else self.best_step + 1)
                if self.counter == 0:
                    return False
                return bool(self.counter >= self.patience)
        '''),
    )),
    Variant("dropout_cache_as_a_class_instance", (
        Rewrite(D, "dropout_forward", '''
            class DropoutCache:
                """The mask and the probability the forward pass used."""

                def __init__(self, keep, p):
                    self.keep, self.p = keep, p


            def dropout_forward(x, p, train, rng):
                if not 0 <= p <= 1:
                    raise ValueError(f"p={p} must lie in [0, 1]")
                if not train:
                    return x.copy(), DropoutCache(np.ones(x.shape, dtype=bool), 0.0)
                keep = rng.random(x.shape) >= p
                return _through_mask(x, keep, p), DropoutCache(keep, p)
        '''),
        Rewrite(D, "dropout_backward", '''
            def dropout_backward(dout, cache):
                return _through_mask(dout, cache.keep, cache.p)
        '''),
    )),
]
