"""Public tests for a4_initialization: the functions your notebook ``init.ipynb`` defines.

Run them with ``pytest assignments/a4_initialization`` (the notebook's code cells are run top to
bottom first, as in grading; a cell that raises is reported and the later cells still run).

Initializers are random, so their tests are statistical: each draw is compared with the handout's
distribution by ``grader.assert_normal`` / ``grader.assert_uniform``, whose bounds a correct
initializer misses with probability below 1e-9 whatever the seed. Their shapes are chosen so that
the usual bugs show: ``fan_in != fan_out`` (by a factor of 2 or more), convolution kernels larger
than 1x1, gains other than 1, both Kaiming modes, and at least 2048 weights per draw.

``activation_stds`` is deterministic once its initializer and generator are fixed (the handout fixes
the call order: one ``init_fn((H_prev, H), rng)`` per layer, in order), so it is compared with
the same computation done here, with the same initializer and the same seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import assert_close, assert_normal, assert_uniform, check_array_type, one_failure, student_raises
from grader import strategies as dl

NB = "init.ipynb"
HELPER = "course_rng.py"
SEEDS = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------------------------------------
# shapes where the bugs show


@st.composite
def unbalanced_shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """A linear ``(D, M)`` or conv ``(F, C, KH, KW)`` weight whose fans differ by a factor of 2 to
    4 (either way), kernels of 2x2 to 5x5, at least 2048 weights."""
    linear = draw(st.booleans())
    ratio = draw(st.integers(2, 4))
    fan_in_is_big = draw(st.booleans())
    if linear:
        small = draw(st.integers(32, 64))
        big = small * ratio
        return (big, small) if fan_in_is_big else (small, big)
    small = draw(st.integers(6, 12))
    big = small * ratio
    kh, kw = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    while small * big * kh * kw < 2048:
        kh += 1
    c, f = (big, small) if fan_in_is_big else (small, big)
    return (f, c, kh, kw)


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """The handout's fans, computed here."""
    if len(shape) == 2:
        return shape[0], shape[1]
    f, c, kh, kw = shape
    return c * kh * kw, f * kh * kw


def draw_from(student, helper, name: str, shape: tuple[int, ...], seed: int, **kwargs) -> np.ndarray:
    """The student's ``name(shape, rng, **kwargs)``, checked to be a float64 array of ``shape``."""
    init = student(NB)
    rng = helper(HELPER).generator(seed)
    w = getattr(init, name)(shape, rng, **kwargs)
    return check_array_type(w, shape, what=f"{name}({shape}, rng{''.join(f', {k}={v!r}' for k, v in kwargs.items())})")


GAINS = st.one_of(st.none(), st.floats(0.5, 0.8), st.floats(1.25, 3.0), st.just(math.sqrt(2)))
MODES = st.sampled_from([None, "fan_in", "fan_out"])


def keywords(**kwargs) -> dict:
    """The keyword arguments that were drawn (None: leave the default)."""
    return {k: v for k, v in kwargs.items() if v is not None}


# ---------------------------------------------------------------------------------------------
# fans and shapes


@pytest.mark.points(1)
@given(
    shape=st.one_of(
        st.tuples(st.integers(1, 300), st.integers(1, 300)),
        st.tuples(st.integers(1, 12), st.integers(1, 12), st.integers(1, 7), st.integers(1, 7)),
    )
)
def test_compute_fans_of_linear_and_conv_weights(student, shape):
    """``(D, M) -> (D, M)``; ``(F, C, KH, KW) -> (C*KH*KW, F*KH*KW)``, as two integers."""
    got = student(NB).compute_fans(shape)
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"compute_fans({shape}) returned {got!r}: expected (fan_in, fan_out)"
    for value, name in zip(got, ("fan_in", "fan_out")):
        assert isinstance(value, (int, np.integer)) and not isinstance(value, bool), f"compute_fans({shape}): {name} is {value!r}, expected an int"
    assert tuple(int(v) for v in got) == fans(shape), f"compute_fans({shape}) returned {tuple(got)}, expected {fans(shape)}"


NAMES = ["compute_fans", "zeros_init", "lecun_normal", "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform"]


@pytest.mark.points(1)
@pytest.mark.parametrize("name", NAMES)
@given(shape=st.integers(0, 6).filter(lambda n: n not in (2, 4)).flatmap(lambda n: st.tuples(*[st.integers(1, 5)] * n)), seed=SEEDS)
def test_other_numbers_of_dimensions_raise_value_error(student, helper, name, shape, seed):
    """Only 2-D (linear) and 4-D (conv) weights have fans: 1-D, 3-D, 5-D ... raise ValueError."""
    func = getattr(student(NB), name)
    args = (shape,) if name in ("compute_fans", "zeros_init") else (shape, helper(HELPER).generator(seed))
    assert student_raises(ValueError, lambda: func(*args)), f"{name}{args[:1]} ({len(shape)}-D) returned without raising ValueError"


# ---------------------------------------------------------------------------------------------
# the initializers' distributions


@pytest.mark.points(1)
@given(shape=unbalanced_shapes())
def test_zeros_init_is_all_zeros(student, shape):
    w = student(NB).zeros_init(shape)
    assert_close(w, np.zeros(shape), atol=0.0, what=f"zeros_init({shape})")


@pytest.mark.points(1)
@given(shape=unbalanced_shapes(), seed=SEEDS)
def test_lecun_normal_has_std_sqrt_1_over_fan_in(student, helper, shape, seed):
    w = draw_from(student, helper, "lecun_normal", shape, seed)
    fan_in, _ = fans(shape)
    one_failure(assert_normal, w, 0.0, math.sqrt(1 / fan_in), what=f"lecun_normal({shape}): fan_in={fan_in}")


@pytest.mark.points(1)
@given(shape=unbalanced_shapes(), seed=SEEDS, gain=GAINS)
def test_xavier_normal_has_std_gain_sqrt_2_over_fan_sum(student, helper, shape, seed, gain):
    w = draw_from(student, helper, "xavier_normal", shape, seed, **keywords(gain=gain))
    fan_in, fan_out = fans(shape)
    std = (gain or 1.0) * math.sqrt(2 / (fan_in + fan_out))
    one_failure(assert_normal, w, 0.0, std, what=f"xavier_normal({shape}, gain={gain or 1.0}): fans ({fan_in}, {fan_out})")


@pytest.mark.points(1)
@given(shape=unbalanced_shapes(), seed=SEEDS, gain=GAINS)
def test_xavier_uniform_has_bound_gain_sqrt_6_over_fan_sum(student, helper, shape, seed, gain):
    w = draw_from(student, helper, "xavier_uniform", shape, seed, **keywords(gain=gain))
    fan_in, fan_out = fans(shape)
    bound = (gain or 1.0) * math.sqrt(6 / (fan_in + fan_out))
    one_failure(assert_uniform, w, bound, what=f"xavier_uniform({shape}, gain={gain or 1.0}): fans ({fan_in}, {fan_out})")


@pytest.mark.points(1)
@given(shape=unbalanced_shapes(), seed=SEEDS, mode=MODES)
def test_kaiming_normal_has_std_sqrt_2_over_fan(student, helper, shape, seed, mode):
    w = draw_from(student, helper, "kaiming_normal", shape, seed, **keywords(mode=mode))
    fan_in, fan_out = fans(shape)
    fan = fan_out if mode == "fan_out" else fan_in
    one_failure(assert_normal, w, 0.0, math.sqrt(2 / fan), what=f"kaiming_normal({shape}, mode={mode or 'fan_in'!r}): fan={fan}")


@pytest.mark.points(1)
@given(shape=unbalanced_shapes(), seed=SEEDS, mode=MODES)
def test_kaiming_uniform_has_bound_sqrt_6_over_fan(student, helper, shape, seed, mode):
    w = draw_from(student, helper, "kaiming_uniform", shape, seed, **keywords(mode=mode))
    fan_in, fan_out = fans(shape)
    fan = fan_out if mode == "fan_out" else fan_in
    one_failure(assert_uniform, w, math.sqrt(6 / fan), what=f"kaiming_uniform({shape}, mode={mode or 'fan_in'!r}): fan={fan}")


RANDOM = ["lecun_normal", "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform"]


@pytest.mark.points(1)
@settings(max_examples=min(25, settings.default.max_examples))  # 20 calls per example, 5 functions
@given(
    shape=st.one_of(st.tuples(st.integers(2, 9), st.integers(2, 9)), st.tuples(*[st.integers(1, 4)] * 4)).filter(lambda s: math.prod(s) >= 8),
    seed=SEEDS,
)
def test_randomness_comes_only_from_rng(student, helper, shape, seed):
    """Same seed, same weights; another seed, other weights; numpy's global state untouched."""
    course = helper(HELPER)
    for name in RANDOM:
        course.seed_global(seed % 1000)
        before = course.global_state()
        first = draw_from(student, helper, name, shape, seed)
        again = draw_from(student, helper, name, shape, seed)
        other = draw_from(student, helper, name, shape, seed + 1)
        after = course.global_state()
        assert np.array_equal(first, again), f"{name}({shape}, rng): two generators with the same seed gave different weights"
        assert not np.array_equal(first, other), f"{name}({shape}, rng): generators with different seeds gave the same weights"
        same_state = before[0] == after[0] and all(np.array_equal(a, b) for a, b in zip(before[1:], after[1:]))
        assert same_state, f"{name} changed numpy's global random state: draw only from the rng argument"


# ---------------------------------------------------------------------------------------------
# activation_stds


def direct_stds(layer_sizes: list[int], x: np.ndarray, seed: int, std: float) -> list[float]:
    """The handout's computation, with course_rng's normal initializer (one rng.normal per layer)."""
    rng = np.random.default_rng(seed)
    h, stds = x, []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        h = np.maximum(h @ rng.normal(0.0, std, size=(fan_in, fan_out)), 0.0)
        stds.append(float(h.std()))
    return stds


@st.composite
def networks(draw: st.DrawFn, max_layers: int = 5) -> tuple[list[int], np.ndarray]:
    """``layer_sizes`` (no two neighbours equal; up to ``max_layers`` layers, or ten to twelve
    narrow ones) and an input ``x (N, D)`` with both signs, in any memory layout."""
    sizes = draw(dl.layer_sizes(max_layers=max_layers, max_width=9))
    n = draw(st.integers(2, 7))
    n = n if n != sizes[0] else n + 1
    x_seed = draw(st.integers(0, 2**32 - 1))  # entries from a seed: quick to shrink
    x = np.random.default_rng(x_seed).uniform(-10.0, 10.0, size=(n, sizes[0]))
    return sizes, dl.laid_out(x, draw(st.sampled_from(dl.LAYOUTS)))


@pytest.mark.points(2)
@given(net=networks(), seed=SEEDS, std=st.floats(0.1, 2.0))
def test_activation_stds_matches_the_direct_computation(student, helper, net, seed, std):
    """Each layer ``relu(h @ init_fn((H_prev, H), rng))``, then the std over all elements (ddof=0)."""
    layer_sizes, x = net
    course, init = helper(HELPER), student(NB)
    init_fn = course.normal_initializer(std)
    xs = init.share(x)
    got = init.activation_stds(init_fn, layer_sizes, xs, course.generator(seed))
    want = direct_stds(layer_sizes, x, seed, std)
    assert isinstance(got, (list, tuple)) and len(got) == len(want), f"expected a list of {len(want)} floats (one per layer), got {got!r}"
    for layer, (g, w) in enumerate(zip(got, want), 1):
        assert_close(g, w, what=f"the std after layer {layer} of {len(want)} (layer_sizes={layer_sizes})")
    assert np.array_equal(init.fetch(xs), x), "activation_stds modified its input x"
    calls = init_fn.calls
    expected_calls = [(a, b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
    assert [tuple(c) for c in calls] == expected_calls, f"init_fn was called with shapes {calls}, expected {expected_calls}"


@pytest.mark.points(1)
@given(net=networks(), seed=SEEDS)
def test_activation_stds_of_zero_weights_are_zero(student, helper, net, seed):
    layer_sizes, x = net
    course = helper(HELPER)
    got = student(NB).activation_stds(course.zeros_initializer(), layer_sizes, x, course.generator(seed))
    assert isinstance(got, (list, tuple)) and len(got) == len(layer_sizes) - 1, f"expected a list of {len(layer_sizes) - 1} floats, got {got!r}"
    for layer, g in enumerate(got, 1):
        assert_close(g, 0.0, atol=0.0, what=f"the std after layer {layer} with all-zero weights")


@pytest.mark.points(1)
def test_the_notebook_imports_no_ml_library(student):
    """numpy (and matplotlib for the plot) only: torch, scipy, sklearn and the like are not allowed."""
    init = student(NB)
    init.compute_fans((3, 4))  # the points are for your own code: it must exist first
    init.assert_no_banned_imports()
