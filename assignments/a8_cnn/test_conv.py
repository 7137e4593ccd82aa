"""Public tests of a8_cnn: conv2d and maxpool2d, forward and backward.

* Convolution is compared with ``torch.nn.functional.conv2d`` (forward) and with PyTorch's
  autograd (backward, through a RANDOM upstream gradient), on geometries that catch the usual
  bugs: ``H != W``, non-square kernels, ``C != F``, batches of 2 or 3, strides and paddings where
  ``(H + 2*padding - KH)`` is not a multiple of the stride. Your backward is also checked against
  central differences of your own forward.
* Max-pooling is compared with ``torch.nn.functional.max_pool2d`` on inputs whose entries are all
  different (no ties), with and without overlapping windows (``stride < kernel_size``), and with
  a gap between windows (``stride > kernel_size``).
* Ties: where several entries of a window share its maximum, any ONE of them may receive the
  window's gradient (PyTorch picks the first). So on inputs full of ties your ``dx`` is not
  compared with PyTorch's entry by entry; instead each window sends a different power of two as
  its upstream gradient, and the test reads back from ``dx`` where each window's gradient went:
  all of it to exactly one maximum of that window, overlapping windows adding up.

Results are compared to about six significant digits of the quantities they are computed from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import assert_close, check_array_type, check_layer_gradient, torch_one_thread
from grader import strategies as dl

# ``student`` is a function-scoped fixture that returns the same module for every example: safe
# to share between the examples of one test (hypothesis would otherwise refuse it)
shared_fixtures = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
seeds = st.integers(0, 2**32 - 1)


def conv_inputs(case: dl.ConvCase, seed: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x``, ``w``, ``b`` and an upstream gradient ``dout`` for ``case``, standard normal, in
    memory layouts (``grader.strategies.LAYOUTS``) that the seed picks."""
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(case.x_shape)
    w = rng.standard_normal(case.w_shape)
    b = rng.standard_normal(case.w_shape[0])
    dout = rng.standard_normal(case.out_shape)
    layouts = [dl.LAYOUTS[(seed // 3**k) % len(dl.LAYOUTS)] for k in range(4)]
    return tuple(dl.laid_out(a, layout) for a, layout in zip((x, w, b, dout), layouts))


def torch_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, dout: np.ndarray, stride: int, padding: int) -> tuple[np.ndarray, ...]:
    """PyTorch's ``out`` and ``(dx, dw, db)`` for the upstream gradient ``dout``."""
    with torch_one_thread() as torch:
        tx, tw, tb = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
        out = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
        out.backward(torch.tensor(dout, dtype=torch.float64))
        return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def torch_pool(x: np.ndarray, dout: np.ndarray | None, kernel_size: int, stride: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """PyTorch's max-pool ``out`` and, given ``dout``, ``dx``."""
    with torch_one_thread() as torch:
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        out = torch.nn.functional.max_pool2d(tx, kernel_size, stride=stride)
        if dout is None:
            return out.detach().numpy(), None
        out.backward(torch.tensor(dout, dtype=torch.float64))
        return out.detach().numpy(), tx.grad.numpy()


def describe_conv(case: dl.ConvCase) -> str:
    return f"x {case.x_shape}, w {case.w_shape}, stride={case.stride}, padding={case.padding}"


def describe_pool(x: np.ndarray, kernel_size: int, stride: int | None) -> str:
    return f"x {x.shape}, kernel_size={kernel_size}, stride={stride}"


def pool_output_size(size: int, kernel_size: int, stride: int | None) -> int:
    return (size - kernel_size) // (stride or kernel_size) + 1


def check_tie_routing(x: np.ndarray, dx: Any, kernel_size: int, stride: int | None, what: str) -> None:
    """Check where each window's gradient went, with a power of two as each window's ``dout``.

    Window number ``w`` of every ``(n, c)`` slice sends ``2**code[w]`` (codes: a permutation of
    ``0 .. H'W' - 1``). Sums of distinct powers of two are exact in float64 and can be read back
    bit by bit, so ``dx`` tells which windows sent their gradient where: each window's bit must
    appear exactly once, at a maximum of that window, and nothing else may appear.
    """
    __tracebackhide__ = True
    k, s = kernel_size, stride or kernel_size
    N, C, H, W = x.shape
    Ho, Wo = pool_output_size(H, k, stride), pool_output_size(W, k, stride)
    check_array_type(dx, x.shape, what=f"{what}: dx")
    codes = window_codes(Ho, Wo)
    if not np.all(np.isfinite(dx)) or np.any(dx < 0) or np.any(dx != np.round(dx)) or np.any(dx >= 2.0 ** (Ho * Wo)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(dx) | (dx < 0) | (dx != np.round(dx)) | (dx >= 2.0 ** (Ho * Wo)))[0])
        pytest.fail(
            f"{what}: with each window's upstream gradient a distinct power of two (1, 2, 4, ...), dx{list(bad)} = {dx[bad]!r} "
            "is not a sum of some windows' gradients: a window's gradient must go, whole, to ONE of its maxima "
            "(not split between tied maxima, not scaled)",
            pytrace=False,
        )
    bits = dx.astype(np.int64)
    for n in range(N):
        for c in range(C):
            for u in range(Ho):
                for v in range(Wo):
                    holders = np.argwhere((bits[n, c] >> int(codes[u, v])) & 1)
                    window = x[n, c, s * u : s * u + k, s * v : s * v + k]
                    where = f"window (n={n}, c={c}, u={u}, v={v}) over rows {s * u}..{s * u + k - 1}, columns {s * v}..{s * v + k - 1}"
                    if len(holders) != 1:
                        pytest.fail(
                            f"{what}: the gradient of {where} reached {len(holders)} entries of dx "
                            f"({', '.join(str(tuple(int(i) for i in h)) for h in holders) or 'none'}); it must go to exactly ONE "
                            "of the window's maxima, even when several entries tie (overlapping windows add up with +=)",
                            pytrace=False,
                        )
                    r, q = (int(i) for i in holders[0])
                    inside = s * u <= r < s * u + k and s * v <= q < s * v + k
                    if not inside or x[n, c, r, q] != window.max():
                        pytest.fail(
                            f"{what}: the gradient of {where} went to dx[{n}, {c}, {r}, {q}], "
                            + ("which is outside the window" if not inside else f"where x is {x[n, c, r, q]!r}, not the window's maximum {window.max()!r}"),
                            pytrace=False,
                        )


def window_codes(Ho: int, Wo: int) -> np.ndarray:
    """A fixed permutation of ``0 .. Ho*Wo - 1`` as an ``(Ho, Wo)`` array: each window's exponent."""
    return np.random.default_rng(Ho * 1000 + Wo).permutation(Ho * Wo).reshape(Ho, Wo)


def tie_dout(x_shape: tuple[int, ...], kernel_size: int, stride: int | None) -> np.ndarray:
    N, C, H, W = x_shape
    Ho, Wo = pool_output_size(H, kernel_size, stride), pool_output_size(W, kernel_size, stride)
    return np.broadcast_to(2.0 ** window_codes(Ho, Wo), (N, C, Ho, Wo)).copy()


def pool_call(pool: Any, x: np.ndarray, kernel_size: int, stride: int | None) -> tuple[Any, Any]:
    """``maxpool2d_forward`` with ``stride`` passed only when it is not ``None`` (the default)."""
    if stride is None:
        return pool.maxpool2d_forward(x, kernel_size=kernel_size)
    return pool.maxpool2d_forward(x, kernel_size=kernel_size, stride=stride)


# ----------------------------------------------------------------------------------- conv2d


@pytest.mark.points(1)
def test_conv_runs_on_numpy_alone(student):
    """conv.py imports no torch, scipy or other ML library, and a 1x1 convolution works."""
    conv = student("conv.py")
    conv.assert_no_banned_imports()
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    out, _ = conv.conv2d_forward(x, np.full((1, 1, 1, 1), 2.0), np.array([1.0]))
    assert_close(out, 2 * x + 1, what="conv2d_forward(x, w=2, b=1) with a 1x1 kernel")


@pytest.mark.points(3)
@shared_fixtures
@given(case=dl.conv_cases(), seed=seeds)
def test_conv2d_forward_matches_torch(student, case, seed):
    x, w, b, dout = conv_inputs(case, seed)
    out, _ = student("conv.py").conv2d_forward(x, w, b, stride=case.stride, padding=case.padding)
    expected, *_ = torch_conv(x, w, b, dout, case.stride, case.padding)
    assert_close(out, expected, scale=np.abs(x).max() * np.abs(w).max(), what=f"conv2d_forward ({describe_conv(case)})")


@pytest.mark.points(1)
def test_conv2d_default_stride_and_padding(student):
    """Without stride and padding, conv2d_forward uses stride 1 and no padding."""
    case = dl.ConvCase((2, 3, 5, 6), (2, 3, 2, 3), 1, 0)
    x, w, b, dout = conv_inputs(case, 1)
    out, _ = student("conv.py").conv2d_forward(x, w, b)
    expected, *_ = torch_conv(x, w, b, dout, 1, 0)
    assert_close(out, expected, scale=np.abs(x).max() * np.abs(w).max(), what="conv2d_forward(x, w, b) with the defaults")


@pytest.mark.points(3)
@shared_fixtures
@given(case=dl.conv_cases(), seed=seeds)
def test_conv2d_backward_matches_torch(student, case, seed):
    x, w, b, dout = conv_inputs(case, seed)
    conv = student("conv.py")
    _, cache = conv.conv2d_forward(x, w, b, stride=case.stride, padding=case.padding)
    grads = conv.conv2d_backward(dout, cache)
    _, dx, dw, db = torch_conv(x, w, b, dout, case.stride, case.padding)
    what = f"conv2d_backward ({describe_conv(case)})"
    assert isinstance(grads, tuple) and len(grads) == 3, f"{what}: expected a tuple (dx, dw, db), got {type(grads).__name__}"
    top = np.abs(dout).max()
    assert_close(grads[0], dx, scale=top * np.abs(w).max(), what=f"{what}: dx")
    assert_close(grads[1], dw, scale=top * np.abs(x).max(), what=f"{what}: dw")
    assert_close(grads[2], db, scale=top, what=f"{what}: db")


@pytest.mark.points(2)
@shared_fixtures
@given(case=dl.conv_cases(max_channels=2, max_filters=2, max_size=5, max_kernel=3), seed=seeds)
def test_conv2d_backward_matches_numerical_gradient(student, case, seed):
    x, w, b, _ = conv_inputs(case, seed)
    conv = student("conv.py")
    check_layer_gradient(
        conv.conv2d_forward, conv.conv2d_backward, {"x": x, "w": w, "b": b},
        rng=np.random.default_rng(seed), kwargs={"stride": case.stride, "padding": case.padding},
        max_entries=12, what=f"conv2d_backward ({describe_conv(case)})",
    )


@pytest.mark.points(1)
def test_conv2d_leaves_inputs_unmodified(student):
    case = dl.ConvCase((2, 2, 5, 4), (3, 2, 3, 2), 2, 1)
    x, w, b, dout = conv_inputs(case, 2)
    conv = student("conv.py")
    shared = [conv.share(a.copy()) for a in (x, w, b, dout)]
    _, cache = conv.conv2d_forward(shared[0], shared[1], shared[2], stride=2, padding=1)
    conv.conv2d_backward(shared[3], cache)
    for name, original, after in zip(("x", "w", "b", "dout"), (x, w, b, dout), conv.fetch(shared)):
        assert np.array_equal(after, original), f"conv2d_forward/backward modified {name}"


# ---------------------------------------------------------------------------------- maxpool2d


@st.composite
def distinct_pool_inputs(draw: Any, overlapping: bool | None = None) -> tuple[dl.PoolCase, np.ndarray]:
    case = draw(dl.pool_cases(overlapping=overlapping))
    return case, draw(dl.arrays(case.x_shape, distinct=True))


@pytest.mark.points(2)
@shared_fixtures
@given(case=dl.pool_cases(), data=st.data())
def test_maxpool2d_forward_matches_torch(student, case, data):
    """Forward values do not depend on the tie-break: compared with PyTorch, ties included."""
    x = data.draw(st.one_of(dl.arrays(case.x_shape), dl.tied_arrays(case.x_shape)))
    out, _ = pool_call(student("conv.py"), x, case.kernel_size, case.stride)
    expected, _ = torch_pool(x, None, case.kernel_size, case.stride)
    assert_close(out, expected, what=f"maxpool2d_forward ({describe_pool(x, case.kernel_size, case.stride)})")


@pytest.mark.points(1)
def test_maxpool2d_defaults(student):
    """maxpool2d_forward(x) pools 2x2 windows with stride 2; stride=None means kernel_size."""
    x = np.random.default_rng(3).permutation(2 * 3 * 7 * 5).reshape(2, 3, 7, 5).astype(np.float64)
    pool = student("conv.py")
    out, _ = pool.maxpool2d_forward(x)
    assert_close(out, torch_pool(x, None, 2, None)[0], what="maxpool2d_forward(x) with the defaults")
    out, _ = pool.maxpool2d_forward(x, kernel_size=3, stride=None)
    assert_close(out, torch_pool(x, None, 3, None)[0], what="maxpool2d_forward(x, kernel_size=3, stride=None)")


@pytest.mark.points(3)
@shared_fixtures
@given(inputs=distinct_pool_inputs(), seed=seeds)
def test_maxpool2d_backward_matches_torch(student, inputs, seed):
    case, x = inputs
    dout = np.random.default_rng(seed).standard_normal(case.out_shape)
    pool = student("conv.py")
    _, cache = pool_call(pool, x, case.kernel_size, case.stride)
    dx = pool.maxpool2d_backward(dout, cache)
    _, expected = torch_pool(x, dout, case.kernel_size, case.stride)
    assert_close(dx, expected, what=f"maxpool2d_backward ({describe_pool(x, case.kernel_size, case.stride)}, no ties)")


@pytest.mark.points(2)
@shared_fixtures
@given(inputs=distinct_pool_inputs(overlapping=True), seed=seeds)
def test_maxpool2d_backward_overlapping_windows(student, inputs, seed):
    """With stride < kernel_size an entry can be the maximum of several windows: their gradients add up."""
    case, x = inputs
    dout = np.random.default_rng(seed).standard_normal(case.out_shape)
    pool = student("conv.py")
    _, cache = pool_call(pool, x, case.kernel_size, case.stride)
    dx = pool.maxpool2d_backward(dout, cache)
    _, expected = torch_pool(x, dout, case.kernel_size, case.stride)
    assert_close(dx, expected, what=f"maxpool2d_backward ({describe_pool(x, case.kernel_size, case.stride)}, overlapping windows)")


@pytest.mark.points(2)
@shared_fixtures
@given(inputs=distinct_pool_inputs(), seed=seeds)
def test_maxpool2d_backward_matches_numerical_gradient(student, inputs, seed):
    case, x = inputs
    pool = student("conv.py")
    kwargs = {"kernel_size": case.kernel_size} | ({} if case.stride is None else {"stride": case.stride})
    check_layer_gradient(
        pool.maxpool2d_forward, pool.maxpool2d_backward, {"x": x}, rng=np.random.default_rng(seed),
        kwargs=kwargs, what=f"maxpool2d_backward ({describe_pool(x, case.kernel_size, case.stride)})",
    )


@pytest.mark.points(3)
@shared_fixtures
@given(case=dl.pool_cases(max_size=7), data=st.data())
def test_maxpool2d_backward_sends_each_window_to_one_tied_maximum(student, case, data):
    x = data.draw(dl.tied_arrays(case.x_shape, levels=data.draw(st.integers(1, 3))))
    pool = student("conv.py")
    _, cache = pool_call(pool, x, case.kernel_size, case.stride)
    dx = pool.maxpool2d_backward(tie_dout(x.shape, case.kernel_size, case.stride), cache)
    check_tie_routing(x, dx, case.kernel_size, case.stride, what=f"maxpool2d_backward ({describe_pool(x, case.kernel_size, case.stride)}, ties)")


@pytest.mark.points(1)
def test_maxpool2d_leaves_inputs_unmodified(student):
    x = np.random.default_rng(5).standard_normal((2, 2, 5, 6))
    dout = np.random.default_rng(6).standard_normal((2, 2, 2, 2))
    pool = student("conv.py")
    shared = [pool.share(x.copy()), pool.share(dout.copy())]
    _, cache = pool.maxpool2d_forward(shared[0], kernel_size=3, stride=2)
    pool.maxpool2d_backward(shared[1], cache)
    for name, original, after in zip(("x", "dout"), (x, dout), pool.fetch(shared)):
        assert np.array_equal(after, original), f"maxpool2d_forward/backward modified {name}"
