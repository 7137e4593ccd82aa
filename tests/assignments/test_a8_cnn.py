"""Planted submissions of a8_cnn, as data: graded by ``tests/assignments/test_planted.py``.

Each variant is the reference with edits (``tests.planted``). ``BUGGY``: realistic single bugs
(research/dl-testing.md section 6, and more); each must be caught by a test of a function its
edits change. ``CORRECT``: legitimately different correct implementations; each must earn every
point of the tests of what it changes.
"""

from __future__ import annotations


from tests.planted import Edit, Rewrite, Variant

ASSIGNMENT = "a8_cnn"
F = "conv.py"

NAIVE_POOL_WITH_MASKS = '''
    def maxpool2d_forward(x, kernel_size=2, stride=None):
        k = kernel_size
        s = k if stride is None else stride
        N, C, H, W = x.shape
        Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
        out = np.empty((N, C, Ho, Wo))
        for u in range(Ho):
            for v in range(Wo):
                out[:, :, u, v] = x[:, :, s * u : s * u + k, s * v : s * v + k].max(axis=(2, 3))
        return out, (x, k, s)
'''

BUGGY = [
    Variant("conv-stride-ignored-in-backward", (
        Edit(F, "dxp[:, :, _window_slice(i, s, Ho), _window_slice(j, s, Wo)] += dcols[:, :, i, j]",
             "dxp[:, :, _window_slice(i, 1, Ho), _window_slice(j, 1, Wo)] += dcols[:, :, i, j]"),
    ), mistake="dx scattered with stride 1"),
    Variant("conv-output-height-and-width-swapped", (
        Edit(F, "Ho, Wo = _output_size(H + 2 * p, KH, s), _output_size(W + 2 * p, KW, s)",
             "Ho, Wo = _output_size(W + 2 * p, KW, s), _output_size(H + 2 * p, KH, s)"),
    )),
    Variant("conv-padding-cut-from-the-wrong-side", (
        Edit(F, "dx = dxp[:, :, p : p + H, p : p + W].copy()", "dx = dxp[:, :, :H, :W].copy()"),
    ), mistake="padding cut from the wrong side"),
    Variant("conv-true-convolution-kernel-flipped", (
        Edit(F, 'out = np.einsum("ncijuv,fcij->nfuv", cols, w, optimize=True)',
             'out = np.einsum("ncijuv,fcij->nfuv", cols, w[:, :, ::-1, ::-1], optimize=True)'),
        Edit(F, 'dw = np.einsum("nfuv,ncijuv->fcij", dout, cols, optimize=True)',
             'dw = np.einsum("nfuv,ncijuv->fcij", dout, cols, optimize=True)[:, :, ::-1, ::-1]'),
        Edit(F, 'dcols = np.einsum("nfuv,fcij->ncijuv", dout, w, optimize=True)',
             'dcols = np.einsum("nfuv,fcij->ncijuv", dout, w[:, :, ::-1, ::-1], optimize=True)'),
    ), mistake="true convolution: the kernel flipped"),
    Variant("conv-db-from-the-first-example-only", (
        Edit(F, "db = dout.sum(axis=(0, 2, 3))", "db = dout[0].sum(axis=(1, 2))"),
    ), mistake="db from the first example only"),
    Variant("conv-db-from-the-first-example-only-returned-in-a-named-tuple", (  # diagnosed from the tuple's items
        Edit(F, "db = dout.sum(axis=(0, 2, 3))", "db = dout[0].sum(axis=(1, 2))"),
        Edit(F, "import numpy as np\n", "from typing import NamedTuple\n\nimport numpy as np\n\n\nclass ConvGrads(NamedTuple):\n    dx: np.ndarray\n    dw: np.ndarray\n    db: np.ndarray\n"),
        Edit(F, "    return dx, dw, db\n", "    return ConvGrads(dx, dw, db)\n"),
    ), mistake="db from the first example only"),
    Variant("conv-bias-broadcast-along-the-last-axis", (
        Edit(F, "+ b[None, :, None, None]", "+ b"),
    )),
    Variant("output-size-rounded-up", (
        Edit(F, "return (size - kernel) // stride + 1", "return -(-(size - kernel) // stride) + 1"),
    )),
    Variant("conv-backward-overwrites-overlapping-windows", (
        Edit(F, "dxp[:, :, _window_slice(i, s, Ho), _window_slice(j, s, Wo)] += dcols[:, :, i, j]",
             "dxp[:, :, _window_slice(i, s, Ho), _window_slice(j, s, Wo)] = dcols[:, :, i, j]"),
    ), mistake="overlapping windows' gradients overwritten"),
    Variant("conv-padding-on-one-side-only", (
        Edit(F, "xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))", "xp = np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))"),
    )),
    Variant("pool-backward-assigns-instead-of-adding", (
        Rewrite(F, "maxpool2d_backward", '''
            def maxpool2d_backward(dout, cache):
                x_shape, argmax, k, s = cache
                N, C, Ho, Wo = dout.shape
                dx = np.zeros(x_shape)
                for n in range(N):
                    for c in range(C):
                        for u in range(Ho):
                            for v in range(Wo):
                                i, j = divmod(int(argmax[n, c, u, v]), k)
                                window = np.zeros((k, k))
                                window[i, j] = dout[n, c, u, v]
                                dx[n, c, s * u : s * u + k, s * v : s * v + k] = window  # = instead of +=
                return dx
        '''),
    ), mistake="window gradients overwritten instead of added"),
    Variant("pool-tie-gradient-sent-to-every-maximum", (
        Rewrite(F, "maxpool2d_forward", NAIVE_POOL_WITH_MASKS),
        Rewrite(F, "maxpool2d_backward", '''
            def maxpool2d_backward(dout, cache):
                x, k, s = cache
                dx = np.zeros_like(x)
                for u in range(dout.shape[2]):
                    for v in range(dout.shape[3]):
                        window = x[:, :, s * u : s * u + k, s * v : s * v + k]
                        mask = window == window.max(axis=(2, 3), keepdims=True)
                        dx[:, :, s * u : s * u + k, s * v : s * v + k] += mask * dout[:, :, u, v][:, :, None, None]
                return dx
        '''),
    ), mistake="gradient sent to every tied maximum"),
    Variant("pool-tie-gradient-split-evenly", (
        Rewrite(F, "maxpool2d_forward", NAIVE_POOL_WITH_MASKS),
        Rewrite(F, "maxpool2d_backward", '''
            def maxpool2d_backward(dout, cache):
                x, k, s = cache
                dx = np.zeros_like(x)
                for u in range(dout.shape[2]):
                    for v in range(dout.shape[3]):
                        window = x[:, :, s * u : s * u + k, s * v : s * v + k]
                        mask = window == window.max(axis=(2, 3), keepdims=True)
                        share = mask / mask.sum(axis=(2, 3), keepdims=True)
                        dx[:, :, s * u : s * u + k, s * v : s * v + k] += share * dout[:, :, u, v][:, :, None, None]
                return dx
        '''),
    ), mistake="gradient split evenly between tied maxima"),
    Variant("pool-stride-none-taken-as-one", (
        Edit(F, "s = k if stride is None else stride", "s = 1 if stride is None else stride"),
    ), mistake="stride=None taken as 1"),
    Variant("pool-backward-assumes-stride-equals-kernel", (
        Edit(F, "rows, cols = _window_slice(i, s, Ho), _window_slice(j, s, Wo)",
             "rows, cols = _window_slice(i, k, Ho), _window_slice(j, k, Wo)"),
    ), mistake="gradient scattered with the kernel size as the stride"),
    Variant("pool-backward-columns-counted-with-the-height", (
        Edit(F, "rows, cols = _window_slice(i, s, Ho), _window_slice(j, s, Wo)",
             "rows, cols = _window_slice(i, s, Ho), _window_slice(j, s, Ho)"),
    )),
    Variant("pool-argmax-offset-decoded-transposed", (
        Edit(F, "chosen = argmax == i * k + j", "chosen = argmax == j * k + i"),
    ), mistake="window offset of the maximum decoded transposed"),
    Variant("maxpool_windows_by_as_strided_with_c_contiguous_strides", (Rewrite(F, "maxpool2d_forward", '''
        def maxpool2d_forward(x, kernel_size=2, stride=None):
            k = kernel_size
            s = k if stride is None else stride
            N, C, H, W = x.shape
            Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
            b = x.itemsize  # the strides of a C-contiguous x, not x.strides
            windows = np.lib.stride_tricks.as_strided(
                x, shape=(N, C, Ho, Wo, k, k), strides=(C * H * W * b, H * W * b, s * W * b, s * b, W * b, b)
            ).reshape(N, C, Ho, Wo, k * k)
            argmax = windows.argmax(axis=-1)
            out = np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
            return out, (x.shape, argmax, k, s)
    '''),), mistake="windows by as_strided with C-contiguous strides"),
    Variant("conv_im2col_by_as_strided_with_c_contiguous_strides", (Rewrite(F, "conv2d_forward", '''
        def conv2d_forward(x, w, b, stride=1, padding=0):
            N, C, H, W = x.shape
            F, _, KH, KW = w.shape
            s, p = stride, padding
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
            Hp, Wp = H + 2 * p, W + 2 * p
            Ho, Wo = (Hp - KH) // s + 1, (Wp - KW) // s + 1
            e = xp.itemsize  # the strides of a C-contiguous xp, not xp.strides
            cols = np.lib.stride_tricks.as_strided(
                xp, shape=(N, C, KH, KW, Ho, Wo), strides=(C * Hp * Wp * e, Hp * Wp * e, Wp * e, e, s * Wp * e, s * e)
            ).copy()
            out = np.einsum("ncijuv,fcij->nfuv", cols, w, optimize=True) + b[None, :, None, None]
            return out, (x.shape, w, cols, stride, padding)
    '''),), mistake="im2col by as_strided with C-contiguous strides"),
]

CORRECT = [
    Variant("loops-over-output-positions", (
        Rewrite(F, "conv2d_forward", '''
            def conv2d_forward(x, w, b, stride=1, padding=0):
                N, C, H, W = x.shape
                F, _, KH, KW = w.shape
                xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                Ho = (H + 2 * padding - KH) // stride + 1
                Wo = (W + 2 * padding - KW) // stride + 1
                out = np.zeros((N, F, Ho, Wo))
                for u in range(Ho):
                    for v in range(Wo):
                        patch = xp[:, :, u * stride : u * stride + KH, v * stride : v * stride + KW]
                        out[:, :, u, v] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
                return out, (x, w, stride, padding)
        '''),
        Rewrite(F, "conv2d_backward", '''
            def conv2d_backward(dout, cache):
                x, w, stride, padding = cache
                N, C, H, W = x.shape
                F, _, KH, KW = w.shape
                xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                dxp = np.zeros_like(xp)
                dw = np.zeros_like(w)
                for u in range(dout.shape[2]):
                    for v in range(dout.shape[3]):
                        rows = slice(u * stride, u * stride + KH)
                        cols = slice(v * stride, v * stride + KW)
                        g = dout[:, :, u, v]
                        dxp[:, :, rows, cols] += np.tensordot(g, w, axes=(1, 0))
                        dw += np.tensordot(g, xp[:, :, rows, cols], axes=(0, 0))
                dx = dxp[:, :, padding : padding + H, padding : padding + W]
                return dx, dw, dout.sum(axis=(0, 2, 3))
        '''),
        Rewrite(F, "maxpool2d_forward", NAIVE_POOL_WITH_MASKS),
        Rewrite(F, "maxpool2d_backward", '''
            def maxpool2d_backward(dout, cache):
                x, k, s = cache
                dx = np.zeros_like(x)
                N, C, Ho, Wo = dout.shape
                for n in range(N):
                    for c in range(C):
                        for u in range(Ho):
                            for v in range(Wo):
                                window = x[n, c, s * u : s * u + k, s * v : s * v + k]
                                i, j = np.unravel_index(np.argmax(window), window.shape)
                                dx[n, c, s * u + i, s * v + j] += dout[n, c, u, v]
                return dx
        '''),
    )),
    Variant("sliding-window-view-and-add-at", (
        Rewrite(F, "conv2d_forward", '''
            def conv2d_forward(x, w, b, stride=1, padding=0):
                F, C, KH, KW = w.shape
                xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
                windows = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]
                out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b[:, None, None]
                return out, (x.shape, xp, w, stride, padding)
        '''),
        Rewrite(F, "conv2d_backward", '''
            def conv2d_backward(dout, cache):
                x_shape, xp, w, stride, padding = cache
                N, C, H, W = x_shape
                F, _, KH, KW = w.shape
                Ho, Wo = dout.shape[2:]
                windows = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]
                dw = np.tensordot(dout, windows, axes=([0, 2, 3], [0, 2, 3]))
                db = np.einsum("nfuv->f", dout)
                dwindows = np.tensordot(dout, w, axes=(1, 0))  # (N, Ho, Wo, C, KH, KW)
                dxp = np.zeros(xp.shape)
                rows = (stride * np.arange(Ho))[:, None, None, None] + np.arange(KH)[None, None, :, None]
                cols = (stride * np.arange(Wo))[None, :, None, None] + np.arange(KW)[None, None, None, :]
                for n in range(N):
                    for c in range(C):
                        np.add.at(dxp[n, c], (rows, cols), dwindows[n, :, :, c])
                return dxp[:, :, padding : padding + H, padding : padding + W].copy(), dw, db
        '''),
    )),
    Variant("pool-last-maximum-wins-ties", (
        Edit(F, "argmax = windows.argmax(axis=-1)  # np.argmax returns the first maximum",
             "argmax = k * k - 1 - windows[..., ::-1].argmax(axis=-1)  # the LAST maximum"),
    )),
    Variant("pool-mask-keeps-the-first-tie", (
        Rewrite(F, "maxpool2d_forward", NAIVE_POOL_WITH_MASKS),
        Rewrite(F, "maxpool2d_backward", '''
            def maxpool2d_backward(dout, cache):
                x, k, s = cache
                N, C, H, W = x.shape
                dx = np.zeros_like(x)
                for u in range(dout.shape[2]):
                    for v in range(dout.shape[3]):
                        window = x[:, :, s * u : s * u + k, s * v : s * v + k].reshape(N, C, k * k)
                        mask = window == window.max(axis=2, keepdims=True)
                        first = mask & (np.cumsum(mask, axis=2) == 1)
                        dx[:, :, s * u : s * u + k, s * v : s * v + k] += (first * dout[:, :, u, v][:, :, None]).reshape(N, C, k, k)
                return dx
        '''),
    )),
    Variant("conv_cache_nested_tuples_and_maxpool_cache_a_namedtuple", (
        Edit(F, "cache = (x.shape, w, cols, stride, padding)", "cache = ((x.shape, stride, padding), (w, (cols,)))"),
        Edit(F, "(N, C, H, W), w, cols, s, p = cache", "((N, C, H, W), s, p), (w, (cols,)) = cache"),
        Edit(F, "cache = (x.shape, argmax, k, s)", "cache = PoolCache(x.shape, argmax, k, s)"),
        Edit(F, "x_shape, argmax, k, s = cache", "x_shape, argmax, k, s = cache.x_shape, cache.argmax, cache.k, cache.s"),
        Edit(F, "def maxpool2d_forward(", "PoolCache = namedtuple(\"PoolCache\", \"x_shape argmax k s\")\n\n\ndef maxpool2d_forward("),
        Edit(F, "import numpy as np\n", "from collections import namedtuple\n\nimport numpy as np\n"),
    )),
    Variant("conv-backward-returns-a-named-tuple", (
        Edit(F, "import numpy as np\n", "from typing import NamedTuple\n\nimport numpy as np\n\n\nclass ConvGrads(NamedTuple):\n    dx: np.ndarray\n    dw: np.ndarray\n    db: np.ndarray\n"),
        Edit(F, "    return dx, dw, db\n", "    return ConvGrads(dx, dw, db)\n"),
    )),
]
