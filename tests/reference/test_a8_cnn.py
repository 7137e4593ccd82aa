"""The a8_cnn oracle (reference/a8_cnn/conv.py) against torch.nn.functional, forward and backward.

Backward is checked through autograd with a RANDOM upstream gradient (never all ones), on
strides and paddings where (H + 2p - k) is not a multiple of the stride, non-square inputs and
kernels, batch > 1 and C != F. Pooling is also checked on integer-valued inputs full of ties.

Tolerance (conv): each output is a float64 sum of at most C*KH*KW + 1 = 49 products of
standard-normal numbers; summing in another order changes it by a few ulps of the sum of
absolute values (~1e2 at most), i.e. ~1e-14. ``rtol = 1e-10, atol = 1e-12`` keeps a wide margin.
Pooling forward copies values, so it must be exact; its backward adds at most k*k upstream values
per input element, so it is compared at ``rtol = 1e-12, atol = 1e-15``.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from grader.course import PROJECT_ROOT, Course
from grader.loader import load_reference

conv = load_reference("a8_cnn", "conv")

RTOL, ATOL = 1e-10, 1e-12

seeds = st.integers(0, 2**32 - 1)


def t64(a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    """A float64 torch copy of ``a``."""
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def assert_unchanged(arrays: dict[str, np.ndarray], copies: dict[str, np.ndarray]) -> None:
    for name, a in arrays.items():
        assert np.array_equal(a, copies[name]), f"{name} was modified"


def check_result(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float):
    assert isinstance(got, np.ndarray), f"{name}: expected an ndarray, got {type(got)}"
    assert got.dtype == np.float64, f"{name}: dtype {got.dtype}"
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------- conv2d


def check_conv(N, C, F_, H, W, KH, KW, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F_, C, KH, KW))
    b = rng.standard_normal(F_)
    inputs = {"x": x, "w": w, "b": b}
    copies = {k: v.copy() for k, v in inputs.items()}

    out, cache = conv.conv2d_forward(x, w, b, stride=stride, padding=padding)
    tx, tw, tb = t64(x, True), t64(w, True), t64(b, True)
    tout = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    Ho, Wo = (H + 2 * padding - KH) // stride + 1, (W + 2 * padding - KW) // stride + 1
    assert tout.shape == (N, F_, Ho, Wo)
    check_result("out", out, tout.detach().numpy(), RTOL, ATOL)

    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    tout.backward(t64(dout))
    dx, dw, db = conv.conv2d_backward(dout, cache)
    check_result("dx", dx, tx.grad.numpy(), RTOL, ATOL)
    check_result("dw", dw, tw.grad.numpy(), RTOL, ATOL)
    check_result("db", db, tb.grad.numpy(), RTOL, ATOL)
    assert_unchanged(inputs | {"dout": dout}, copies | {"dout": dout_copy})


@settings(max_examples=60, deadline=None)
@given(
    N=st.integers(1, 3), C=st.integers(1, 3), F_=st.integers(1, 4),
    H=st.integers(1, 9), W=st.integers(1, 11), KH=st.integers(1, 4), KW=st.integers(1, 4),
    stride=st.integers(1, 3), padding=st.integers(0, 2), seed=seeds,
)
# (9 + 2 - 3) % 2 == 0 but (11 + 2 - 2) % 2 == 1
@example(N=4, C=3, F_=5, H=9, W=11, KH=3, KW=2, stride=2, padding=1, seed=0)
@example(N=2, C=3, F_=2, H=7, W=8, KH=2, KW=3, stride=3, padding=0, seed=1)  # both remainders != 0
@example(N=1, C=1, F_=1, H=1, W=1, KH=3, KW=3, stride=1, padding=1, seed=2)  # all padding
def test_conv2d_matches_torch(N, C, F_, H, W, KH, KW, stride, padding, seed):
    assume(KH <= H + 2 * padding and KW <= W + 2 * padding)
    check_conv(N, C, F_, H, W, KH, KW, stride, padding, seed)


@pytest.mark.parametrize(
    "stride, padding", [(1, 0), (2, 1), (3, 2), (2, 0), (4, 3)],
)
def test_conv2d_assignment_sized_input(stride, padding):
    """The size the brief names: (4, 3, 9, 11) with a 3x4 kernel and 5 filters."""
    check_conv(4, 3, 5, 9, 11, 3, 4, stride, padding, seed=stride * 10 + padding)


def test_conv2d_defaults_are_stride_1_no_padding():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 2, 3)), np.zeros(3)
    out, _ = conv.conv2d_forward(x, w, b)
    np.testing.assert_allclose(out, F.conv2d(t64(x), t64(w), t64(b)).numpy(), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- maxpool2d


@st.composite
def pool_cases(draw):
    """(x, kernel_size, stride): continuous or tie-heavy inputs, strides below and above k."""
    k = draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.integers(1, k + 1)))
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(k, 10)), draw(st.integers(k, 11))
    rng = np.random.default_rng(draw(seeds))
    kind = draw(st.sampled_from(["continuous", "ties", "constant"]))
    if kind == "continuous":
        x = rng.standard_normal((N, C, H, W))
    elif kind == "ties":
        x = rng.integers(-1, 2, size=(N, C, H, W)).astype(np.float64)
    else:
        x = np.full((N, C, H, W), 1.5)
    return x, k, stride


def torch_maxpool(x: np.ndarray, k: int, stride: int | None, dout: np.ndarray):
    """torch's max_pool2d output and input gradient for upstream gradient ``dout``."""
    tx = t64(x, True)
    tout = F.max_pool2d(tx, kernel_size=k, stride=stride)
    tout.backward(t64(dout))
    return tout.detach().numpy(), tx.grad.numpy()


@settings(max_examples=80, deadline=None)
@given(case=pool_cases(), seed=seeds)
def test_maxpool2d_matches_torch(case, seed):
    x, k, stride = case
    x_copy = x.copy()
    out, cache = conv.maxpool2d_forward(x, kernel_size=k, stride=stride)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dout_copy = dout.copy()
    tout, tdx = torch_maxpool(x, k, stride, dout)
    check_result("out", out, tout, 0.0, 0.0)
    dx = conv.maxpool2d_backward(dout, cache)
    # torch sends a tied window's gradient to its first maximum (row-major), and so does the oracle
    check_result("dx", dx, tdx, 1e-12, 1e-15)
    assert_unchanged({"x": x, "dout": dout}, {"x": x_copy, "dout": dout_copy})


@settings(max_examples=40, deadline=None)
@given(case=pool_cases(), seed=seeds)
def test_maxpool2d_each_window_sends_its_gradient_to_one_maximum(case, seed):
    """What the spec itself demands, whatever the tie rule: for every window position, a gradient
    on that window alone lands, whole, on exactly ONE element of the window, a maximal one."""
    x, k, stride = case
    s = k if stride is None else stride
    out, cache = conv.maxpool2d_forward(x, kernel_size=k, stride=stride)
    N, C, Ho, Wo = out.shape
    g = np.random.default_rng(seed).uniform(1.0, 2.0, size=(N, C))  # nonzero upstream values
    for u in range(Ho):
        for v in range(Wo):
            dout = np.zeros(out.shape)
            dout[:, :, u, v] = g
            dx = conv.maxpool2d_backward(dout, cache)
            window = (slice(None), slice(None), slice(s * u, s * u + k), slice(s * v, s * v + k))
            outside = dx.copy()
            outside[window] = 0.0
            assert not outside.any(), f"window ({u}, {v}) sent gradient outside itself"
            dwin = dx[window].reshape(N, C, -1)
            xwin = x[window].reshape(N, C, -1)
            assert ((dwin != 0).sum(axis=-1) == 1).all(), f"window ({u}, {v}): not exactly one"
            np.testing.assert_array_equal(dwin.sum(axis=-1), g)
            chosen = xwin[dwin != 0].reshape(N, C)
            np.testing.assert_array_equal(chosen, xwin.max(axis=-1))


def test_maxpool2d_all_ties_go_to_the_first_element():
    """torch's rule, probed: an all-ones 2x2 window sends its gradient to its top-left element."""
    x = np.ones((1, 1, 2, 2))
    out, cache = conv.maxpool2d_forward(x)
    dx = conv.maxpool2d_backward(np.array([[[[3.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[3.0, 0.0], [0.0, 0.0]]]])
    _, tdx = torch_maxpool(x, 2, None, np.array([[[[3.0]]]]))
    np.testing.assert_array_equal(tdx, dx)


def test_maxpool2d_overlapping_windows_add_up():
    """Stride 1, kernel 2: the centre maximum of a 3x3 input is in all four windows."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0
    out, cache = conv.maxpool2d_forward(x, kernel_size=2, stride=1)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 5.0))
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = conv.maxpool2d_backward(dout, cache)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("H, W", [(9, 11), (8, 8), (5, 7)])
def test_maxpool2d_default_stride_is_kernel_size(H, W):
    """stride=None means kernel_size, floor output size: (4, 3, 9, 11) pools to (4, 3, 4, 5)."""
    x = np.random.default_rng(H * W).standard_normal((4, 3, H, W))
    out, _ = conv.maxpool2d_forward(x)
    assert out.shape == (4, 3, H // 2, W // 2)
    np.testing.assert_array_equal(out, F.max_pool2d(t64(x), 2).numpy())
    out3, _ = conv.maxpool2d_forward(x, kernel_size=3)
    np.testing.assert_array_equal(out3, F.max_pool2d(t64(x), 3).numpy())


def test_maxpool2d_nan_windows_differ_from_torch_outside_the_spec():
    """Outside the spec (it promises finite inputs): with several NaNs in one window both give NaN
    and send the gradient to ONE NaN, but torch picks the LAST NaN ((val > max) || isnan(val)),
    the oracle (np.argmax) the FIRST."""
    x = np.array([[[[np.nan, 1.0], [np.nan, 0.0]]]])
    out, cache = conv.maxpool2d_forward(x)
    dx = conv.maxpool2d_backward(np.ones((1, 1, 1, 1)), cache)
    tout, tdx = torch_maxpool(x, 2, None, np.ones((1, 1, 1, 1)))
    assert np.isnan(out).all() and np.isnan(tout).all()
    np.testing.assert_array_equal(dx, [[[[1.0, 0.0], [0.0, 0.0]]]])
    np.testing.assert_array_equal(tdx, [[[[0.0, 0.0], [1.0, 0.0]]]])


def test_oracle_does_not_import_torch():
    tree = ast.parse(Course(PROJECT_ROOT).oracle("a8_cnn", "conv.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert "torch" not in imported
