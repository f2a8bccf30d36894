"""Convolution and pooling over NCHW arrays: Conv2d, MaxPool2d, AvgPool2d.

Nothing loops over pixels. Conv2d copies its input into a matrix of kernel windows (im2col) and
multiplies it by the weights, a few images at a time so that the matrix never exists whole; it
sends the input gradient back with one GEMM and one strided add per kernel offset. The pools
read the input through strided views, one per kernel offset, and write gradients back the same way.
Arrays keep NCHW shapes; their memory may be channels-last (strides say so), and the ops that
follow are written to keep whichever order they are given rather than copy into another.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd.op import Op
from autograd.ops.linalg import column_sums, inner_over_rows


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


def _offset_view(a, i, j, out_hw, stride, axes=(2, 3)):
    """The strided view of `a` that kernel offset (i, j) reads (or writes) for every output pixel."""
    index = [slice(None)] * a.ndim
    index[axes[0]] = slice(i, i + stride[0] * (out_hw[0] - 1) + 1, stride[0])
    index[axes[1]] = slice(j, j + stride[1] * (out_hw[1] - 1) + 1, stride[1])
    return a[tuple(index)]


# Bytes of the GEMM matrix that a convolution builds at a time: the matrix has kh*kw times as many
# entries as the input, so it is built for a few images at a time and never exists whole.
CHUNK_BYTES = 4 << 20


def _chunks(n, pixels, row_bytes):
    """(images, rows) slices over a batch of n images, each chunk's matrix about CHUNK_BYTES (rows: output pixels)."""
    step = max(1, CHUNK_BYTES // (pixels * row_bytes))
    return [(slice(i, min(i + step, n)), slice(i * pixels, min(i + step, n) * pixels)) for i in range(0, n, step)]


def _column_chunks(xp, groups, kernel, out_hw, stride, dilation, ones):
    """(rows, matrix) per chunk of images: the slice of the GEMM's rows, and _columns of those images."""
    n, _, _, c = xp.shape
    row_bytes = (kernel[0] * kernel[1] * c // groups + ones) * xp.itemsize
    for images, rows in _chunks(n, out_hw[0] * out_hw[1], row_bytes):
        yield rows, _columns(xp[images], groups, kernel, out_hw, stride, dilation, ones)


# Below this many channels per group, _columns builds its matrix column by column.
FEW_CHANNELS = 4


def _columns(xp, groups, kernel, out_hw, stride, dilation, ones):
    """The GEMM matrix of a convolution over the channels-last padded input `xp` (N, H, W, C).

    (groups, N*OH*OW, KH*KW*C/groups): a row per output pixel, columns (ki, kj, channel) within each
    group, and with `ones` a last column of ones, so that the GEMM adds the bias and the weight
    gradient's GEMM yields the bias gradient, instead of two more passes over the output.
    """
    n, _, _, c = xp.shape
    c_group, (kh, kw), (oh, ow) = c // groups, kernel, out_hw
    k = kh * kw * c_group
    if c_group < FEW_CHANNELS:
        # Column-major: each kernel offset's copy then moves image rows, where a row-major copy
        # would move one to three floats at a time (six to nine times slower for one channel).
        cols_t = np.empty((groups, k + ones, n, oh, ow), dtype=xp.dtype)
        for i in range(kh):
            for j in range(kw):
                view = _offset_view(xp, i * dilation[0], j * dilation[1], out_hw, stride, axes=(1, 2))
                offset = (i * kw + j) * c_group
                cols_t[:, offset : offset + c_group] = view.reshape(n, oh, ow, groups, c_group).transpose(3, 4, 0, 1, 2)
        cols = cols_t.reshape(groups, k + ones, -1).transpose(0, 2, 1)
    else:
        # Row-major: each row is kh*kw runs of contiguous channels, so the one copy reads memory in
        # order (twice as fast as gathering (channel, ki, kj) columns from NCHW).
        spans = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
        windows = sliding_window_view(xp, spans, axis=(1, 2))
        windows = windows[:, :: stride[0], :: stride[1], :, :: dilation[0], :: dilation[1]]
        cols = np.empty((groups, n * oh * ow, k + ones), dtype=xp.dtype)
        for g in range(groups):
            channels = windows[:, :, :, g * c_group : (g + 1) * c_group].transpose(0, 1, 2, 4, 5, 3)
            # Splitting axes of a view never needs a copy, so this reshape writes into cols.
            cols[g, :, :k].reshape(n, oh, ow, kh, kw, c_group)[...] = channels
    if ones:
        cols[:, :, k] = 1
    return cols


def _memory_order(a):
    """a's axes from the outermost in memory to the innermost."""
    return sorted(range(a.ndim), key=lambda axis: -abs(a.strides[axis]))


def _empty_in_order_of(shape, like, dtype):
    """An empty array of `shape` whose axes lie in memory in the order of `like`'s axes."""
    outer_first = _memory_order(like)
    return np.empty([shape[axis] for axis in outer_first], dtype=dtype).transpose(np.argsort(outer_first))


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
        ph, pw = padding
        oh, ow = _out_size("conv2d", (h + 2 * ph, w + 2 * pw), (kh, kw), stride, dilation)
        xp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
        xp[:, ph : ph + h, pw : pw + w, :] = x.transpose(0, 2, 3, 1)
        k = kh * kw * c_group
        w_mat = weight.reshape(groups, f // groups, c_group, kh, kw).transpose(0, 1, 3, 4, 2).reshape(groups, -1, k)
        if bias is not None:
            w_mat = np.concatenate([w_mat, bias.reshape(groups, -1, 1)], axis=2)
        out = np.empty((groups, n * oh * ow, f // groups), dtype=np.result_type(x, w_mat))
        for rows, cols in _column_chunks(xp, groups, (kh, kw), (oh, ow), stride, dilation, bias is not None):
            np.matmul(cols, w_mat.transpose(0, 2, 1), out=out[:, rows])
        out = out.transpose(1, 0, 2).reshape(n, oh, ow, f)
        # The padded input, not the matrix: backward builds the matrix again, chunk by chunk, and only
        # for the weight gradient.
        needs_weight_grad = bool(ctx.needs_input_grad) and ctx.needs_input_grad[1]
        ctx.save_for_backward(xp if needs_weight_grad else None, weight)
        ctx.geometry = (x.shape, (kh, kw), stride, padding, dilation, groups, bias is not None)
        return out.transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        xp, weight = ctx.saved
        x_shape, (kh, kw), stride, padding, dilation, groups, has_bias = ctx.geometry
        f, c_group = weight.shape[:2]
        f_group = f // groups
        n, _, oh, ow = grad.shape
        need_x, need_w, need_b = ctx.needs_input_grad
        # Free when grad is channels-last in memory, as this op's own output is.
        g_mat = grad.transpose(0, 2, 3, 1).reshape(n * oh * ow, groups, f_group).transpose(1, 0, 2)
        k = kh * kw * c_group
        dx = dw = db = None
        if need_w:
            dw_mat = np.zeros((groups, f_group, k + has_bias), dtype=np.result_type(grad, xp))
            for rows, cols in _column_chunks(xp, groups, (kh, kw), (oh, ow), stride, dilation, has_bias):
                dw_mat += inner_over_rows(g_mat[:, rows], cols)
            dw = dw_mat[:, :, :k].reshape(f, kh, kw, c_group).transpose(0, 3, 1, 2)
            if need_b:
                db = dw_mat[:, :, k].reshape(f)  # from the column of ones
        elif need_b:
            db = column_sums(g_mat).reshape(f)
        if need_x:
            _, c, h, w = x_shape
            ph, pw = padding
            # One GEMM per kernel offset, added straight into a channels-last buffer: no
            # (N*OH*OW, C*KH*KW) matrix of column gradients, and every add runs over contiguous channels.
            w_at = np.ascontiguousarray(weight.reshape(groups, f_group, c_group, kh, kw).transpose(3, 4, 0, 1, 2))
            dxp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=grad.dtype)
            for i in range(kh):
                for j in range(kw):
                    part = np.matmul(g_mat, w_at[i, j]).transpose(1, 0, 2).reshape(n, oh, ow, c)
                    _offset_view(dxp, i * dilation[0], j * dilation[1], (oh, ow), stride, axes=(1, 2))[...] += part
            dx = dxp[:, ph : ph + h, pw : pw + w, :].transpose(0, 3, 1, 2)
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
        xp = _pad_hw(x, padding, -np.inf)
        out_hw = _out_size("max_pool2d", xp.shape[2:], kernel, stride, (1, 1))
        offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
        # One pass per kernel offset over strided views, in the input's memory order: no copy of
        # the windows and no argmax along a short axis. A strict > keeps the first of tied maxima,
        # as PyTorch (ties are common after a ReLU). winner only grows (offset k beats the running
        # maximum only with an index above every earlier one), so max(winner, k * better) updates
        # it without the branches of a masked assignment.
        out = _offset_view(xp, 0, 0, out_hw, stride).copy(order="K")
        winner = np.zeros_like(out, dtype=np.min_scalar_type(len(offsets) - 1))
        better, candidate = np.empty_like(out, dtype=bool), np.empty_like(winner)
        for k, (i, j) in enumerate(offsets[1:], start=1):
            view = _offset_view(xp, i, j, out_hw, stride)
            np.greater(view, out, out=better)
            np.maximum(winner, np.multiply(better, winner.dtype.type(k), out=candidate), out=winner)
            np.maximum(out, view, out=out)
        ctx.save_for_backward(winner)
        ctx.geometry = (x.shape, kernel, stride, padding)
        return out

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved
        (n, c, h, w), kernel, stride, padding = ctx.geometry
        out_hw = winner.shape[2:]
        # Work in the memory order of the forward's input, which winner keeps: the ReLU backward
        # that usually comes next then reads its saved output and this gradient in step. A grad in
        # another order is copied once (a quarter of the input) instead of being read across strides;
        # a view in the same order (a slice of a padded gradient) is read as it is.
        if _memory_order(grad) != _memory_order(winner):
            laid_out = _empty_in_order_of(grad.shape, winner, grad.dtype)
            laid_out[...] = grad
            grad = laid_out
        dxp = _empty_in_order_of((n, c, h + 2 * padding[0], w + 2 * padding[1]), winner, grad.dtype)
        disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
        tiled = disjoint and padding == (0, 0) and (h, w) == (out_hw[0] * kernel[0], out_hw[1] * kernel[1])
        if not tiled:
            dxp[...] = 0
        for k, (i, j) in enumerate((i, j) for i in range(kernel[0]) for j in range(kernel[1])):
            view = _offset_view(dxp, i, j, out_hw, stride)
            if disjoint:
                np.multiply(grad, winner == k, out=view)
            else:
                view += grad * (winner == k)
        return (dxp[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w],)


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
