"""Hidden tests of a8_cnn: conv2d and maxpool2d against the reference, forward and backward.

Geometries go beyond the public tests: strides up to 4 and paddings up to 3 with
``(H + 2*padding - K) % stride != 0`` forced in one test, kernels as large as the padded input,
1x1 kernels, single-channel and single-filter layers, inputs of magnitude up to 1e3 of both
signs. Pooling is compared exactly on inputs without ties (windows that overlap, that tile, and
that leave gaps); on inputs full of ties the routing of each window's gradient is checked as in
the public tests (any tied maximum may receive it), and the forward values exactly.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close
from grader import strategies as dl


def _public_tests() -> Any:
    """The public test module beside this folder, for its tie-routing check (one copy of it)."""
    path = Path(__file__).resolve().parent.parent / "test_conv.py"
    spec = importlib.util.spec_from_file_location("a8_cnn_public_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


public = _public_tests()
shared_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
seeds = st.integers(0, 2**32 - 1)
magnitudes = st.sampled_from([1.0, 1e3])
wide_conv_cases = dl.conv_cases(max_batch=3, max_channels=3, max_filters=3, max_size=9, max_kernel=5, max_stride=4, max_padding=3)


@st.composite
def uneven_conv_cases(draw: Any) -> dl.ConvCase:
    """A convolution where neither (H + 2p - KH) nor (W + 2p - KW) is a multiple of the stride."""
    n, c = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    f = draw(st.integers(1, 3).filter(lambda f: f != c))
    stride, padding = draw(st.integers(2, 4)), draw(st.integers(0, 2))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))

    def side(k: int) -> st.SearchStrategy[int]:
        return st.integers(max(1, k - 2 * padding), 10).filter(lambda size: (size + 2 * padding - k) % stride != 0)

    h = draw(side(kh))
    w = draw(side(kw).filter(lambda w: w != h))
    return dl.ConvCase((n, c, h, w), (f, c, kh, kw), stride, padding)


def compare_conv(student: Any, reference: Any, case: dl.ConvCase, seed: int, scale: float) -> None:
    __tracebackhide__ = True
    x, w, b, dout = public.conv_inputs(case, seed, scale)
    conv, ref = student("conv.py"), reference("conv.py")
    what = f"conv2d ({public.describe_conv(case)}, |x| ~ {scale:g})"
    out, cache = conv.conv2d_forward(x, w, b, stride=case.stride, padding=case.padding)
    expected, ref_cache = ref.conv2d_forward(x, w, b, stride=case.stride, padding=case.padding)
    assert_close(out, expected, scale=np.abs(x).max() * np.abs(w).max(), what=f"{what}: forward")
    grads = conv.conv2d_backward(dout, cache)
    dx, dw, db = ref.conv2d_backward(dout, ref_cache)
    assert isinstance(grads, tuple) and len(grads) == 3, f"{what}: backward should return a tuple (dx, dw, db)"
    top = np.abs(dout).max()
    assert_close(grads[0], dx, scale=top * np.abs(w).max(), what=f"{what}: dx")
    assert_close(grads[1], dw, scale=top * np.abs(x).max(), what=f"{what}: dw")
    assert_close(grads[2], db, scale=top, what=f"{what}: db")


@pytest.mark.points(3)
@shared_fixtures
@given(case=wide_conv_cases, seed=seeds, scale=magnitudes)
def test_conv2d_against_reference(student, reference, case, seed, scale):
    compare_conv(student, reference, case, seed, scale)


@pytest.mark.points(3)
@shared_fixtures
@given(case=uneven_conv_cases(), seed=seeds, scale=magnitudes)
def test_conv2d_uneven_strides_against_reference(student, reference, case, seed, scale):
    compare_conv(student, reference, case, seed, scale)


@pytest.mark.points(2)
@shared_fixtures
@given(data=st.data(), seed=seeds)
def test_conv2d_edge_geometries_against_reference(student, reference, data, seed):
    """1x1 kernels, kernels as large as the padded input, one channel or one filter."""
    n = data.draw(st.integers(1, 3))
    c, f = data.draw(st.sampled_from([(1, 1), (1, 3), (3, 1), (2, 3)]))
    h, w = data.draw(st.tuples(st.integers(1, 6), st.integers(1, 6)).filter(lambda hw: hw[0] != hw[1]))
    p = data.draw(st.integers(0, 2))
    kind = data.draw(st.sampled_from(["1x1", "full"]))
    kh, kw = (1, 1) if kind == "1x1" else (h + 2 * p, w + 2 * p)
    case = dl.ConvCase((n, c, h, w), (f, c, kh, kw), data.draw(st.integers(1, 3)), p)
    compare_conv(student, reference, case, seed, 1.0)


@st.composite
def distinct_pool_inputs(draw: Any, **kwargs: Any) -> tuple[dl.PoolCase, np.ndarray]:
    case = draw(dl.pool_cases(**kwargs))
    scale = draw(magnitudes)
    return case, draw(dl.arrays(case.x_shape, magnitude=10 * scale, gap=scale * 1e-3, distinct=True))


def compare_pool(student: Any, reference: Any, case: dl.PoolCase, x: np.ndarray, seed: int) -> None:
    __tracebackhide__ = True
    dout = np.random.default_rng(seed).standard_normal(case.out_shape)
    pool, ref = student("conv.py"), reference("conv.py")
    what = f"maxpool2d ({public.describe_pool(x, case.kernel_size, case.stride)}, no ties)"
    out, cache = public.pool_call(pool, x, case.kernel_size, case.stride)
    expected, ref_cache = ref.maxpool2d_forward(x, kernel_size=case.kernel_size, stride=case.stride)
    assert_close(out, expected, what=f"{what}: forward")
    assert_close(pool.maxpool2d_backward(dout, cache), ref.maxpool2d_backward(dout, ref_cache), what=f"{what}: dx")


@pytest.mark.points(2)
@shared_fixtures
@given(inputs=distinct_pool_inputs(max_size=10, max_kernel=4), seed=seeds)
def test_maxpool2d_against_reference(student, reference, inputs, seed):
    compare_pool(student, reference, *inputs, seed)


@pytest.mark.points(2)
@shared_fixtures
@given(inputs=distinct_pool_inputs(max_size=10, max_kernel=4, overlapping=True), seed=seeds)
def test_maxpool2d_overlapping_against_reference(student, reference, inputs, seed):
    compare_pool(student, reference, *inputs, seed)


@pytest.mark.points(1)
@shared_fixtures
@given(inputs=distinct_pool_inputs(max_size=10, max_kernel=4, overlapping=False), seed=seeds)
def test_maxpool2d_default_stride_against_reference(student, reference, inputs, seed):
    """stride=None (not passed) means stride = kernel_size."""
    compare_pool(student, reference, *inputs, seed)


@pytest.mark.points(3)
@shared_fixtures
@given(case=dl.pool_cases(max_size=7, max_kernel=4), data=st.data())
def test_maxpool2d_ties_against_reference(student, reference, case, data):
    """Ties: forward values exactly as the reference; each window's gradient to one tied maximum."""
    levels = data.draw(st.integers(1, 3))
    x = (data.draw(dl.tied_arrays(case.x_shape, levels=levels)) - 1.0) * data.draw(magnitudes)
    pool, ref = student("conv.py"), reference("conv.py")
    what = f"maxpool2d ({public.describe_pool(x, case.kernel_size, case.stride)}, ties)"
    out, cache = public.pool_call(pool, x, case.kernel_size, case.stride)
    expected, _ = ref.maxpool2d_forward(x, kernel_size=case.kernel_size, stride=case.stride)
    assert_close(out, expected, what=f"{what}: forward")
    dx = pool.maxpool2d_backward(public.tie_dout(x.shape, case.kernel_size, case.stride), cache)
    public.check_tie_routing(x, dx, case.kernel_size, case.stride, what=f"{what}: backward")
