"""Convolution and pooling over NCHW arrays: Conv2d, MaxPool2d, AvgPool2d, and their gradient ops.

Nothing loops over pixels. Conv2d copies its input into a matrix of kernel windows (im2col) and
multiplies it by the weights, a few images at a time so that the matrix never exists whole; it
sends the input gradient back with one GEMM and one strided add per kernel offset. The pools
read the input through strided views, one per kernel offset, and write gradients back the same way.
Arrays keep NCHW shapes; their memory may be channels-last (strides say so), and the ops that
follow are written to keep whichever order they are given rather than copy into another.

Each op's first derivative is an op of its own (Chainer's pattern), with a fast array forward and
a backward built from the ops here, so every order of derivative is a chain of the same kernels:

    Conv2d ──> Conv2dInputGrad  ──> Conv2d, Conv2dWeightGrad
           └─> Conv2dWeightGrad ──> Conv2dInputGrad, Conv2d
    MaxPool2d ──> MaxPool2dGrad (scatter) <──> MaxPool2dGather
    AvgPool2d ──> AvgPool2dGrad <──> AvgPool2d

A backward calls them with `Op.call`: the bare kernel on arrays (a first derivative costs what it
always did), a recorded op on TensorNodes (create_graph=True).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd.op import Op, as_int
from autograd.ops.linalg import check_same_kind, column_sums, inner_over_rows


def pair(where: str, name: str, value, minimum: int) -> tuple:
    """`value` as a pair of ints >= `minimum` (an int means the same for height and width)."""
    expected = f"an int >= {minimum} or a pair of them"
    values = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value, value)
    if len(values) != 2:
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    return tuple(as_int(where, name, v, minimum, expected, got=value) for v in values)


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


def _conv_settings(where: str, stride, padding, dilation, groups) -> dict:
    """The settings every convolution op takes, as pairs of ints (groups an int >= 1)."""
    return dict(
        stride=pair(where, "stride", stride, 1),
        padding=pair(where, "padding", padding, 0),
        dilation=pair(where, "dilation", dilation, 1),
        groups=as_int(where, "groups", groups, 1),
    )


def _check_groups(where: str, channels: int, filters: int, groups: int) -> None:
    if channels % groups or filters % groups:
        raise ValueError(
            f"{where}: groups must divide both input channels {channels} and output channels {filters}, "
            f"got groups={groups}"
        )


def _check_weight(where: str, weight, channels: int | None, groups: int) -> None:
    """weight must be (F, C/groups, KH, KW) for an input of `channels` channels (None: any that fits)."""
    if weight.ndim != 4:
        raise ValueError(f"{where}: weight must have 4 dims (F, C/groups, KH, KW), got shape {weight.shape}")
    channels = weight.shape[1] * groups if channels is None else channels
    _check_groups(where, channels, weight.shape[0], groups)
    if weight.shape[1] * groups != channels:
        raise ValueError(
            f"{where}: input has {channels} channels but weight {weight.shape} expects {weight.shape[1] * groups} "
            f"(C/groups={weight.shape[1]}, groups={groups})"
        )


def _check_grad(where: str, grad, expected: tuple) -> None:
    if grad.shape != tuple(expected):
        raise ValueError(f"{where}: grad must have the forward output's shape {tuple(expected)}, got {grad.shape}")


def _padded_channels_last(x, padding):
    """x (N, C, H, W) copied into zeros of shape (N, H + 2 ph, W + 2 pw, C): the layout _columns reads."""
    n, c, h, w = x.shape
    ph, pw = padding
    xp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    xp[:, ph : ph + h, pw : pw + w, :] = x.transpose(0, 2, 3, 1)
    return xp


def _grad_matrix(grad, groups):
    """grad (N, F, OH, OW) as (groups, N*OH*OW, F/groups); free when grad is channels-last in memory,
    as conv2d's own output is. Written with methods TensorNodes share, for the bias-only gradient."""
    n, f, oh, ow = grad.shape
    return grad.transpose(0, 2, 3, 1).reshape(n * oh * ow, groups, f // groups).transpose(1, 0, 2)


class Conv2d(Op):
    """y = correlate(x, w (F, C/groups, KH, KW)) + b;  dx = Conv2dInputGrad(g, w), dw, db = Conv2dWeightGrad(x, g)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1):
        _check_nchw("conv2d", x)
        settings = _conv_settings("conv2d", stride, padding, dilation, groups)
        n, c, h, w = x.shape
        _check_weight("conv2d", weight, c, settings["groups"])
        f, c_group, kh, kw = weight.shape
        if bias is not None and bias.shape != (f,):
            raise ValueError(f"conv2d: bias must have shape ({f},), got {bias.shape}")
        check_same_kind("conv2d", x, weight)
        (ph, pw), stride, dilation = settings["padding"], settings["stride"], settings["dilation"]
        oh, ow = _out_size("conv2d", (h + 2 * ph, w + 2 * pw), (kh, kw), stride, dilation)
        xp = _padded_channels_last(x, (ph, pw))
        k = kh * kw * c_group
        w_mat = weight.reshape(groups, f // groups, c_group, kh, kw).transpose(0, 1, 3, 4, 2).reshape(groups, -1, k)
        if bias is not None:
            w_mat = np.concatenate([w_mat, bias.reshape(groups, -1, 1)], axis=2)
        out = np.empty((groups, n * oh * ow, f // groups), dtype=np.result_type(x, w_mat))
        for rows, cols in _column_chunks(xp, groups, (kh, kw), (oh, ow), stride, dilation, bias is not None):
            np.matmul(cols, w_mat.transpose(0, 2, 1), out=out[:, rows])
        out = out.transpose(1, 0, 2).reshape(n, oh, ow, f)
        # x itself, not its padded copy: under create_graph a saved input becomes the graph's tensor.
        # The weight gradient (an op of its own) pads it again and rebuilds the matrix chunk by chunk.
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, weight)
        ctx.input_size, ctx.settings = (h, w), settings
        return out.transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = dw = db = None
        if need_x:
            dx = Conv2dInputGrad.call(grad, weight, input_size=ctx.input_size, **ctx.settings)
        if need_w:
            # With a bias, the same GEMM gives db from the matrix's column of ones.
            dw = Conv2dWeightGrad.call(x, grad, kernel_size=weight.shape[2:], with_bias=need_b, **ctx.settings)
            if need_b:
                dw, db = dw
        elif need_b:
            db = column_sums(_grad_matrix(grad, ctx.settings["groups"])).reshape(-1)
        return dx, dw, db


class Conv2dInputGrad(Op):
    """dx = g transpose-convolved with w (conv2d's dx);  dg = conv2d(ggx, w), dw = Conv2dWeightGrad(ggx, g)."""

    @staticmethod
    def forward(ctx, grad, weight, *, input_size, stride=1, padding=0, dilation=1, groups=1):
        where = "conv2d_input_grad"
        _check_nchw(where, grad)
        settings = _conv_settings(where, stride, padding, dilation, groups)
        (h, w), (ph, pw), stride, dilation = input_size, settings["padding"], settings["stride"], settings["dilation"]
        n, f, oh, ow = grad.shape
        _check_weight(where, weight, None, groups)
        _, c_group, kh, kw = weight.shape
        _check_grad(where, grad, (n, f, *_out_size(where, (h + 2 * ph, w + 2 * pw), (kh, kw), stride, dilation)))
        g_mat = _grad_matrix(grad, groups)
        # One GEMM per kernel offset, added straight into a channels-last buffer: no
        # (N*OH*OW, C*KH*KW) matrix of column gradients, and every add runs over contiguous channels.
        w_at = np.ascontiguousarray(weight.reshape(groups, f // groups, c_group, kh, kw).transpose(3, 4, 0, 1, 2))
        dxp = np.zeros((n, h + 2 * ph, w + 2 * pw, c_group * groups), dtype=np.result_type(grad, weight))
        for i in range(kh):
            for j in range(kw):
                part = np.matmul(g_mat, w_at[i, j]).transpose(1, 0, 2).reshape(n, oh, ow, c_group * groups)
                _offset_view(dxp, i * dilation[0], j * dilation[1], (oh, ow), stride, axes=(1, 2))[...] += part
        need_g, need_w = ctx.needs_input_grad
        ctx.save_for_backward(grad if need_w else None, weight if need_g else None)
        ctx.kernel_size, ctx.settings = (kh, kw), settings
        return dxp[:, ph : ph + h, pw : pw + w, :].transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, ggx):
        grad, weight = ctx.saved
        need_g, need_w = ctx.needs_input_grad
        dg = Conv2d.call(ggx, weight, None, **ctx.settings) if need_g else None
        dw = Conv2dWeightGrad.call(ggx, grad, kernel_size=ctx.kernel_size, **ctx.settings) if need_w else None
        return dg, dw


class Conv2dWeightGrad(Op):
    """dw (, db) = x correlated with g (conv2d's dw, db);  dx = Conv2dInputGrad(g, ggw), dg = conv2d(x, ggw, ggb)."""

    @staticmethod
    def forward(ctx, x, grad, *, kernel_size, stride=1, padding=0, dilation=1, groups=1, with_bias=False):
        where = "conv2d_weight_grad"
        _check_nchw(where, x)
        _check_nchw(where, grad)
        settings = _conv_settings(where, stride, padding, dilation, groups)
        (kh, kw), (ph, pw) = pair(where, "kernel_size", kernel_size, 1), settings["padding"]
        stride, dilation = settings["stride"], settings["dilation"]
        n, c, h, w = x.shape
        f = grad.shape[1]
        _check_groups(where, c, f, groups)
        out_hw = _out_size(where, (h + 2 * ph, w + 2 * pw), (kh, kw), stride, dilation)
        _check_grad(where, grad, (n, f, *out_hw))
        xp = _padded_channels_last(x, (ph, pw))
        g_mat = _grad_matrix(grad, groups)
        k = kh * kw * (c // groups)
        dw_mat = np.zeros((groups, f // groups, k + with_bias), dtype=np.result_type(grad, xp))
        for rows, cols in _column_chunks(xp, groups, (kh, kw), out_hw, stride, dilation, with_bias):
            dw_mat += inner_over_rows(g_mat[:, rows], cols)
        dw = dw_mat[:, :, :k].reshape(f, kh, kw, c // groups).transpose(0, 3, 1, 2)
        need_x, need_g = ctx.needs_input_grad
        ctx.save_for_backward(x if need_g else None, grad if need_x else None)
        ctx.input_size, ctx.settings = (h, w), settings
        return (dw, dw_mat[:, :, k].reshape(f)) if with_bias else dw  # db from the column of ones

    @staticmethod
    def backward(ctx, ggw, ggb=None):
        x, grad = ctx.saved
        need_x, need_g = ctx.needs_input_grad
        dx = Conv2dInputGrad.call(grad, ggw, input_size=ctx.input_size, **ctx.settings) if need_x else None
        dg = Conv2d.call(x, ggw, ggb, **ctx.settings) if need_g else None
        return dx, dg


def _pool_settings(where: str, kernel_size, stride, padding) -> dict:
    """kernel_size, stride (default: the kernel) and padding as pairs of ints."""
    kernel = pair(where, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else pair(where, "stride", stride, 1)
    padding = pair(where, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{where}: padding must be at most half the kernel size {kernel}, got {padding}")
    return dict(kernel_size=kernel, stride=stride, padding=padding)


def _pool_out_hw(where: str, input_size, settings: dict) -> tuple:
    (ph, pw), (h, w) = settings["padding"], input_size
    return _out_size(where, (h + 2 * ph, w + 2 * pw), settings["kernel_size"], settings["stride"], (1, 1))


def _offsets(kernel):
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


class MaxPool2d(Op):
    """y = max over each window;  dx = MaxPool2dGrad(g, winner): g at its first maximum, or last NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride=None, padding=0):
        _check_nchw("max_pool2d", x)
        settings = _pool_settings("max_pool2d", kernel_size, stride, padding)
        stride = settings["stride"]
        xp = _pad_hw(x, settings["padding"], -np.inf)
        out_hw = _pool_out_hw("max_pool2d", x.shape[2:], settings)
        offsets = _offsets(settings["kernel_size"])
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
        _settle_ties_with_padding(winner, out, settings)
        _nan_wins(winner, out, xp, offsets, stride)
        ctx.save_for_backward(winner)
        ctx.settings = dict(input_size=x.shape[2:], **settings)
        return out

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved
        return (MaxPool2dGrad.call(grad, winner, **ctx.settings),)


def _settle_ties_with_padding(winner, out, settings) -> None:
    """Windows whose input values are all -inf tie with their -inf padding: PyTorch's winner is then
    the window's first element inside the input, never the padding (whose gradient would be lost)."""
    (ph, pw), (sh, sw), kw = settings["padding"], settings["stride"], settings["kernel_size"][1]
    if ph == pw == 0:
        return
    top = np.maximum(ph - sh * np.arange(out.shape[2]), 0)
    left = np.maximum(pw - sw * np.arange(out.shape[3]), 0)
    first_inside = (top[:, None] * kw + left).astype(winner.dtype)
    np.copyto(winner, first_inside, where=out == -np.inf)


def _nan_wins(winner, out, xp, offsets, stride) -> None:
    """A NaN is the maximum of its window (np.maximum propagates it) and takes the gradient, as in
    PyTorch, whose CPU kernel keeps the last NaN of a window; `>` never picks one, so they are placed here."""
    nan = np.isnan(out)
    if not nan.any():
        return
    for k, (i, j) in enumerate(offsets):
        np.copyto(winner, k, where=nan & np.isnan(_offset_view(xp, i, j, out.shape[2:], stride)))


def _check_winner(where: str, winner, grad_shape: tuple) -> None:
    """winner: for each output position of the pool, the index i * KW + j of its window's chosen offset."""
    if winner.shape != tuple(grad_shape) or winner.dtype.kind not in "iu":
        raise ValueError(f"{where}: winner must be integers of shape {grad_shape}, got {winner.dtype} {winner.shape}")


class MaxPool2dGrad(Op):
    """dx = g scattered to each window's winner (max_pool2d's input gradient);  dg = MaxPool2dGather(ggx, winner)."""

    @staticmethod
    def forward(ctx, grad, winner, *, input_size, kernel_size, stride=None, padding=0):
        where = "max_pool2d_grad"
        _check_nchw(where, grad)
        settings = _pool_settings(where, kernel_size, stride, padding)
        (h, w), kernel, stride, padding = input_size, settings["kernel_size"], settings["stride"], settings["padding"]
        out_hw = _pool_out_hw(where, input_size, settings)
        _check_grad(where, grad, (*grad.shape[:2], *out_hw))
        _check_winner(where, winner, grad.shape)
        # Work in the memory order of the forward's input, which winner keeps: the ReLU backward
        # that usually comes next then reads its saved output and this gradient in step. A grad in
        # another order is copied once (a quarter of the input) instead of being read across strides;
        # a view in the same order (a slice of a padded gradient) is read as it is.
        if _memory_order(grad) != _memory_order(winner):
            laid_out = _empty_in_order_of(grad.shape, winner, grad.dtype)
            laid_out[...] = grad
            grad = laid_out
        n, c = grad.shape[:2]
        dxp = _empty_in_order_of((n, c, h + 2 * padding[0], w + 2 * padding[1]), winner, grad.dtype)
        disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
        tiled = disjoint and padding == (0, 0) and (h, w) == (out_hw[0] * kernel[0], out_hw[1] * kernel[1])
        if not tiled:
            dxp[...] = 0
        for k, (i, j) in enumerate(_offsets(kernel)):
            view = _offset_view(dxp, i, j, out_hw, stride)
            if disjoint:
                np.multiply(grad, winner == k, out=view)
            else:
                view += grad * (winner == k)
        ctx.save_for_backward(winner)
        ctx.settings = settings
        return dxp[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w]

    @staticmethod
    def backward(ctx, ggx):
        (winner,) = ctx.saved
        return MaxPool2dGather.call(ggx, winner, **ctx.settings), None


class MaxPool2dGather(Op):
    """y = x at each window's winner (MaxPool2dGrad's adjoint);  dx = MaxPool2dGrad(g, winner)."""

    @staticmethod
    def forward(ctx, x, winner, *, kernel_size, stride=None, padding=0):
        where = "max_pool2d_gather"
        _check_nchw(where, x)
        settings = _pool_settings(where, kernel_size, stride, padding)
        out_hw = _pool_out_hw(where, x.shape[2:], settings)
        _check_winner(where, winner, (*x.shape[:2], *out_hw))
        # Zeros in the padding: max_pool2d never picks a winner there, but a winner given by hand
        # may lie there; MaxPool2dGrad drops its gradient, so zero keeps the two ops adjoint.
        xp = _pad_hw(x, settings["padding"])
        out = np.zeros(winner.shape, dtype=x.dtype)
        for k, (i, j) in enumerate(_offsets(settings["kernel_size"])):
            np.copyto(out, _offset_view(xp, i, j, out_hw, settings["stride"]), where=winner == k)
        ctx.save_for_backward(winner)
        ctx.settings = dict(input_size=x.shape[2:], **settings)
        return out

    @staticmethod
    def backward(ctx, grad):
        (winner,) = ctx.saved
        return MaxPool2dGrad.call(grad, winner, **ctx.settings), None


class AvgPool2d(Op):
    """y = mean over each window (zero padding counted, as PyTorch's default);  dx = AvgPool2dGrad(g)."""

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride=None, padding=0):
        _check_nchw("avg_pool2d", x)
        settings = _pool_settings("avg_pool2d", kernel_size, stride, padding)
        _pool_out_hw("avg_pool2d", x.shape[2:], settings)
        windows = _windows(_pad_hw(x, settings["padding"]), settings["kernel_size"], settings["stride"], (1, 1))
        ctx.settings = dict(input_size=x.shape[2:], **settings)
        return windows.mean(axis=(-2, -1))

    @staticmethod
    def backward(ctx, grad):
        return (AvgPool2dGrad.call(grad, **ctx.settings),)


class AvgPool2dGrad(Op):
    """dx = g / (KH KW) added to every position of its window (avg_pool2d's input gradient);  dg = avg_pool2d(ggx)."""

    @staticmethod
    def forward(ctx, grad, *, input_size, kernel_size, stride=None, padding=0):
        where = "avg_pool2d_grad"
        _check_nchw(where, grad)
        settings = _pool_settings(where, kernel_size, stride, padding)
        _check_grad(where, grad, (*grad.shape[:2], *_pool_out_hw(where, input_size, settings)))
        kernel, stride, padding = settings["kernel_size"], settings["stride"], settings["padding"]
        share = grad / (kernel[0] * kernel[1])
        ctx.settings = settings
        shape = (*grad.shape[:2], *input_size)
        return _scatter_windows(shape, grad.dtype, padding, kernel, stride, (1, 1), lambda i, j: share)

    @staticmethod
    def backward(ctx, ggx):
        # Zero padding counts in avg_pool2d's mean as it does here, so the two are adjoint.
        return (AvgPool2d.call(ggx, **ctx.settings),)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, NCHW, with PyTorch's arguments; weight is (F, C/groups, KH, KW)."""
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel windows; stride defaults to the kernel size, padding counts as -inf."""
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
