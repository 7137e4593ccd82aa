"""Hidden tests of a7_optimizers: the student's optimizers against the reference, step for step.

Every optimizer runs ``STEPS = 10`` steps on two or three parameter arrays of different shapes,
with every hyper-parameter drawn (0 included where 0 switches a feature off): learning rates up
to 1, momentum and dampening, Nesterov, weight decay, betas, eps, alpha and
``initial_accumulator_value``. Gradients come in sizes from ``1e-3`` (where an ``eps`` in the
wrong place shows) to 10, parameters of size 1 or 10 (where weight decay matters). The
parameters after every step are compared, by their change since the start, with the reference
run on the same inputs, to six significant digits (float64 rounding of another valid order of
operations is about ``1e-15`` of the quantities involved, far inside).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, student_raises
from grader import strategies as dl

STEPS = 10
NAMES = ("SGD", "Adagrad", "RMSprop", "Adam", "AdamW")

shared_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
# each example runs an optimizer for several steps, two calls into the grading worker per step:
# at most 40 examples per test (more would cost seconds per test)
capped = settings(shared_fixtures, max_examples=min(settings.default.max_examples, 40))
param_shapes = st.one_of(
    st.lists(dl.shapes(st.integers(1, 3), min_batch=1, max_side=4), min_size=2, max_size=3),
    st.lists(dl.shapes(st.integers(1, 2), min_batch=1, max_side=2), min_size=10, max_size=12),  # a deep network's many small tensors
)
zero_or = lambda strategy: st.one_of(st.just(0.0), strategy)  # noqa: E731
learning_rates = dl.learning_rates(1e-4, 1.0)


@st.composite
def problems(draw: Any, steps: int = STEPS) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    shapes = draw(param_shapes)
    param_scale = draw(st.sampled_from([1.0, 10.0]))
    grad_scale = draw(st.sampled_from([1e-3, 1e-2, 1.0, 10.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = [param_scale * rng.standard_normal(shape) for shape in shapes]
    grads = [[grad_scale * rng.standard_normal(shape) for shape in shapes] for _ in range(steps)]
    layout = draw(st.sampled_from(dl.LAYOUTS))  # as a model's parameters may be laid out
    return [dl.laid_out(p, layout) for p in params], [[dl.laid_out(g, layout) for g in gs] for gs in grads]


@st.composite
def sgd_settings(draw: Any, nesterov: bool = False) -> dict[str, Any]:
    hyper = {"lr": draw(learning_rates), "weight_decay": draw(zero_or(dl.weight_decays(0.5)))}
    if nesterov:
        hyper.update(momentum=draw(dl.momenta(0.1, 0.99)), nesterov=True)
    else:
        hyper.update(momentum=draw(zero_or(dl.momenta(0.1, 0.99))), dampening=draw(zero_or(st.floats(0.05, 0.95))))
    return hyper


@st.composite
def adagrad_settings(draw: Any) -> dict[str, Any]:
    return {
        "lr": draw(learning_rates),
        "eps": draw(st.one_of(st.just(1e-10), dl.epsilons())),
        "weight_decay": draw(zero_or(dl.weight_decays(0.5))),
        "initial_accumulator_value": draw(zero_or(st.floats(1e-3, 2.0))),
    }


@st.composite
def rmsprop_settings(draw: Any) -> dict[str, Any]:
    return {
        "lr": draw(learning_rates),
        "alpha": draw(st.one_of(st.just(0.99), dl.momenta(0.1, 0.999))),
        "eps": draw(st.one_of(st.just(1e-8), dl.epsilons())),
        "weight_decay": draw(zero_or(dl.weight_decays(0.5))),
    }


@st.composite
def adam_settings(draw: Any) -> dict[str, Any]:
    return {
        "lr": draw(learning_rates),
        "betas": draw(st.one_of(st.just((0.9, 0.999)), dl.betas())),
        "eps": draw(st.one_of(st.just(1e-8), dl.epsilons())),
        "weight_decay": draw(zero_or(dl.weight_decays(0.5))),
    }


SETTINGS = {"SGD": sgd_settings(), "Adagrad": adagrad_settings(), "RMSprop": rmsprop_settings(), "Adam": adam_settings(), "AdamW": adam_settings()}


def run_student(optim: Any, runner: Any, name: str, params: list[np.ndarray], grads: list[list[np.ndarray]], hyper: dict[str, Any]) -> list[list[np.ndarray]]:
    """The parameters after each step, copied where the student's code runs (``optim_runner.py``)."""
    shared = [optim.share(p) for p in params]
    return runner.run_steps(getattr(optim, name)(shared, **hyper), shared, grads)


def run_reference(optim: Any, name: str, params: list[np.ndarray], grads: list[list[np.ndarray]], hyper: dict[str, Any]) -> list[list[np.ndarray]]:
    copies = [p.copy() for p in params]
    optimizer = getattr(optim, name)(copies, **hyper)
    trajectory = []
    for gs in grads:
        optimizer.step([g.copy() for g in gs])
        trajectory.append([p.copy() for p in copies])
    return trajectory


def check_against_reference(student: Any, helper: Any, reference: Any, name: str, problem: Any, hyper: dict[str, Any]) -> None:
    __tracebackhide__ = True
    params, grads = problem
    got = run_student(student("optim.py"), helper("optim_runner.py"), name, params, grads, hyper)
    expected = run_reference(reference("optim.py"), name, params, grads, hyper)
    setting = ", ".join(f"{k}={v!r}" for k, v in hyper.items())
    for t, (got_step, expected_step) in enumerate(zip(got, expected), 1):
        for i, (g, e, p0) in enumerate(zip(got_step, expected_step, params)):
            what = f"{name}({setting}): parameter {i} (shape {p0.shape}) after step {t}"
            check_array_type(g, p0.shape, what=what)
            assert_close(g - p0, e - p0, what=f"{what}, its change since the start")


@pytest.mark.points(3)
@capped
@given(problem=problems(), hyper=sgd_settings())
def test_sgd_against_reference(student, helper, reference, problem, hyper):
    check_against_reference(student, helper, reference, "SGD", problem, hyper)


@pytest.mark.points(2)
@capped
@given(problem=problems(), hyper=sgd_settings(nesterov=True))
def test_sgd_nesterov_against_reference(student, helper, reference, problem, hyper):
    check_against_reference(student, helper, reference, "SGD", problem, hyper)


@pytest.mark.points(2)
@capped
@given(problem=problems(), hyper=adagrad_settings())
def test_adagrad_against_reference(student, helper, reference, problem, hyper):
    check_against_reference(student, helper, reference, "Adagrad", problem, hyper)


@pytest.mark.points(2)
@capped
@given(problem=problems(), hyper=rmsprop_settings())
def test_rmsprop_against_reference(student, helper, reference, problem, hyper):
    check_against_reference(student, helper, reference, "RMSprop", problem, hyper)


@pytest.mark.points(3)
@capped
@given(problem=problems(), hyper=adam_settings())
def test_adam_against_reference(student, helper, reference, problem, hyper):
    check_against_reference(student, helper, reference, "Adam", problem, hyper)


@pytest.mark.points(3)
@capped
@given(problem=problems(), hyper=adam_settings())
def test_adamw_against_reference(student, helper, reference, problem, hyper):
    check_against_reference(student, helper, reference, "AdamW", problem, hyper)


@pytest.mark.points(1)
@pytest.mark.parametrize("name", NAMES)
@settings(shared_fixtures, max_examples=min(settings.default.max_examples, 20))
@given(data=st.data())
def test_gradients_unmodified_over_many_steps(student, data, name):
    """No step modifies any gradient it was given, not even a later step (an aliased buffer)."""
    params, grads = data.draw(problems(steps=4))
    hyper = data.draw(SETTINGS[name])
    optim = student("optim.py")
    shared = [optim.share(p) for p in params]
    step = getattr(optim, name)(shared, **hyper).step
    passed = []
    for gs in grads:
        shared_grads = optim.share(list(gs))
        step(shared_grads)
        passed.append(shared_grads)
    for t, (after, gs) in enumerate(zip(optim.fetch(passed), grads), 1):
        for i, (got, original) in enumerate(zip(after, gs)):
            assert type(got) is np.ndarray and np.array_equal(got, original), f"{name}({hyper}): gradient {i} of step {t} was modified"


@pytest.mark.points(1)
@shared_fixtures
@given(momentum=zero_or(dl.momenta() | st.floats(-0.95, -0.05)), dampening=zero_or(st.floats(0.05, 0.95)))
@example(momentum=-0.5, dampening=0.0)
def test_sgd_nesterov_value_error(student, momentum, dampening):
    """Nesterov needs momentum > 0 and dampening == 0: momentum 0, a NEGATIVE momentum or a dampening
    != 0 raises ValueError, at construction or first step (a check for momentum == 0 alone misses
    the negative ones)."""
    bad = momentum <= 0 or dampening != 0
    optim = student("optim.py")
    params = optim.share([np.ones((2, 3))])
    made: list[Any] = []
    if student_raises(ValueError, lambda: made.append(optim.SGD(params, lr=0.1, momentum=momentum, dampening=dampening, nesterov=True))):
        assert bad, f"SGD(momentum={momentum}, dampening={dampening}, nesterov=True) is valid but raised ValueError"
        return
    raised = student_raises(ValueError, lambda: made[0].step([np.ones((2, 3))]))
    assert raised == bad, f"SGD(momentum={momentum}, dampening={dampening}, nesterov=True): ValueError expected: {bad}, raised: {raised}"


@pytest.mark.points(1)
@pytest.mark.parametrize("name", NAMES)
def test_two_optimizers_keep_separate_state(student, reference, name):
    """Two optimizers stepped in turn behave as if each were alone (no state shared between them)."""
    rng = np.random.default_rng(11)
    hyper = {"SGD": {"lr": 0.1, "momentum": 0.9}}.get(name, {"lr": 0.05})
    first = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    second = [rng.standard_normal((2, 2))]
    grads_first = [[rng.standard_normal(p.shape) for p in first] for _ in range(4)]
    grads_second = [[rng.standard_normal(p.shape) for p in second] for _ in range(4)]
    optim = student("optim.py")
    shared_first = [optim.share(p) for p in first]
    shared_second = [optim.share(p) for p in second]
    step_first = getattr(optim, name)(shared_first, **hyper).step
    step_second = getattr(optim, name)(shared_second, **hyper).step
    for g1, g2 in zip(grads_first, grads_second):
        step_first([g.copy() for g in g1])
        step_second([g.copy() for g in g2])
    expected_first = run_reference(reference("optim.py"), name, first, grads_first, hyper)[-1]
    expected_second = run_reference(reference("optim.py"), name, second, grads_second, hyper)[-1]
    for i, (got, expected, p0) in enumerate(zip(optim.fetch(shared_first) + optim.fetch(shared_second), expected_first + expected_second, first + second)):
        assert_close(got - p0, expected - p0, what=f"two {name} optimizers stepped in turn: parameter {i} after 4 steps each")


