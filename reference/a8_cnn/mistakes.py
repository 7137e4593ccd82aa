"""Known mistakes of a8_cnn (``grader.diagnosis``): judge-only, never released.

Each ``wrong`` computes the mistaken answer from the oracle's inputs, written as the mistake is
usually written, so that a student who made it gets exactly this answer. The layers are the
oracle's (``conv.py``) with one knob turned: ``_conv`` and ``_pool`` below follow it line by line.
A backward's ``wrong`` takes ``(dout, *forward inputs)``.
"""

import numpy as np

from grader.diagnosis import Function, Mistake, output

CONV = "Convolution is cross-correlation"  # the handout's sections
POOL = "Max pooling"

conv2d_forward = Function("conv.py", "conv2d_forward", graded=output)
conv2d_backward = Function("conv.py", "conv2d_backward", forward="conv2d_forward")
maxpool2d_forward = Function("conv.py", "maxpool2d_forward", graded=output)
maxpool2d_backward = Function("conv.py", "maxpool2d_backward", forward="maxpool2d_forward")


def _rows(offset, stride, count):
    return slice(offset, offset + stride * count, stride)


def _conv_columns(xp, KH, KW, s, Ho, Wo):
    """``cols[n, c, i, j, u, v] = xp[n, c, s*u + i, s*v + j]`` (im2col)."""
    N, C = xp.shape[:2]
    cols = np.empty((N, C, KH, KW, Ho, Wo), dtype=xp.dtype)
    for i in range(KH):
        for j in range(KW):
            cols[:, :, i, j] = xp[:, :, _rows(i, s, Ho), _rows(j, s, Wo)]
    return cols


def _conv(x, w, b, stride=1, padding=0, *, flip=False, pad=lambda p: ((p, p), (p, p)), swap_sizes=False, bias=lambda b: b[None, :, None, None]):
    """The forward ``out`` with a mistake: a flipped kernel, padding elsewhere, H' and W' swapped,
    the bias broadcast another way."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    s, p = stride, padding
    kernel = w[:, :, ::-1, ::-1] if flip else w
    xp = np.pad(x, ((0, 0), (0, 0), *pad(p)))
    Ho, Wo = (H + 2 * p - KH) // s + 1, (W + 2 * p - KW) // s + 1
    if swap_sizes:
        Ho, Wo = Wo, Ho
    cols = _conv_columns(xp, KH, KW, s, Ho, Wo)
    return np.einsum("ncijuv,fcij->nfuv", cols, kernel, optimize=True) + bias(b)


def _conv_grads(dout, x, w, b, stride=1, padding=0, *, scatter_stride=None, assign=False, cut=lambda p, H, W: (slice(p, p + H), slice(p, p + W)), db_of=None):
    """``(dx, dw, db)`` with a mistake in how ``dx`` is scattered and cut, or how ``db`` is summed."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = dout.shape[2:]
    cols = _conv_columns(xp, KH, KW, s, Ho, Wo)
    db = dout.sum(axis=(0, 2, 3)) if db_of is None else db_of(dout)
    dw = np.einsum("nfuv,ncijuv->fcij", dout, cols, optimize=True)
    dcols = np.einsum("nfuv,fcij->ncijuv", dout, w, optimize=True)
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    step = s if scatter_stride is None else scatter_stride
    for i in range(KH):
        for j in range(KW):
            where = (slice(None), slice(None), _rows(i, step, Ho), _rows(j, step, Wo))
            if assign:
                dxp[where] = dcols[:, :, i, j]
            else:
                dxp[where] += dcols[:, :, i, j]
    rows, columns = cut(p, H, W)
    return dxp[:, :, rows, columns].copy(), dw, db


def _conv_by_c_contiguous_strides(x, w, b, stride=1, padding=0):
    """im2col by ``as_strided`` with the strides of a C-contiguous array, whatever ``x``'s layout."""
    N, C, H, W = x.shape
    _, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    Hp, Wp = H + 2 * p, W + 2 * p
    Ho, Wo = (Hp - KH) // s + 1, (Wp - KW) // s + 1
    e = xp.itemsize
    cols = np.lib.stride_tricks.as_strided(
        xp, shape=(N, C, KH, KW, Ho, Wo), strides=(C * Hp * Wp * e, Hp * Wp * e, Wp * e, e, s * Wp * e, s * e)
    ).copy()
    return np.einsum("ncijuv,fcij->nfuv", cols, w, optimize=True) + b[None, :, None, None]


def _pool_windows(x, k, s):
    """``windows[n, c, u, v, i*k + j] = x[n, c, s*u + i, s*v + j]``."""
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    windows = np.empty((N, C, Ho, Wo, k * k), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            windows[..., i * k + j] = x[:, :, _rows(i, s, Ho), _rows(j, s, Wo)]
    return windows


def _stride(kernel_size, stride):
    return kernel_size if stride is None else stride


def _pool(x, kernel_size=2, stride=None):
    """The forward ``out`` with ``stride=None`` read as 1."""
    windows = _pool_windows(x, kernel_size, 1 if stride is None else stride)
    return windows.max(axis=-1)


def _pool_by_c_contiguous_strides(x, kernel_size=2, stride=None):
    """Windows by ``as_strided`` with the strides of a C-contiguous array, whatever ``x``'s layout."""
    k, s = kernel_size, _stride(kernel_size, stride)
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    b = x.itemsize
    windows = np.lib.stride_tricks.as_strided(
        x, shape=(N, C, Ho, Wo, k, k), strides=(C * H * W * b, H * W * b, s * W * b, s * b, W * b, b)
    ).reshape(N, C, Ho, Wo, k * k)
    return windows.max(axis=-1)


def _pool_grad(dout, x, kernel_size=2, stride=None, *, step=None, column_count=None, decode=lambda i, j, k: i * k + j):
    """``dx``, each window's gradient to its first maximum, with a mistake in where it lands."""
    k, s = kernel_size, _stride(kernel_size, stride)
    argmax = _pool_windows(x, k, s).argmax(axis=-1)
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(x.shape)
    for i in range(k):
        for j in range(k):
            chosen = argmax == decode(i, j, k)
            hop = s if step is None else step(k, s)
            rows, columns = _rows(i, hop, Ho), _rows(j, hop, Wo if column_count is None else column_count(Ho, Wo))
            dx[:, :, rows, columns] += np.where(chosen, dout, 0.0)
    return dx


def _pool_grad_by_window_assignment(dout, x, kernel_size=2, stride=None):
    """``dx`` written window by window with ``=``: a later window's zeros overwrite an earlier one's gradient."""
    k, s = kernel_size, _stride(kernel_size, stride)
    argmax = _pool_windows(x, k, s).argmax(axis=-1)
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape)
    for u in range(Ho):
        for v in range(Wo):
            window = np.zeros((N, C, k * k))
            np.put_along_axis(window, argmax[:, :, u, v, None], dout[:, :, u, v, None], axis=-1)
            dx[:, :, s * u : s * u + k, s * v : s * v + k] = window.reshape(N, C, k, k)
    return dx


def _pool_grad_to_tied_maxima(dout, x, kernel_size=2, stride=None, *, split):
    """``dx`` with each window's gradient sent to every tied maximum, or split evenly between them."""
    k, s = kernel_size, _stride(kernel_size, stride)
    dx = np.zeros(x.shape)
    for u in range(dout.shape[2]):
        for v in range(dout.shape[3]):
            window = x[:, :, s * u : s * u + k, s * v : s * v + k]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            share = mask / mask.sum(axis=(2, 3), keepdims=True) if split else mask
            dx[:, :, s * u : s * u + k, s * v : s * v + k] += share * dout[:, :, u, v][:, :, None, None]
    return dx


STRIDED_VIEW = (
    "as_strided with the strides a C-contiguous array would have reads the wrong elements of an input in any "
    "other memory layout (transposed, Fortran-ordered, a slice); use x.strides, or gather the windows by slicing."
)

MISTAKES = [
    Mistake(
        conv2d_forward, "true convolution: the kernel flipped",
        "Deep-learning convolution is cross-correlation: out[n, f, u, v] = b[f] + sum w[f, c, i, j] * xp[n, c, s*u + i, s*v + j], with the kernel NOT flipped.",
        CONV, lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, padding, flip=True),
    ),
    Mistake(
        conv2d_forward, "padding on one side only",
        "padding adds that many zeros on BOTH sides of H and of W: np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).",
        CONV, lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, padding, pad=lambda p: ((p, 0), (p, 0))),
    ),
    Mistake(
        conv2d_forward, "output height and width swapped",
        "H' = (H + 2 padding - KH) // stride + 1 comes from the height and the kernel's height, W' from the width and the kernel's width.",
        CONV, lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, padding, swap_sizes=True),
    ),
    Mistake(
        conv2d_forward, "bias broadcast along the last axis",
        "out + b adds b[f] along the LAST axis (the width); the bias of filter f belongs to channel f: out + b[None, :, None, None].",
        CONV, lambda x, w, b, stride=1, padding=0: _conv(x, w, b, stride, padding, bias=lambda b: b),
    ),
    Mistake(
        conv2d_forward, "im2col by as_strided with C-contiguous strides",
        STRIDED_VIEW, CONV, _conv_by_c_contiguous_strides,
    ),
    Mistake(
        conv2d_backward, "dx scattered with stride 1",
        "Window (u, v) starts at (s*u, s*v): its gradient dcols[..., i, j, u, v] lands at dxp[..., s*u + i, s*v + j], the same strided slice the forward read from.",
        CONV, lambda dout, x, w, b, stride=1, padding=0: _conv_grads(dout, x, w, b, stride, padding, scatter_stride=1),
    ),
    Mistake(
        conv2d_backward, "padding cut from the wrong side",
        "dx is dxp with the padding cut off on both sides: dxp[:, :, p : p + H, p : p + W], not its first H rows and W columns.",
        CONV, lambda dout, x, w, b, stride=1, padding=0: _conv_grads(dout, x, w, b, stride, padding, cut=lambda p, H, W: (slice(0, H), slice(0, W))),
    ),
    Mistake(
        conv2d_backward, "db from the first example only",
        "The bias is added to every output of every example: db[f] sums dout[n, f, u, v] over n, u and v.",
        CONV, lambda dout, x, w, b, stride=1, padding=0: _conv_grads(dout, x, w, b, stride, padding, db_of=lambda d: d[0].sum(axis=(1, 2))),
    ),
    Mistake(
        conv2d_backward, "overlapping windows' gradients overwritten",
        "An input pixel in several windows collects a term from each: dxp[...] += ..., never =.",
        CONV, lambda dout, x, w, b, stride=1, padding=0: _conv_grads(dout, x, w, b, stride, padding, assign=True),
    ),
    Mistake(
        maxpool2d_forward, "stride=None taken as 1",
        "stride=None means s = kernel_size (windows that tile the input), as in torch's max_pool2d.",
        POOL, _pool,
    ),
    Mistake(
        maxpool2d_forward, "windows by as_strided with C-contiguous strides",
        STRIDED_VIEW, POOL, _pool_by_c_contiguous_strides,
    ),
    Mistake(
        maxpool2d_backward, "gradient sent to every tied maximum",
        "All of a window's gradient goes to exactly ONE of its tied maxima (PyTorch: the first); a mask of every maximum counts it several times.",
        POOL, lambda dout, x, kernel_size=2, stride=None: _pool_grad_to_tied_maxima(dout, x, kernel_size, stride, split=False),
    ),
    Mistake(
        maxpool2d_backward, "gradient split evenly between tied maxima",
        "All of a window's gradient goes to exactly ONE of its tied maxima (PyTorch: the first); splitting it is torch.amax's convention, not max pooling's.",
        POOL, lambda dout, x, kernel_size=2, stride=None: _pool_grad_to_tied_maxima(dout, x, kernel_size, stride, split=True),
    ),
    Mistake(
        maxpool2d_backward, "window gradients overwritten instead of added",
        "An element that is the maximum of several windows collects the gradient of each: dx[...] += ..., never = (which also lets a later window's zeros erase it).",
        POOL, _pool_grad_by_window_assignment,
    ),
    Mistake(
        maxpool2d_backward, "gradient scattered with the kernel size as the stride",
        "Window (u, v) starts at (s*u, s*v) with s the stride, which is the kernel size only when stride is None.",
        POOL, lambda dout, x, kernel_size=2, stride=None: _pool_grad(dout, x, kernel_size, stride, step=lambda k, s: k),
    ),
    Mistake(
        maxpool2d_backward, "columns counted with the output height",
        "The column slice spans W' windows (dout.shape[3]), the row slice H' (dout.shape[2]).",
        POOL, lambda dout, x, kernel_size=2, stride=None: _pool_grad(dout, x, kernel_size, stride, column_count=lambda Ho, Wo: Ho),
    ),
    Mistake(
        maxpool2d_backward, "window offset of the maximum decoded transposed",
        "Flat offset a = i * k + j within a k x k window is row i = a // k, column j = a % k.",
        POOL, lambda dout, x, kernel_size=2, stride=None: _pool_grad(dout, x, kernel_size, stride, decode=lambda i, j, k: j * k + i),
    ),
]
