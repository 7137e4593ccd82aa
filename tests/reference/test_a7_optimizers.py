"""The a7_optimizers oracle (reference/a7_optimizers/optim.py) against torch.optim, step for step.

Each case draws random hyper-parameters and a seed; the seed gives several parameter arrays of
different shapes and a fresh random gradient for every step. The oracle and its torch.optim
namesake start from the same float64 values and must agree after every step, the first included.

Tolerance: both sides do the same float64 arithmetic in a possibly different order, so each
step differs by a few ulps of the quantities involved (|p|, lr*|update| <= ~1e2). Over at most
15 steps that stays below ~1e-13; ``rtol = atol = 1e-10`` leaves a wide margin while any
formula error (dampened first buffer, eps inside the sqrt, t off by one, coupled AdamW decay)
shows up at 1e-4 or more on these inputs.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course import PROJECT_ROOT, Course
from grader.loader import load_reference

optim = load_reference("a7_optimizers", "optim")

RTOL = ATOL = 1e-10
N_STEPS = 12

seeds = st.integers(0, 2**32 - 1)
learning_rates = st.floats(1e-3, 1.0)
weight_decays = st.one_of(st.just(0.0), st.floats(1e-4, 0.1))
# eps from 1e-10 to 1e-2, log-uniform; large eps against small gradients makes its place matter
epsilons = st.floats(-10, -2).map(lambda e: 10.0**e)
# gradient scales: with |g| ~ 1e-4 an eps misplaced inside the sqrt is plainly visible
grad_scales = st.sampled_from([1e-4, 1e-2, 1.0, 10.0])
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999))

SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]


def run_against_torch(
    make_ours: Callable[[list[np.ndarray]], object],
    make_theirs: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    seed: int,
    grad_scale: float,
    n_steps: int = N_STEPS,
) -> None:
    """Step both optimizers ``n_steps`` times on the same random gradients, comparing each step."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    originals = list(params)  # the array objects the oracle must update in place
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    ours = make_ours(params)
    theirs = make_theirs(tparams)
    for step in range(1, n_steps + 1):
        grads = [grad_scale * rng.standard_normal(shape) for shape in SHAPES]
        grads_before = [g.copy() for g in grads]
        ours.step(grads)
        for tp, g in zip(tparams, grads_before):
            tp.grad = torch.tensor(g)
        theirs.step()
        for i, (p, g, g0, tp) in enumerate(zip(originals, grads, grads_before, tparams)):
            assert np.array_equal(g, g0), f"step {step}: gradient {i} was modified"
            assert p.dtype == np.float64
            np.testing.assert_allclose(
                p, tp.detach().numpy(), rtol=RTOL, atol=ATOL,
                err_msg=f"step {step}, parameter {i} {p.shape}",
            )


@settings(max_examples=40, deadline=None)
@given(
    seed=seeds,
    grad_scale=grad_scales,
    lr=learning_rates,
    momentum=st.one_of(st.just(0.0), st.floats(0.1, 0.99)),
    dampening=st.one_of(st.just(0.0), st.floats(0.1, 0.9)),
    nesterov=st.booleans(),
    weight_decay=weight_decays,
)
def test_sgd_matches_torch(seed, grad_scale, lr, momentum, dampening, nesterov, weight_decay):
    if nesterov:  # the only valid Nesterov settings; invalid ones are tested below
        momentum, dampening = max(momentum, 0.5), 0.0
    hp = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
              weight_decay=weight_decay)
    run_against_torch(
        lambda ps: optim.SGD(ps, **hp),
        lambda ps: torch.optim.SGD(ps, **hp, foreach=False),
        seed, grad_scale,
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=seeds,
    grad_scale=grad_scales,
    lr=learning_rates,
    eps=epsilons,
    weight_decay=weight_decays,
    initial_accumulator_value=st.one_of(st.just(0.0), st.floats(1e-3, 1.0)),
)
def test_adagrad_matches_torch(seed, grad_scale, lr, eps, weight_decay, initial_accumulator_value):
    hp = dict(lr=lr, eps=eps, weight_decay=weight_decay,
              initial_accumulator_value=initial_accumulator_value)
    run_against_torch(
        lambda ps: optim.Adagrad(ps, **hp),
        lambda ps: torch.optim.Adagrad(ps, **hp, foreach=False),
        seed, grad_scale,
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=seeds,
    grad_scale=grad_scales,
    lr=st.floats(1e-4, 0.1),
    alpha=st.floats(0.5, 0.999),
    eps=epsilons,
    weight_decay=weight_decays,
)
def test_rmsprop_matches_torch(seed, grad_scale, lr, alpha, eps, weight_decay):
    hp = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)
    run_against_torch(
        lambda ps: optim.RMSprop(ps, **hp),
        lambda ps: torch.optim.RMSprop(ps, **hp, foreach=False),
        seed, grad_scale,
    )


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@settings(max_examples=30, deadline=None)
@given(
    seed=seeds,
    grad_scale=grad_scales,
    lr=st.floats(1e-4, 0.1),
    betas=betas,
    eps=epsilons,
    weight_decay=st.one_of(st.just(0.0), st.floats(1e-3, 0.5)),
)
def test_adam_family_matches_torch(name, seed, grad_scale, lr, betas, eps, weight_decay):
    hp = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    run_against_torch(
        lambda ps: getattr(optim, name)(ps, **hp),
        lambda ps: getattr(torch.optim, name)(ps, **hp, foreach=False),
        seed, grad_scale,
    )


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"])
def test_defaults_match_torch(name):
    """Hyper-parameters left out take PyTorch's defaults (lr is given: SGD's has none here)."""
    kwargs = {"lr": 0.05} if name == "SGD" else {}
    run_against_torch(
        lambda ps: getattr(optim, name)(ps, **kwargs),
        lambda ps: getattr(torch.optim, name)(ps, **kwargs, foreach=False),
        seed=7, grad_scale=1.0,
    )


# The signatures of COURSE_API.md, in order, with their defaults (EMPTY: no default).
EMPTY = inspect.Parameter.empty
SPEC_SIGNATURES = {
    "SGD": dict(params=EMPTY, lr=EMPTY, momentum=0.0, dampening=0.0, nesterov=False,
                weight_decay=0.0),
    "Adagrad": dict(params=EMPTY, lr=0.01, eps=1e-10, weight_decay=0.0,
                    initial_accumulator_value=0.0),
    "RMSprop": dict(params=EMPTY, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0),
    "Adam": dict(params=EMPTY, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    "AdamW": dict(params=EMPTY, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
}


@pytest.mark.parametrize("name", SPEC_SIGNATURES)
def test_signature_is_the_specs(name):
    params = inspect.signature(getattr(optim, name)).parameters
    assert {k: p.default for k, p in params.items()} == SPEC_SIGNATURES[name]
    assert list(params) == list(SPEC_SIGNATURES[name])


@pytest.mark.parametrize("name", SPEC_SIGNATURES)
def test_spec_defaults_agree_with_torch(name):
    """Each hyper-parameter the spec names exists in torch.optim with the same default, except
    SGD's lr (required by the spec, 1e-3 in torch). The ORDER differs for SGD (torch: ...,
    weight_decay, nesterov) and Adagrad (torch: lr, lr_decay, weight_decay,
    initial_accumulator_value, eps), so only keyword calls agree there."""
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for key, default in SPEC_SIGNATURES[name].items():
        assert key in theirs, f"{name}: {key} is not a torch.optim.{name} argument"
        if (name, key) == ("SGD", "lr"):
            assert theirs[key].default == 1e-3
        else:
            assert theirs[key].default == default, f"{name}.{key}"
    spec_order = list(SPEC_SIGNATURES[name])
    torch_order = [k for k in theirs if k in SPEC_SIGNATURES[name]]
    assert (torch_order == spec_order) == (name not in ("SGD", "Adagrad"))


def test_sgd_first_momentum_step_is_not_dampened():
    """Step 1 sets the buffer to g itself: p1 = p0 - lr * g even with dampening (mlx#473)."""
    p = np.array([1.0, -2.0])
    g = np.array([0.5, 0.25])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    opt.step([g])
    np.testing.assert_allclose(p, [1.0 - 0.05, -2.0 - 0.025], rtol=1e-15)
    opt.step([g])  # buf = 0.9 * g + 0.5 * g
    np.testing.assert_allclose(p, [0.95 - 0.1 * 1.4 * 0.5, -2.025 - 0.1 * 1.4 * 0.25], rtol=1e-15)


def test_adam_eps_is_outside_the_sqrt():
    """Step 1 of Adam moves each entry by lr * g / (|g| + eps); eps inside the sqrt differs."""
    g = np.array([1e-3, -1e-3])
    p = np.zeros(2)
    optim.Adam([p], lr=1.0, eps=1e-3).step([g])
    np.testing.assert_allclose(p, -g / (np.abs(g) + 1e-3), rtol=1e-12)  # -0.5, +0.5


def test_adamw_decay_is_decoupled_and_first():
    """Zero gradient: AdamW only shrinks p by (1 - lr * wd); Adam's L2 decay moves it by ~lr."""
    p = np.array([2.0, -4.0])
    optim.AdamW([p], lr=0.1, weight_decay=0.5).step([np.zeros(2)])
    np.testing.assert_allclose(p, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-15)
    q = np.array([2.0, -4.0])
    optim.Adam([q], lr=0.1, weight_decay=0.5).step([np.zeros(2)])
    np.testing.assert_allclose(q, [2.0 - 0.1, -4.0 + 0.1], rtol=1e-6)


@pytest.mark.parametrize(
    "momentum, dampening",
    [(0.0, 0.0), (-0.5, 0.0), (0.9, 0.1), (0.0, 0.5)],
    ids=["no-momentum", "negative-momentum", "dampening", "neither"],
)
def test_nesterov_needs_momentum_and_no_dampening(momentum, dampening):
    p = [np.ones(3)]
    with pytest.raises(ValueError):
        optim.SGD(p, lr=0.1, momentum=momentum, dampening=dampening, nesterov=True)
    with pytest.raises(ValueError):  # torch agrees
        torch.optim.SGD([torch.ones(3)], lr=0.1, momentum=momentum, dampening=dampening,
                        nesterov=True)


def test_valid_nesterov_does_not_raise():
    optim.SGD([np.ones(3)], lr=0.1, momentum=0.9, dampening=0.0, nesterov=True)


def test_oracle_does_not_import_torch():
    tree = ast.parse(Course(PROJECT_ROOT).oracle("a7_optimizers", "optim.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert "torch" not in imported
