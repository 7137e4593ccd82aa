"""2-D convolution and max-pooling layers, forward and backward, in float64 numpy.

Both follow ``torch.nn.functional`` (``conv2d``, ``max_pool2d``). Images are ``(N, C, H, W)``.
Each layer gathers the input's sliding windows with one strided slice per kernel offset
``(i, j)``: for output position ``(u, v)`` the window element at offset ``(i, j)`` is the input at
``(s*u + i, s*v + j)``, so ``x[:, :, i : i + s*H' : s, j : j + s*W' : s]`` holds that element for
every window at once. Backward scatters the gradient back through the same slices, with ``+=``
because neighbouring windows may share input elements.
"""

from __future__ import annotations

import numpy as np


def _output_size(size: int, kernel: int, stride: int) -> int:
    """Number of window positions along one axis: ``floor((size - kernel) / stride) + 1``."""
    return (size - kernel) // stride + 1


def _window_slice(offset: int, stride: int, count: int) -> slice:
    """The input rows (or columns) at kernel offset ``offset`` of ``count`` windows."""
    return slice(offset, offset + stride * count, stride)


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0
) -> tuple[np.ndarray, tuple]:
    """Cross-correlation with zero padding, as ``torch.nn.functional.conv2d``.

    ``x (N, C, H, W)``, ``w (F, C, KH, KW)``, ``b (F,)`` -> ``out (N, F, H', W')`` with
    ``H' = (H + 2*padding - KH) // stride + 1`` (likewise ``W'``) and, ``xp`` being ``x``
    zero-padded by ``padding`` on each side of H and W,
    ``out[n, f, u, v] = b[f] + sum_{c,i,j} w[f, c, i, j] * xp[n, c, s*u + i, s*v + j]``.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    s, p = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = _output_size(H + 2 * p, KH, s), _output_size(W + 2 * p, KW, s)
    # cols[n, c, i, j, u, v] = xp[n, c, s*u + i, s*v + j]  (im2col)
    cols = np.empty((N, C, KH, KW, Ho, Wo), dtype=np.result_type(x, w))
    for i in range(KH):
        for j in range(KW):
            cols[:, :, i, j] = xp[:, :, _window_slice(i, s, Ho), _window_slice(j, s, Wo)]
    out = np.einsum("ncijuv,fcij->nfuv", cols, w, optimize=True) + b[None, :, None, None]
    cache = (x.shape, w, cols, stride, padding)
    return out, cache
    ### END SOLUTION


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``conv2d_forward``: ``dout (N, F, H', W')`` -> ``(dx, dw, db)``.

    ``db[f] = sum_{n,u,v} dout[n, f, u, v]``
    ``dw[f, c, i, j] = sum_{n,u,v} dout[n, f, u, v] * xp[n, c, s*u + i, s*v + j]``
    ``dxp[n, c, s*u + i, s*v + j] += sum_f dout[n, f, u, v] * w[f, c, i, j]``, and ``dx`` is
    ``dxp`` with the padding cut off.
    """
    ### BEGIN SOLUTION
    (N, C, H, W), w, cols, s, p = cache
    _, _, KH, KW = w.shape
    Ho, Wo = dout.shape[2:]
    db = dout.sum(axis=(0, 2, 3))
    dw = np.einsum("nfuv,ncijuv->fcij", dout, cols, optimize=True)
    dcols = np.einsum("nfuv,fcij->ncijuv", dout, w, optimize=True)
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dcols.dtype)
    for i in range(KH):
        for j in range(KW):
            dxp[:, :, _window_slice(i, s, Ho), _window_slice(j, s, Wo)] += dcols[:, :, i, j]
    dx = dxp[:, :, p : p + H, p : p + W].copy()
    return dx, dw, db
    ### END SOLUTION


def maxpool2d_forward(
    x: np.ndarray, kernel_size: int = 2, stride: int | None = None
) -> tuple[np.ndarray, tuple]:
    """Max-pooling over ``k x k`` windows (``k = kernel_size``), as ``F.max_pool2d``.

    ``x (N, C, H, W)`` -> ``out (N, C, H', W')``, ``H' = (H - k) // s + 1`` (likewise ``W'``),
    ``s = stride`` or ``k`` when ``stride is None``; no padding.
    ``out[n, c, u, v] = max_{i,j} x[n, c, s*u + i, s*v + j]``.
    The cache records, per window, WHICH element was the maximum: the first one in row-major
    order within the window when several tie (as PyTorch does).
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    Ho, Wo = _output_size(H, k, s), _output_size(W, k, s)
    # windows[n, c, u, v, i*k + j] = x[n, c, s*u + i, s*v + j]
    windows = np.empty((N, C, Ho, Wo, k * k), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            windows[..., i * k + j] = x[:, :, _window_slice(i, s, Ho), _window_slice(j, s, Wo)]
    argmax = windows.argmax(axis=-1)  # np.argmax returns the first maximum
    out = np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
    cache = (x.shape, argmax, k, s)
    return out, cache
    ### END SOLUTION


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Gradient of ``maxpool2d_forward``: ``dout (N, C, H', W')`` -> ``dx (N, C, H, W)``.

    Each window's gradient ``dout[n, c, u, v]`` goes to the ONE element the forward pass chose
    as its maximum; windows that overlap add their gradients up.
    """
    ### BEGIN SOLUTION
    x_shape, argmax, k, s = cache
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i in range(k):
        for j in range(k):
            chosen = argmax == i * k + j  # the windows whose maximum sits at offset (i, j)
            rows, cols = _window_slice(i, s, Ho), _window_slice(j, s, Wo)
            dx[:, :, rows, cols] += np.where(chosen, dout, 0.0)
    return dx
    ### END SOLUTION
