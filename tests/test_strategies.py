"""The strategies generate what their docstrings promise."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import strategies as dl


@given(dl.shapes(st.integers(2, 4)))
def test_shapes_are_batched_and_not_square(shape):
    assert shape[0] >= 2 and len(set(shape)) > 1


@given(dl.arrays(magnitude=5.0))
def test_arrays_are_bounded_float64(x):
    assert x.dtype == np.float64 and np.all(np.abs(x) <= 5.0) and x.shape[0] >= 2


@given(dl.arrays(kinks=(0.0, 1.0), gap=1e-3))
def test_arrays_keep_away_from_kinks(x):
    assert np.all(np.abs(x) >= 1e-3) and np.all(np.abs(x - 1.0) >= 1e-3 * (1 - 1e-9))


@given(dl.arrays(distinct=True, gap=1e-3))
def test_distinct_arrays_have_no_ties(x):
    values = np.sort(x.ravel())
    assert np.all(np.diff(values) >= 1e-3 * (1 - 1e-9))


def test_on_kinks_hits_the_kink_sometimes():
    hits = []

    @settings(max_examples=30, derandomize=True)
    @given(dl.arrays((4, 5), on_kinks=(0.0,)))
    def record(x):
        hits.append(np.any(x == 0.0))

    record()
    assert any(hits)


@given(dl.tied_arrays((3, 4, 5)))
def test_tied_arrays_have_ties(x):
    assert x.dtype == np.float64 and len(np.unique(x)) <= 3


@given(dl.logits_and_labels())
def test_logits_and_labels(case):
    logits, labels = case
    n, c = logits.shape
    assert n >= 2 and c >= 2 and n != c
    assert labels.shape == (n,) and labels.dtype == np.int64 and labels.min() >= 0 and labels.max() < c


@given(dl.conv_cases())
def test_conv_cases_are_consistent(case):
    n, c, h, w = case.x_shape
    f, c2, kh, kw = case.w_shape
    assert c == c2 and h != w and n >= 2 and f != c
    assert kh <= h + 2 * case.padding and kw <= w + 2 * case.padding
    assert all(side >= 1 for side in case.out_shape)


@given(dl.pool_cases(overlapping=True))
def test_overlapping_pool_cases(case):
    n, c, h, w = case.x_shape
    assert case.stride is not None and case.stride < case.kernel_size <= min(h, w) and h != w
    assert all(side >= 1 for side in case.out_shape)


@given(dl.probabilities(), dl.learning_rates(), dl.betas(), dl.weight_decays(), dl.momenta(), dl.epsilons())
def test_hyper_parameters_are_valid(p, lr, betas, wd, momentum, eps):
    assert 0 < p < 1 and abs(p - 0.5) > 0.05
    assert 1e-4 <= lr <= 0.5 * (1 + 1e-12)
    assert 0 < betas[0] < 1 and 0 < betas[1] < 1
    assert wd > 0 and 0 < momentum < 1 and 0 < eps < 0.1


def test_arrays_come_in_every_layout():
    """C-contiguous, Fortran-ordered and non-contiguous slices all occur, with the same values."""
    seen = set()

    @settings(max_examples=60, derandomize=True)
    @given(dl.arrays(dl.shapes(st.integers(1, 3))), dl.labels(5, 3), dl.tied_arrays((3, 4)))
    def record(x, y, t):
        for a in (x, y, t):
            seen.add("C" if a.flags.c_contiguous else "F" if a.flags.f_contiguous else "sliced")
        assert np.array_equal(np.ascontiguousarray(x), x) and x.dtype == np.float64

    record()
    assert seen == {"C", "F", "sliced"}


@given(dl.arrays((3, 4), layouts=("C",)))
def test_a_test_may_ask_for_one_layout(x):
    assert x.flags.c_contiguous


def test_layer_sizes_reach_twelve_layers_and_stay_unequal():
    depths = []

    @settings(max_examples=100, derandomize=True)
    @given(dl.layer_sizes())
    def record(sizes):
        assert all(a != b for a, b in zip(sizes, sizes[1:])) and min(sizes) >= 1
        depths.append(len(sizes) - 1)

    record()
    assert min(depths) == 1 and max(depths) == 12 and sum(d >= 10 for d in depths) >= 20
