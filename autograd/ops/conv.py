"""Convolution and pooling over NCHW arrays: Conv2d, MaxPool2d, AvgPool2d.

All three read the input through one strided window view (no copy until a GEMM needs a matrix)
and send gradients back with one strided add per kernel offset, never a loop over pixels.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd.op import Op


def pair(where: str, name: str, value, minimum: int) -> tuple:
    """`value` as a pair of ints >= `minimum` (an int means the same for height and width)."""
    values = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != 2 or any(not isinstance(v, (int, np.integer)) or v < minimum for v in values):
        raise ValueError(f"{where}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return tuple(int(v) for v in values)


def _check_nchw(where: str, x: np.ndarray) -> None:
    if x.ndim != 4:
        raise ValueError(f"{where}: input must have 4 dims (N, C, H, W), got shape {x.shape}")


def _pad_hw(x, padding, fill=0.0):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def _out_size(where: str, size: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(s > n for s, n in zip(spans, size)):
        raise ValueError(f"{where}: kernel span {spans} is larger than the padded input {size}")
    return tuple((n - s) // st + 1 for n, s, st in zip(size, spans, stride))


def _windows(xp, kernel, stride, dilation):
    """A (N, C, OH, OW, KH, KW) view of every kernel window of `xp`."""
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = sliding_window_view(xp, spans, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1], :: dilation[0], :: dilation[1]]


def _scatter_windows(shape, dtype, padding, kernel, stride, dilation, grad_at):
    """Sum `grad_at(i, j)` (N, C, OH, OW) into the input positions that kernel offset (i, j) read."""
    _, _, oh, ow = grad_at(0, 0).shape
    n, c, h, w = shape
    dxp = np.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]), dtype=dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            top, left = i * dilation[0], j * dilation[1]
            dxp[
                :,
                :,
                top : top + stride[0] * (oh - 1) + 1 : stride[0],
                left : left + stride[1] * (ow - 1) + 1 : stride[1],
            ] += grad_at(i, j)
    return dxp[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]


class Conv2d(Op):
    """y = cross-correlation of x (N, C, H, W) with w (F, C/groups, KH, KW) + b;  dx, dw, db by GEMMs."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
        _check_nchw("conv2d", x)
        stride = pair("conv2d", "stride", stride, 1)
        padding = pair("conv2d", "padding", padding, 0)
        dilation = pair("conv2d", "dilation", dilation, 1)
        if weight.ndim != 4:
            raise ValueError(f"conv2d: weight must have 4 dims (F, C/groups, KH, KW), got shape {weight.shape}")
        n, c, h, w = x.shape
        f, c_group, kh, kw = weight.shape
        if not isinstance(groups, (int, np.integer)) or groups < 1 or c % groups or f % groups:
            raise ValueError(
                f"conv2d: groups must divide both input channels {c} and output channels {f}, got groups={groups}"
            )
        if c_group * groups != c:
            raise ValueError(
                f"conv2d: input has {c} channels but weight {weight.shape} expects {c_group * groups} "
                f"(C/groups={c_group}, groups={groups})"
            )
        if bias is not None and bias.shape != (f,):
            raise ValueError(f"conv2d: bias must have shape ({f},), got {bias.shape}")
        oh, ow = _out_size("conv2d", (h + 2 * padding[0], w + 2 * padding[1]), (kh, kw), stride, dilation)
        windows = _windows(_pad_hw(x, padding), (kh, kw), stride, dilation)
        # One copy turns the windows into the GEMM's matrix: rows are output pixels, columns are
        # (channel, ki, kj) per group, matching the weight's memory order.
        cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, groups, c_group * kh * kw)
        w_mat = weight.reshape(groups, f // groups, c_group * kh * kw)
        out = np.matmul(cols.transpose(1, 0, 2), w_mat.transpose(0, 2, 1))
        out = out.transpose(1, 0, 2).reshape(n, oh, ow, f)
        if bias is not None:
            out += bias
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, (kh, kw), stride, padding, dilation)
        return out.transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved
        x_shape, kernel, stride, padding, dilation = ctx.geometry
        groups = cols.shape[1]
        w_mat = weight.reshape(groups, weight.shape[0] // groups, cols.shape[2])
        f_group = w_mat.shape[1]
        n, _, oh, ow = grad.shape
        need_x, need_w, need_b = ctx.needs_input_grad
        g_mat = grad.transpose(0, 2, 3, 1).reshape(n * oh * ow, groups, f_group).transpose(1, 0, 2)
        dx = dw = db = None
        if need_w:
            dw = np.matmul(g_mat.transpose(0, 2, 1), cols.transpose(1, 0, 2)).reshape(groups * f_group, -1, *kernel)
        if need_b:
            db = grad.sum(axis=(0, 2, 3))
        if need_x:
            d_cols = np.matmul(g_mat, w_mat).transpose(1, 0, 2).reshape(n, oh, ow, x_shape[1], *kernel)
            dx = _scatter_windows(
                x_shape,
                grad.dtype,
                padding,
                kernel,
                stride,
                dilation,
                lambda i, j: d_cols[:, :, :, :, i, j].transpose(0, 3, 1, 2),
            )
        return dx, dw, db


def _pool_geometry(where, x, kernel_size, stride, padding):
    _check_nchw(where, x)
    kernel = pair(where, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(where, "stride", stride, 1)
    padding = pair(where, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{where}: padding must be at most half the kernel size {kernel}, got {padding}")
    size = (x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1])
    _out_size(where, size, kernel, stride, (1, 1))
    return kernel, stride, padding


class MaxPool2d(Op):
    """y = max over each window;  dx = g at the first maximum of each window (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride=None, padding=0):
        kernel, stride, padding = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
        windows = _windows(_pad_hw(x, padding, -np.inf), kernel, stride, (1, 1))
        n, c, oh, ow, kh, kw = windows.shape
        flat = windows.reshape(n, c, oh, ow, kh * kw)
        # argmax picks the first of tied maxima, which PyTorch rewards too (ties are common on
        # images with flat zero borders).
        winner = flat.argmax(axis=-1).astype(np.min_scalar_type(kh * kw))
        ctx.save_for_backward(winner)
        ctx.geometry = (x.shape, kernel, stride, padding)
        return np.take_along_axis(flat, winner[..., None].astype(np.intp), axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved
        x_shape, kernel, stride, padding = ctx.geometry
        kw = kernel[1]
        dx = _scatter_windows(
            x_shape, grad.dtype, padding, kernel, stride, (1, 1), lambda i, j: grad * (winner == i * kw + j)
        )
        return (dx,)


class AvgPool2d(Op):
    """y = mean over each window (zero padding counted, as PyTorch's default);  dx = g / (kh kw)."""

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride=None, padding=0):
        kernel, stride, padding = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
        windows = _windows(_pad_hw(x, padding), kernel, stride, (1, 1))
        ctx.geometry = (x.shape, kernel, stride, padding)
        return windows.mean(axis=(-2, -1))

    @staticmethod
    def backward(ctx, grad):
        x_shape, kernel, stride, padding = ctx.geometry
        share = grad / (kernel[0] * kernel[1])
        return (_scatter_windows(x_shape, grad.dtype, padding, kernel, stride, (1, 1), lambda i, j: share),)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, NCHW, with PyTorch's arguments; weight is (F, C/groups, KH, KW)."""
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel windows; stride defaults to the kernel size, padding counts as -inf."""
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
