"""Hidden tests for a4_initialization: the student's notebook against the reference ``init.py``.

* Deterministic results are compared with the reference exactly (fans, zeros) or to six digits
  (``activation_stds``, with the same initializer and the same seed on both sides: the handout fixes
  the draws, one ``init_fn((H_prev, H), rng)`` per layer in order, and the initializers used here
  are course code drawing one ``rng.normal`` each).
* Random draws are never compared with the reference's draws (another valid order of calls on
  the generator gives other numbers): they are tested against the handout's distribution with bounds
  a correct initializer misses with probability below 1e-9, over a wider range of shapes and
  hyper-parameters than the public tests: larger and 1-D-kernel convolutions, fans 2-8x apart,
  several gains, both modes given explicitly and by default.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader import assert_close, assert_normal, assert_uniform, check_array_type, one_failure, student_raises
from grader import strategies as dl

NB = "init.ipynb"
HELPER = "course_rng.py"
SEEDS = st.integers(0, 2**32 - 1)


VALID_SHAPES = st.one_of(
    st.tuples(st.integers(1, 500), st.integers(1, 500)),
    st.tuples(st.integers(1, 64), st.integers(1, 64), st.integers(1, 7), st.integers(1, 7)),
)


@pytest.mark.points(1)
@given(shape=VALID_SHAPES, as_list=st.booleans())
def test_compute_fans_matches_the_reference(student, reference, shape, as_list):
    """Any linear or conv shape, 1x1 and 1xK kernels included, given as a tuple or a list."""
    want = reference("init.py").compute_fans(shape)
    got = student(NB).compute_fans(list(shape) if as_list else shape)
    assert isinstance(got, (tuple, list)) and len(got) == 2, f"compute_fans({shape}) returned {got!r}"
    assert all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in got), f"compute_fans({shape}) returned {got!r}: expected ints"
    assert tuple(int(v) for v in got) == tuple(want), f"compute_fans({shape}) returned {tuple(got)}, expected {tuple(want)}"


@pytest.mark.points(1)
@given(shape=VALID_SHAPES.filter(lambda s: math.prod(s) <= 20_000))
def test_zeros_init_matches_the_reference(student, reference, shape):
    assert_close(student(NB).zeros_init(shape), reference("init.py").zeros_init(shape), atol=0.0, what=f"zeros_init({shape})")


@pytest.mark.points(1)
@given(ndim=st.sampled_from([0, 1, 3, 5, 6]), data=st.data(), seed=SEEDS, gain=st.floats(0.5, 2), mode=st.sampled_from(["fan_in", "fan_out"]))
def test_every_function_rejects_other_numbers_of_dimensions(student, helper, ndim, data, seed, gain, mode):
    shape = data.draw(st.tuples(*[st.integers(1, 6)] * ndim), label="shape")
    init, rng = student(NB), helper(HELPER).generator(seed)
    calls = {
        "compute_fans": lambda: init.compute_fans(shape),
        "zeros_init": lambda: init.zeros_init(shape),
        "lecun_normal": lambda: init.lecun_normal(shape, rng),
        "xavier_normal": lambda: init.xavier_normal(shape, rng, gain=gain),
        "xavier_uniform": lambda: init.xavier_uniform(shape, rng, gain=gain),
        "kaiming_normal": lambda: init.kaiming_normal(shape, rng, mode=mode),
        "kaiming_uniform": lambda: init.kaiming_uniform(shape, rng, mode=mode),
    }
    for name, call in calls.items():
        assert student_raises(ValueError, call), f"{name} accepted the {ndim}-D shape {shape}: expected ValueError"


@st.composite
def lopsided_shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """Fans 2-8x apart either way, kernels from 1x2 to 6x6, 2048 to ~60,000 weights."""
    ratio = draw(st.integers(2, 8))
    fan_in_is_big = draw(st.booleans())
    if draw(st.booleans()):
        small = draw(st.integers(24, 80))
        big = small * ratio
        return (big, small) if fan_in_is_big else (small, big)
    small = draw(st.integers(3, 16))
    big = small * ratio
    kh = draw(st.integers(1, 6))
    kw = draw(st.integers(2 if kh == 1 else 1, 6))
    while small * big * kh * kw < 2048:
        kh += 1
    c, f = (big, small) if fan_in_is_big else (small, big)
    return (f, c, kh, kw)


def fans_of(reference, shape):
    return reference("init.py").compute_fans(shape)


def drawn(student, helper, name, shape, seed, **kwargs):
    w = getattr(student(NB), name)(shape, helper(HELPER).generator(seed), **kwargs)
    return check_array_type(w, shape, what=f"{name}({shape}, rng, {kwargs})")


GAINS = st.sampled_from([0.25, 0.5, math.sqrt(2), 5 / 3, 2.5, 4.0])


@pytest.mark.points(1)
@given(shape=lopsided_shapes(), seed=SEEDS)
def test_lecun_normal_distribution(student, helper, reference, shape, seed):
    fan_in, _ = fans_of(reference, shape)
    one_failure(assert_normal, drawn(student, helper, "lecun_normal", shape, seed), 0.0, math.sqrt(1 / fan_in), what=f"lecun_normal({shape})")


@pytest.mark.points(1)
@given(shape=lopsided_shapes(), seed=SEEDS, gain=GAINS)
def test_xavier_distributions_with_several_gains(student, helper, reference, shape, seed, gain):
    fan_in, fan_out = fans_of(reference, shape)
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    one_failure(assert_normal, drawn(student, helper, "xavier_normal", shape, seed, gain=gain), 0.0, std, what=f"xavier_normal({shape}, gain={gain})")
    one_failure(assert_uniform, drawn(student, helper, "xavier_uniform", shape, seed, gain=gain), math.sqrt(3) * std, what=f"xavier_uniform({shape}, gain={gain})")


@pytest.mark.points(1)
@given(shape=lopsided_shapes(), seed=SEEDS, mode=st.sampled_from(["fan_in", "fan_out"]), explicit=st.booleans())
def test_kaiming_distributions_in_both_modes(student, helper, reference, shape, seed, mode, explicit):
    fan_in, fan_out = fans_of(reference, shape)
    if not explicit:
        mode = "fan_in"
    kwargs = {"mode": mode} if explicit else {}
    fan = fan_in if mode == "fan_in" else fan_out
    one_failure(assert_normal, drawn(student, helper, "kaiming_normal", shape, seed, **kwargs), 0.0, math.sqrt(2 / fan), what=f"kaiming_normal({shape}, {kwargs})")
    one_failure(assert_uniform, drawn(student, helper, "kaiming_uniform", shape, seed, **kwargs), math.sqrt(6 / fan), what=f"kaiming_uniform({shape}, {kwargs})")


@st.composite
def networks(draw: st.DrawFn) -> tuple[list[int], np.ndarray]:
    """1 to 12 layers of widths 1-12 (neighbours differ), a batch of 1-9 != D, |x| up to 1e3,
    in any memory layout."""
    depth = draw(st.integers(1, 12))
    sizes = draw(st.lists(st.integers(1, 12), min_size=depth + 1, max_size=depth + 1))
    for i in range(1, len(sizes)):
        if sizes[i] == sizes[i - 1]:
            sizes[i] = sizes[i] % 12 + 1
    n = draw(st.integers(1, 9))
    n = n if n != sizes[0] else n % 9 + 1
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    x_seed = draw(st.integers(0, 2**32 - 1))  # entries from a seed: quick to shrink
    x = scale * np.random.default_rng(x_seed).uniform(-1.0, 1.0, size=(n, sizes[0]))
    return sizes, dl.laid_out(x, draw(st.sampled_from(dl.LAYOUTS)))


@pytest.mark.points(2)
@given(net=networks(), seed=SEEDS, std=st.sampled_from([0.05, 0.5, 1.0, 3.0]))
def test_activation_stds_matches_the_reference(student, helper, reference, net, seed, std):
    """Same initializer (course code, one rng.normal per call), same seed, on both sides."""
    layer_sizes, x = net
    course = helper(HELPER)
    got = student(NB).activation_stds(course.normal_initializer(std), layer_sizes, x, course.generator(seed))

    def init_fn(shape, rng):  # course_rng.normal_weights, in this process
        return rng.normal(0.0, std, size=tuple(int(s) for s in shape))

    want = reference("init.py").activation_stds(init_fn, layer_sizes, x, np.random.default_rng(seed))
    assert isinstance(got, (list, tuple)) and len(got) == len(want), f"expected a list of {len(want)} floats, got {got!r}"
    # a layer's rounding error is relative to the size of its inputs (times |W| sqrt(fan_in) <= ~10)
    inputs = [float(np.abs(x).max()), *want[:-1]]
    for layer, (g, w, a) in enumerate(zip(got, want, inputs), 1):
        assert_close(g, w, scale=10 * max(a, w), what=f"the std after layer {layer} of {len(want)} (layer_sizes={layer_sizes})")
