"""The a4_initialization oracle against ``torch.nn.init``.

Our linear weight is ``(fan_in, fan_out) = (D, M)``, the transpose of torch's ``(out, in)``; a
convolution weight is ``(F, C, KH, KW)`` in both. Fans are compared with torch's own fan
computation exactly. Distributions are compared with ``grader.statistics`` (false-fail probability
below 1e-9 per assertion) against the spec's formula, and torch's own initializer, drawn on the
torch layout, must pass the very same assertion: so the formula is torch's, not just ours.

Shapes are non-square (fans in a ratio of at least 2) and kernels are larger than 1x1 with at
least 512 elements, so a swapped fan, a kernel left out of the fan or a missing gain changes the
variance by a factor of 2 or more, outside the accepted band (``test_the_checks_catch_...``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.loader import load_reference
from grader.statistics import assert_normal, assert_uniform

init = load_reference("a4_initialization", "init")

seeds = st.integers(0, 2**32 - 1)


def torch_layout(shape: tuple[int, ...]) -> tuple[int, ...]:
    """torch's layout of the same weight: a linear (D, M) is torch's (M, D); a conv is unchanged."""
    return shape[::-1] if len(shape) == 2 else shape


def torch_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_layout(shape), device="meta"))


# ---------------------------------------------------------------------------------------------
# shapes


@st.composite
def unbalanced_shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """A linear (D, M) or conv (F, C, KH, KW) weight whose fans differ by a factor >= 2, kernels
    larger than 1x1, at least 512 elements: the shapes where fan and gain bugs show."""
    linear = draw(st.booleans())
    small = draw(st.integers(16, 64) if linear else st.integers(8, 12))
    big = small * draw(st.integers(2, 4))
    fan_in_is_big = draw(st.booleans())
    if linear:
        return (big, small) if fan_in_is_big else (small, big)
    c, f = (big, small) if fan_in_is_big else (small, big)
    return (f, c, draw(st.integers(2, 5)), draw(st.integers(2, 5)))


any_valid_shapes = st.one_of(
    st.tuples(st.integers(1, 300), st.integers(1, 300)),
    st.tuples(*[st.integers(1, 12)] * 4),
)
invalid_shapes = st.lists(st.integers(1, 6), max_size=6).filter(lambda s: len(s) not in (2, 4)).map(tuple)


# ---------------------------------------------------------------------------------------------
# the initializers, each paired with torch's and the spec's scale


@dataclass(frozen=True)
class InitCase:
    """One initializer: our call, torch's call on torch's layout, and the spec's std or bound."""

    label: str
    ours: Callable[[tuple[int, ...], np.random.Generator], np.ndarray]
    theirs: Callable[[torch.Tensor, torch.Generator], object]
    scale: Callable[[int, int], float]  # (fan_in, fan_out) -> std (normal) or bound a (uniform)
    uniform: bool

    def __str__(self) -> str:
        return self.label


def xavier_cases(gain: float) -> list[InitCase]:
    std = lambda fi, fo: gain * math.sqrt(2 / (fi + fo))  # noqa: E731
    return [
        InitCase(
            f"xavier_normal(gain={gain:.3g})",
            lambda s, r: init.xavier_normal(s, r, gain=gain),
            lambda t, g: torch.nn.init.xavier_normal_(t, gain=gain, generator=g),
            std,
            uniform=False,
        ),
        InitCase(
            f"xavier_uniform(gain={gain:.3g})",
            lambda s, r: init.xavier_uniform(s, r, gain=gain),
            lambda t, g: torch.nn.init.xavier_uniform_(t, gain=gain, generator=g),
            lambda fi, fo: gain * math.sqrt(6 / (fi + fo)),
            uniform=True,
        ),
    ]


def kaiming_cases(mode: str) -> list[InitCase]:
    def fan(fi: int, fo: int) -> int:
        return fi if mode == "fan_in" else fo

    # torch's defaults (a=0, nonlinearity="leaky_relu") have the ReLU gain sqrt(2)
    return [
        InitCase(
            f"kaiming_normal(mode={mode!r})",
            lambda s, r: init.kaiming_normal(s, r, mode=mode),
            lambda t, g: torch.nn.init.kaiming_normal_(t, mode=mode, generator=g),
            lambda fi, fo: math.sqrt(2 / fan(fi, fo)),
            uniform=False,
        ),
        InitCase(
            f"kaiming_uniform(mode={mode!r})",
            lambda s, r: init.kaiming_uniform(s, r, mode=mode),
            lambda t, g: torch.nn.init.kaiming_uniform_(t, mode=mode, generator=g),
            lambda fi, fo: math.sqrt(6 / fan(fi, fo)),
            uniform=True,
        ),
    ]


INIT_CASES = [
    InitCase(
        "lecun_normal",
        init.lecun_normal,
        # torch has no lecun_normal_; kaiming with the linear gain 1 is the same distribution
        lambda t, g: torch.nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="linear", generator=g),
        lambda fi, fo: math.sqrt(1 / fi),
        uniform=False,
    ),
    *xavier_cases(1.0),
    *xavier_cases(torch.nn.init.calculate_gain("tanh")),
    *kaiming_cases("fan_in"),
    *kaiming_cases("fan_out"),
]


def assert_distribution(samples: np.ndarray, case: InitCase, scale: float, what: str) -> None:
    __tracebackhide__ = True
    if case.uniform:
        assert_uniform(samples, scale, what=what)
    else:
        assert_normal(samples, 0.0, scale, what=what)


# ---------------------------------------------------------------------------------------------
# fans


@settings(max_examples=60, deadline=None)
@given(any_valid_shapes)
def test_compute_fans_matches_torch(shape):
    fans = init.compute_fans(shape)
    assert fans == torch_fans(shape)
    assert all(type(f) is int for f in fans), f"fans {fans!r} are not Python ints"


def test_compute_fans_by_hand():
    assert init.compute_fans((3, 5)) == (3, 5)  # (D, M): fan_in = D
    assert init.compute_fans((8, 3, 5, 2)) == (30, 80)  # conv: C*KH*KW, F*KH*KW


INITIALIZERS_BY_SHAPE = {
    "compute_fans": lambda s: init.compute_fans(s),
    "zeros_init": lambda s: init.zeros_init(s),
    "lecun_normal": lambda s: init.lecun_normal(s, np.random.default_rng(0)),
    "xavier_normal": lambda s: init.xavier_normal(s, np.random.default_rng(0)),
    "xavier_uniform": lambda s: init.xavier_uniform(s, np.random.default_rng(0)),
    "kaiming_normal": lambda s: init.kaiming_normal(s, np.random.default_rng(0)),
    "kaiming_uniform": lambda s: init.kaiming_uniform(s, np.random.default_rng(0)),
}


@pytest.mark.parametrize("name", list(INITIALIZERS_BY_SHAPE))
@settings(max_examples=10, deadline=None)
@given(shape=invalid_shapes)
def test_other_numbers_of_dimensions_raise(name, shape):
    with pytest.raises(ValueError):
        INITIALIZERS_BY_SHAPE[name](shape)


@pytest.mark.parametrize("shape", [(4, 5, 6), (2, 3, 4, 5, 6)])
def test_torch_accepts_3d_and_5d_weights_where_the_spec_raises(shape):
    """A difference from torch: conv1d/conv3d weights have fans in torch; the spec rejects them."""
    assert torch_fans(shape) == (math.prod(shape[1:]), shape[0] * math.prod(shape[2:]))
    with pytest.raises(ValueError):
        init.compute_fans(shape)


@pytest.mark.parametrize("name", ["kaiming_normal", "kaiming_uniform"])
def test_kaiming_rejects_an_unknown_mode(name):
    with pytest.raises(ValueError):
        getattr(init, name)((4, 8), np.random.default_rng(0), mode="fan_avg")


# ---------------------------------------------------------------------------------------------
# distributions


@pytest.mark.parametrize("case", INIT_CASES, ids=str)
@settings(max_examples=8, deadline=None)
@given(shape=unbalanced_shapes(), seed=seeds)
def test_initializer_distribution_matches_spec_and_torch(case, shape, seed):
    fan_in, fan_out = init.compute_fans(shape)
    scale = case.scale(fan_in, fan_out)
    ours = case.ours(shape, np.random.default_rng(seed))
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64 and ours.shape == shape
    assert_distribution(ours, case, scale, what=f"{case} at shape {shape}")

    theirs = torch.empty(torch_layout(shape), dtype=torch.float64)
    case.theirs(theirs, torch.Generator().manual_seed(seed))
    assert_distribution(theirs.numpy(), case, scale, what=f"torch's {case} at torch shape {tuple(theirs.shape)}")


def test_zeros_init():
    for shape in [(3, 5), (2, 3, 4, 1)]:
        first, second = init.zeros_init(shape), init.zeros_init(shape)
        assert first.dtype == np.float64 and first.shape == shape
        np.testing.assert_array_equal(first, np.zeros(shape))
        assert first is not second and not np.shares_memory(first, second)


@pytest.mark.parametrize("case", INIT_CASES, ids=str)
def test_initializers_are_deterministic_per_rng_and_use_no_global_state(case):
    shape = (6, 5, 3, 2)
    global_state = np.random.get_state()
    np.testing.assert_array_equal(case.ours(shape, np.random.default_rng(7)), case.ours(shape, np.random.default_rng(7)))
    rng = np.random.default_rng(7)
    assert not np.array_equal(case.ours(shape, rng), case.ours(shape, rng)), "two draws from one rng agree"
    assert not np.array_equal(case.ours(shape, np.random.default_rng(7)), case.ours(shape, np.random.default_rng(8)))
    assert repr(np.random.get_state()) == repr(global_state), "numpy's global random state was used"


def test_the_checks_catch_the_common_initializer_bugs():
    """The shapes used above make each classic bug fail the same assertion that correct code passes."""
    rng = np.random.default_rng(2024)
    linear, conv = (64, 256), (32, 8, 3, 3)  # fans (64, 256) and (72, 288)
    bugs = {
        "fans swapped (kaiming_normal, linear)": (rng.normal(0, math.sqrt(2 / 256), linear), False, math.sqrt(2 / 64)),
        "ReLU gain missing": (rng.normal(0, math.sqrt(1 / 64), linear), False, math.sqrt(2 / 64)),
        "kernel left out of the conv fan": (rng.normal(0, math.sqrt(2 / 8), conv), False, math.sqrt(2 / 72)),
        "sqrt(3) missing from the uniform bound": (rng.uniform(-(a := math.sqrt(2 / 64)), a, linear), True, math.sqrt(6 / 64)),
        "normal instead of uniform": (rng.normal(0, math.sqrt(2 / 64), linear), True, math.sqrt(6 / 64)),
        "uniform instead of normal": (rng.uniform(-math.sqrt(6 / 64), math.sqrt(6 / 64), linear), False, math.sqrt(2 / 64)),
    }  # fmt: skip
    for name, (samples, uniform, scale) in bugs.items():
        with pytest.raises(AssertionError):
            (assert_uniform if uniform else lambda x, s: assert_normal(x, 0.0, s))(samples, scale)
            pytest.fail(f"the check accepted: {name}")


# ---------------------------------------------------------------------------------------------
# activation_stds


ACTIVATION_INITS = {
    "kaiming_normal": init.kaiming_normal,
    "lecun_normal": init.lecun_normal,
    "xavier_uniform": init.xavier_uniform,
    "kaiming_uniform(fan_out)": lambda s, r: init.kaiming_uniform(s, r, mode="fan_out"),
}


@pytest.mark.parametrize("name", list(ACTIVATION_INITS))
@settings(max_examples=10, deadline=None)
@given(
    layer_sizes=st.lists(st.integers(1, 40), min_size=2, max_size=6),
    n=st.integers(1, 16),
    seed=seeds,
)
def test_activation_stds_matches_a_direct_torch_computation(name, layer_sizes, n, seed):
    init_fn = ACTIVATION_INITS[name]
    x = np.random.default_rng(seed + 1).normal(size=(n, layer_sizes[0]))
    x_before = x.copy()
    got = init.activation_stds(init_fn, layer_sizes, x, np.random.default_rng(seed))
    np.testing.assert_array_equal(x, x_before)

    rng = np.random.default_rng(seed)  # the same weights, drawn in layer order
    h, want, scale = torch.tensor(x), [], []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        w = torch.tensor(init_fn((fan_in, fan_out), rng))
        h = torch.relu(h @ w + torch.zeros(fan_out, dtype=torch.float64))
        want.append(h.std(correction=0).item())
        scale.append(h.abs().max().item())
    assert isinstance(got, list) and len(got) == len(layer_sizes) - 1
    assert all(type(v) is float for v in got), f"not Python floats: {got!r}"
    # both compute the same matmuls and std in float64; any difference is rounding (~1e-15 of the
    # largest activation), so 1e-9 of it is a generous bound
    np.testing.assert_array_less(np.abs(np.subtract(got, want)), 1e-9 * np.array(scale) + 1e-300)


def test_activation_stds_with_zero_weights():
    """zeros_init takes no rng, so it is wrapped; every post-ReLU activation is then 0."""
    x = np.random.default_rng(0).normal(size=(4, 3))
    stds = init.activation_stds(lambda shape, rng: init.zeros_init(shape), [3, 5, 2], x, np.random.default_rng(0))
    assert stds == [0.0, 0.0]
