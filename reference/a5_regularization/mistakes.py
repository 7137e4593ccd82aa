"""Known mistakes of a5_regularization (``grader.diagnosis``): judge-only, never released.

Dropout draws its mask from the ``rng`` it is given, so a mistake is replayed with the same draws
as the reference makes (one ``rng.random(x.shape)``): a student who made it gets exactly this
answer. Early stopping is judged on the course helper's ``trace(stopper, losses)`` (what ``step``
returned and the attributes it left after each loss): the stopper is rebuilt from its recorded
constructor call and stepped through the same losses, the losses it was stepped through before
included.
"""

from dataclasses import dataclass, replace

import numpy as np

from grader.diagnosis import Function, Mistake, Problem, mutated, output, unchanged

DROPOUT = "What to implement"  # the handout's sections (the first under "1. Dropout")
EARLY_STOPPING = "2. Early stopping (`early_stopping.py`)"

dropout_forward = Function("dropout.py", "dropout_forward", graded=output)
dropout_backward = Function("dropout.py", "dropout_backward", forward="dropout_forward")
dropout_forward_in_place = Function("dropout.py", "dropout_forward", view=mutated(0), oracle=unchanged(0))  # what it leaves in x


@dataclass(frozen=True)
class _Dropout:
    """The reference's dropout, each field a switch for one mistake (the defaults are right)."""

    mask: str = "uniform >= p"  # or "uniform < p", "normal >= p", "one coin per row"
    scale: str = "1 / (1 - p)"  # or "1", "1 / p"
    in_eval: bool = False  # drops in eval mode too
    divide: bool = False  # x * keep / (1 - p): NaN at p = 1
    backward: str = "same mask and scale"  # or "new mask", "mask only", "mask from the output"
    eval_cache_p: str = "0"  # or "p": the eval backward scales

    def forward(self, x, p, train, rng):
        x = np.asarray(x, dtype=np.float64)
        if not train and not self.in_eval:
            return x, (np.ones(x.shape, dtype=bool), p if self.eval_cache_p == "p" else 0.0, rng)
        draws = {
            "uniform >= p": lambda: rng.random(x.shape) >= p,
            "uniform < p": lambda: rng.random(x.shape) < p,
            "normal >= p": lambda: rng.standard_normal(x.shape) >= p,
            "one coin per row": lambda: rng.random((x.shape[0], 1)) >= p,
        }
        keep = draws[self.mask]()
        return self.through(x, keep, p), (keep, p, rng)

    def through(self, a, keep, p):
        if self.divide:
            return a * keep / (1.0 - p)
        if p == 1:
            return np.zeros(np.shape(a))
        scale = {"1 / (1 - p)": 1.0 / (1.0 - p), "1": 1.0, "1 / p": 1.0 / p if p else np.inf}[self.scale]
        return np.where(keep, a * scale, 0.0)

    def backward_of(self, dout, x, p, train, rng):
        out, (keep, p, rng) = self.forward(x, p, train, rng)
        if self.backward == "mask from the output" and train:
            keep = out != 0
        if self.backward == "mask only":
            return np.where(keep, dout, 0.0)
        if self.backward == "new mask" and p > 0:
            keep = rng.random(np.shape(dout)) >= p
        return self.through(np.asarray(dout, dtype=np.float64), keep, p)


def _dropout_mistake(name, explanation, functions, **switch):
    dropout = replace(_Dropout(), **switch)
    wrongs = {dropout_forward: lambda x, p, train, rng: dropout.forward(x, p, train, rng)[0], dropout_backward: dropout.backward_of}
    return [Mistake(function, name, explanation, DROPOUT, wrongs[function]) for function in functions]


class _Stopper:
    """The reference's EarlyStopping, each keyword a switch for one mistake (the defaults are right)."""

    def __init__(self, patience, min_delta=0.0, *, improves="<", reset=True, stop=">= patience, after a miss", best_step_from=0, sticky=False, best_tracks_smaller=False):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_step, self.counter, self._steps = float("inf"), None, 0, 0
        self._improves, self._reset, self._stop, self._from = improves, reset, stop, best_step_from
        self._sticky, self._tracks, self.stopped = sticky, best_tracks_smaller, False

    def _improved(self, loss):
        best, delta = self.best_loss, self.min_delta
        return {
            "<": lambda: loss < best - delta,
            "<=": lambda: loss <= best - delta,
            "< best + delta": lambda: loss < best + delta,
            "< best * (1 - delta)": lambda: loss < best * (1 - delta),
            "not >=": lambda: not loss >= best - delta,
            "first always": lambda: self.best_step is None or loss < best - delta,
        }[self._improves]()

    def step(self, loss):
        loss = float(loss)
        if self._improved(loss):
            self.best_loss, self.best_step = loss, self._steps + self._from
            if self._reset:
                self.counter = 0
        else:
            self.counter += 1
            if self._tracks:
                self.best_loss = min(self.best_loss, loss)
        self._steps += 1
        stop = {
            ">= patience, after a miss": lambda: self.counter > 0 and self.counter >= self.patience,
            "> patience": lambda: self.counter > self.patience,
            ">= patience": lambda: self.counter >= self.patience,
        }[self._stop]()
        self.stopped = (self.stopped or stop) if self._sticky else stop
        return self.stopped


def _traced(stopper, earlier, losses):
    for loss in earlier:
        stopper.step(loss)
    rows = []
    for loss in losses:
        returned = stopper.step(loss)
        rows.append((returned, stopper.counter, stopper.best_loss, stopper.best_step))
    return rows


def _trace_of_a_recorded_stopper(calls, position):
    """``trace(stopper, losses)`` as the problem ``(patience, min_delta, earlier losses, losses)``:
    the stopper's constructor call, and every loss it was stepped through before."""
    call = calls[position]
    stopper = call.passed[0] if call.passed else None
    made = next((c for c in calls[:position] if c.returned is stopper and c.function == "EarlyStopping"), None)
    if made is None or len(call.args) != 2 or not made.plain:
        return None
    hyper = dict(zip(("patience", "min_delta"), made.args)) | made.kwargs
    earlier = []
    for c in calls[_position_of(calls, made) + 1 : position]:
        if c.function == "trace" and c.passed and c.passed[0] is stopper:
            earlier += list(c.args[1])
        elif c.function == "EarlyStopping.step" and c.owner is stopper:
            earlier.append(c.args[0])
    return Problem((hyper["patience"], hyper.get("min_delta", 0.0), earlier, list(call.args[1])), {}, call.result)


def _position_of(calls, call):
    return next(i for i, c in enumerate(calls) if c is call)


trace = Function(
    "course_early_stopping.py", "trace", oracle_file="early_stopping.py", view=_trace_of_a_recorded_stopper, shown="EarlyStopping",
    oracle=lambda es, patience, min_delta, earlier, losses: _traced(es.EarlyStopping(patience, min_delta=min_delta), earlier, losses),
)


def _stopping_mistake(name, explanation, **switch):
    return Mistake(
        trace, name, explanation, EARLY_STOPPING,
        lambda patience, min_delta, earlier, losses: _traced(_Stopper(patience, min_delta, **switch), earlier, losses),
    )


MISTAKES = [
    *_dropout_mistake(
        "p taken as the keep probability",
        "p is the probability of DROPPING an element: keep it when rng.random(x.shape) >= p, i.e. with probability 1 - p.",
        [dropout_forward], mask="uniform < p",
    ),
    *_dropout_mistake(
        "dropout without the inverted scale",
        "Training-mode dropout scales the survivors by 1 / (1 - p), so that the expected output equals the input.",
        [dropout_forward], scale="1",
    ),
    *_dropout_mistake(
        "dropout survivors scaled by 1 / p",
        "The survivors are scaled by 1 / (1 - p), one over the probability of KEEPING an element.",
        [dropout_forward], scale="1 / p",
    ),
    *_dropout_mistake(
        "dropout mask from a normal draw",
        "Each element is kept with probability 1 - p: compare a UNIFORM draw, rng.random(x.shape) >= p, not a normal one.",
        [dropout_forward], mask="normal >= p",
    ),
    *_dropout_mistake(
        "dropout active in eval mode",
        "With train=False dropout is the identity: out equals x.",
        [dropout_forward], in_eval=True,
    ),
    *_dropout_mistake(
        "dropout divides by 1 - p",
        "At p = 1 every element is dropped and out is all zeros; x * keep / (1 - p) gives 0 / 0 = NaN there.",
        [dropout_forward, dropout_backward], divide=True,
    ),
    *_dropout_mistake(
        "dropout backward draws a new mask",
        "The backward pass routes the gradient through the SAME mask the forward drew (keep it in the cache), with the same scale.",
        [dropout_backward], backward="new mask",
    ),
    *_dropout_mistake(
        "dropout backward mask read from the output",
        "Dropout is linear in x: an element that is exactly 0 (as after a ReLU) is still kept with probability 1 - p, and there dx = dout / (1 - p). Keep the mask itself in the cache: out != 0 loses the kept zeros.",
        [dropout_backward], backward="mask from the output",
    ),
    *_dropout_mistake(
        "dropout backward without the scale",
        "out = x * keep / (1 - p), so dx = dout * keep / (1 - p): the backward scales the gradient too.",
        [dropout_backward], backward="mask only",
    ),
    *_dropout_mistake(
        "one dropout coin per row",
        "Each ELEMENT is dropped independently: draw a mask of x's whole shape, not one per example.",
        [dropout_forward], mask="one coin per row",
    ),
    *_dropout_mistake(
        "eval-mode backward scaled",
        "In eval mode dropout is the identity, so its gradient is dout unchanged: no mask and no 1 / (1 - p).",
        [dropout_backward], eval_cache_p="p",
    ),
    Mistake(
        dropout_forward_in_place, "x overwritten with the output",
        "dropout_forward must leave x alone: return a new array, x * keep * (1 / (1 - p)), instead of assigning it into x.",
        DROPOUT, lambda x, p, train, rng: _Dropout().forward(x, p, train, rng)[0],
    ),
    _stopping_mistake(
        "an equal loss counted as an improvement",
        "A loss improves only when it is STRICTLY below best_loss - min_delta (<, not <=).",
        improves="<=",
    ),
    _stopping_mistake(
        "min_delta added instead of subtracted",
        "A loss improves when it is below best_loss - min_delta: it must beat the best by more than min_delta.",
        improves="< best + delta",
    ),
    _stopping_mistake(
        "min_delta taken as relative",
        "min_delta is an absolute amount: a loss improves when it is below best_loss - min_delta, not best_loss * (1 - min_delta).",
        improves="< best * (1 - delta)",
    ),
    _stopping_mistake(
        "a NaN loss counted as an improvement",
        "A NaN loss never improves: test val_loss < best_loss - min_delta (False for NaN), not the negation of >=.",
        improves="not >=",
    ),
    _stopping_mistake(
        "the first loss always taken as the best",
        "The first loss improves only if it is below inf - min_delta, like any other (a NaN or inf first loss does not).",
        improves="first always",
    ),
    _stopping_mistake(
        "counter not reset on an improvement",
        "On an improvement the counter goes back to 0: it counts the steps since the last improvement.",
        reset=False,
    ),
    _stopping_mistake(
        "patience off by one",
        "step returns True as soon as counter >= patience (with counter > 0), not only once counter > patience.",
        stop="> patience",
    ),
    _stopping_mistake(
        "patience 0 stops on an improvement",
        "step returns counter > 0 and counter >= patience: a step that improves (counter 0) never stops, even with patience=0.",
        stop=">= patience",
    ),
    _stopping_mistake(
        "best_step counted from 1",
        "best_step is the 0-based index of the best step: the first step is 0.",
        best_step_from=1,
    ),
    _stopping_mistake(
        "stopping made sticky",
        "step returns what the current counter says: after a later improvement it returns False again.",
        sticky=True,
    ),
    _stopping_mistake(
        "best_loss follows any smaller loss",
        "best_loss changes only on an improvement (a loss below best_loss - min_delta); a smaller loss within min_delta leaves it.",
        best_tracks_smaller=True,
    ),
]
