"""Public tests of a7_optimizers: every optimizer against its ``torch.optim`` namesake, step for step.

Each test starts from the same parameters in your optimizer and in PyTorch's, feeds both the
same random gradients for several steps, and compares the parameters after EVERY step (the
first one included). Parameters are compared by how far they moved from where they started, to
six significant digits, so that a small but systematic difference (an ``eps`` in the wrong
place, a missing bias correction) shows even when the steps are small. Gradients come in three
sizes, ``1e-3``, ``0.1`` and ``3``: with gradients of about ``1e-3`` an ``eps`` inside the square
root changes the step by about one percent, with gradients of about one it hides.

Your optimizer must update the arrays in ``params`` in place (checked on every test) and leave
the gradients you give it unchanged (``test_step_leaves_gradients_unmodified``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, student_raises, torch_one_thread
from grader import strategies as dl

STEPS = 5

# several parameter arrays of different shapes and numbers of dimensions
param_shapes = st.one_of(
    st.lists(dl.shapes(st.integers(1, 3), min_batch=1, max_side=4), min_size=1, max_size=3),
    st.lists(dl.shapes(st.integers(1, 2), min_batch=1, max_side=2), min_size=10, max_size=12),  # a deep network's many small tensors
)
grad_scales = st.sampled_from([1e-3, 0.1, 3.0])
seeds = st.integers(0, 2**32 - 1)
# ``student`` is a function-scoped fixture that returns the same module for every example: safe
# to share between the examples of one test (hypothesis would otherwise refuse it)
shared_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
# each example runs an optimizer for several steps, two calls into the grading worker per step:
# at most 50 examples per test (more would cost seconds per test)
capped = settings(shared_fixtures, max_examples=min(settings.default.max_examples, 50))
zero_or = lambda strategy: st.one_of(st.just(0.0), strategy)  # noqa: E731


@st.composite
def problems(draw: Any, steps: int = STEPS) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Initial parameters (standard normal) and ``steps`` lists of gradients, one per parameter."""
    shapes = draw(param_shapes)
    scale = draw(grad_scales)
    rng = np.random.default_rng(draw(seeds))
    params = [rng.standard_normal(shape) for shape in shapes]
    grads = [[scale * rng.standard_normal(shape) for shape in shapes] for _ in range(steps)]
    layout = draw(st.sampled_from(dl.LAYOUTS))  # as a model's parameters may be laid out
    return [dl.laid_out(p, layout) for p in params], [[dl.laid_out(g, layout) for g in gs] for gs in grads]


def run_student(optim: Any, runner: Any, name: str, params: list[np.ndarray], grads: list[list[np.ndarray]], **hyper: Any) -> list[list[np.ndarray]]:
    """Run the student's optimizer ``name``; return the parameters after each step.

    Each parameter array is shared with the code under test and copied after every step where
    that code runs (``optim_runner.py``), so only in-place updates of the arrays in ``params``
    count.
    """
    shared = [optim.share(p) for p in params]
    return runner.run_steps(getattr(optim, name)(shared, **hyper), shared, grads)


def assert_gradients_unmodified(optim: Any, name: str, params: list[np.ndarray], grads: list[list[np.ndarray]], **hyper: Any) -> None:
    """Run ``name`` on shared gradients and check that none of them changed by the last step."""
    __tracebackhide__ = True
    shared = [optim.share(p) for p in params]
    step = getattr(optim, name)(shared, **hyper).step
    passed = []
    for gs in grads:
        shared_grads = optim.share(list(gs))
        step(shared_grads)
        passed.append(shared_grads)
    for t, (after, gs) in enumerate(zip(optim.fetch(passed), grads), 1):
        for i, (got, original) in enumerate(zip(after, gs)):
            if not (type(got) is np.ndarray and got.shape == original.shape and np.array_equal(got, original)):
                setting = ", ".join(f"{k}={v!r}" for k, v in hyper.items())
                pytest.fail(
                    f"{name}({setting}).step modified gradient {i} of step {t} (seen after step {len(grads)}); "
                    "step(grads) must leave the arrays it is given unchanged: compute g + wd * p into a "
                    "new array, and copy a gradient before keeping it (a momentum buffer that IS the "
                    "gradient array changes it when the buffer is updated in place)",
                    pytrace=False,
                )


def assert_same_trajectory(name: str, got: list[list[np.ndarray]], expected: list[list[np.ndarray]], params: list[np.ndarray], hyper: dict[str, Any]) -> None:
    """Compare the parameters after each step by their change since the start."""
    __tracebackhide__ = True
    setting = ", ".join(f"{k}={v!r}" for k, v in hyper.items())
    for t, (got_step, expected_step) in enumerate(zip(got, expected), 1):
        for i, (g, e, p0) in enumerate(zip(got_step, expected_step, params)):
            what = f"{name}({setting}): parameter {i} (shape {p0.shape}) after step {t}"
            check_array_type(g, p0.shape, what=what)
            if t == 1 and np.array_equal(g, p0) and not np.array_equal(e, p0):
                pytest.fail(
                    f"{what}: unchanged. step() must update the arrays in params IN PLACE (p -= ..., "
                    "not p = p - ...), as torch.optim does",
                    pytrace=False,
                )
            assert_close(g - p0, e - p0, what=f"{what}, its change since the start")


def torch_trajectory(name: str, params: list[np.ndarray], grads: list[list[np.ndarray]], **hyper: Any) -> list[list[np.ndarray]]:
    """The parameters after each step of ``torch.optim.<name>`` in float64."""
    with torch_one_thread() as torch:
        tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
        optimizer = getattr(torch.optim, name)(tensors, **hyper)
        trajectory = []
        for gs in grads:
            for tensor, g in zip(tensors, gs):
                tensor.grad = torch.tensor(g, dtype=torch.float64)
            optimizer.step()
            trajectory.append([tensor.detach().numpy().copy() for tensor in tensors])
        return trajectory


def check_against_torch(student: Any, helper: Any, name: str, problem: Any, **hyper: Any) -> None:
    __tracebackhide__ = True
    params, grads = problem
    got = run_student(student("optim.py"), helper("optim_runner.py"), name, params, grads, **hyper)
    expected = torch_trajectory(name, params, grads, **hyper)
    assert_same_trajectory(name, got, expected, params, hyper)


# ---------------------------------------------------------------------------------------------


@pytest.mark.points(1)
def test_optim_runs_on_numpy_alone(student):
    """optim.py imports no torch, scipy or other ML library, and its SGD takes a step."""
    optim = student("optim.py")
    optim.assert_no_banned_imports()
    params = [optim.share(np.ones(3))]
    optim.SGD(params, lr=0.5).step([np.ones(3)])
    assert np.array_equal(optim.fetch(params)[0], np.full(3, 0.5)), "SGD(params, lr=0.5).step([ones]) should turn ones into 0.5"


@pytest.mark.points(3)
@capped
@given(
    problem=problems(),
    lr=dl.learning_rates(),
    momentum=zero_or(dl.momenta()),
    dampening=zero_or(st.floats(0.1, 0.9)),
    weight_decay=zero_or(dl.weight_decays()),
)
def test_sgd_matches_torch(student, helper, problem, lr, momentum, dampening, weight_decay):
    check_against_torch(student, helper, "SGD", problem, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)


@pytest.mark.points(2)
@capped
@given(problem=problems(), lr=dl.learning_rates(), momentum=dl.momenta(), weight_decay=zero_or(dl.weight_decays()))
def test_sgd_nesterov_matches_torch(student, helper, problem, lr, momentum, weight_decay):
    check_against_torch(student, helper, "SGD", problem, lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)


@pytest.mark.points(1)
@pytest.mark.parametrize("momentum, dampening", [(0.0, 0.0), (0.9, 0.1), (0.0, 0.5)])
def test_sgd_nesterov_needs_momentum_and_no_dampening(student, momentum, dampening):
    """nesterov=True with momentum 0 or dampening != 0 raises ValueError (when built, or at the latest on the first step)."""
    optim = student("optim.py")
    params = optim.share([np.ones(3)])
    made: list[Any] = []

    def build() -> None:
        made.append(optim.SGD(params, lr=0.1, momentum=momentum, dampening=dampening, nesterov=True))

    if student_raises(ValueError, build):
        return
    if student_raises(ValueError, lambda: made[0].step([np.ones(3)])):
        return
    pytest.fail(f"SGD(params, lr=0.1, momentum={momentum}, dampening={dampening}, nesterov=True) should raise ValueError: Nesterov momentum needs momentum > 0 and dampening == 0", pytrace=False)


@pytest.mark.points(2)
@capped
@given(
    problem=problems(),
    lr=dl.learning_rates(),
    eps=st.one_of(st.just(1e-10), dl.epsilons()),
    weight_decay=zero_or(dl.weight_decays()),
    initial_accumulator_value=zero_or(st.floats(0.01, 1.0)),
)
def test_adagrad_matches_torch(student, helper, problem, lr, eps, weight_decay, initial_accumulator_value):
    check_against_torch(student, helper, "Adagrad", problem, lr=lr, eps=eps, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value)


@pytest.mark.points(2)
@capped
@given(
    problem=problems(),
    lr=dl.learning_rates(),
    alpha=st.one_of(st.just(0.99), dl.momenta(max_value=0.999)),
    eps=st.one_of(st.just(1e-8), dl.epsilons()),
    weight_decay=zero_or(dl.weight_decays()),
)
def test_rmsprop_matches_torch(student, helper, problem, lr, alpha, eps, weight_decay):
    check_against_torch(student, helper, "RMSprop", problem, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)


@pytest.mark.points(3)
@capped
@given(
    problem=problems(),
    lr=dl.learning_rates(),
    betas=st.one_of(st.just((0.9, 0.999)), dl.betas()),
    eps=st.one_of(st.just(1e-8), dl.epsilons()),
    weight_decay=zero_or(dl.weight_decays()),
)
def test_adam_matches_torch(student, helper, problem, lr, betas, eps, weight_decay):
    check_against_torch(student, helper, "Adam", problem, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


@pytest.mark.points(3)
@capped
@given(
    problem=problems(),
    lr=dl.learning_rates(),
    betas=st.one_of(st.just((0.9, 0.999)), dl.betas()),
    eps=st.one_of(st.just(1e-8), dl.epsilons()),
    weight_decay=zero_or(dl.weight_decays()),
)
def test_adamw_matches_torch(student, helper, problem, lr, betas, eps, weight_decay):
    check_against_torch(student, helper, "AdamW", problem, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "name, required",
    [("SGD", {"lr": 0.1}), ("Adagrad", {}), ("RMSprop", {}), ("Adam", {}), ("AdamW", {})],
)
def test_default_hyperparameters_match_torch(student, helper, name, required):
    """Built with only the required arguments, each optimizer behaves as PyTorch's with its defaults."""
    rng = np.random.default_rng(7)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[1e-3 * rng.standard_normal(p.shape) for p in params] for _ in range(STEPS)]
    check_against_torch(student, helper, name, (params, grads), **required)


@pytest.mark.points(1)
@pytest.mark.parametrize(
    "name, hyper",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.1}),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
        ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
        ("RMSprop", {"lr": 0.1, "weight_decay": 0.1}),
        ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
        ("AdamW", {"lr": 0.1, "weight_decay": 0.1}),
    ],
    ids=["SGD-momentum", "SGD-dampening-weight-decay", "SGD-nesterov", "Adagrad", "RMSprop", "Adam", "AdamW"],
)
def test_step_leaves_gradients_unmodified(student, name, hyper):
    rng = np.random.default_rng(3)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(3)]
    assert_gradients_unmodified(student("optim.py"), name, params, grads, **hyper)
