"""Normalization and regularization: BatchNorm (training and evaluation semantics of PyTorch), LayerNorm and
Dropout."""

import numpy as np

from autograd.op import Op, as_int
from autograd.ops.reduce import Mean, Sum, Var, accumulator, centered_moments
from autograd.random import generator
from autograd.tensor import TensorNode


def _check_floating(where: str, x: np.ndarray) -> None:
    # As PyTorch, which refuses integer input here: the scale 1 / (1 - p) or running statistics cast
    # to the input's dtype would be truncated silently.
    if x.dtype.kind != "f":
        raise TypeError(f"{where}: input must be a floating-point tensor, got dtype {x.dtype}")


def _channel_axes(where: str, x: np.ndarray) -> tuple:
    if x.ndim < 2:
        raise ValueError(f"{where}: input must have at least 2 dims (N, C, ...), got shape {x.shape}")
    return (0,) + tuple(range(2, x.ndim))


class BatchNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * w + b over every axis but 1;  dx through the batch statistics."""

    @staticmethod
    def forward(
        ctx, x, weight=None, bias=None, *, running_mean=None, running_var=None, training=False, momentum=0.1, eps=1e-5
    ):
        _check_floating("batch_norm", x)
        axes = _channel_axes("batch_norm", x)
        channels = x.shape[1]
        for name, array in (
            ("weight", weight),
            ("bias", bias),
            ("running_mean", running_mean),
            ("running_var", running_var),
        ):
            if array is not None and np.shape(array) != (channels,):
                raise ValueError(
                    f"batch_norm: {name} must have shape ({channels},) for input {x.shape}, got {np.shape(array)}"
                )
        per_channel = (1, channels) + (1,) * (x.ndim - 2)
        count = x.size // channels
        if training:
            if count < 2:
                raise ValueError(f"batch_norm: training needs more than 1 value per channel, got input shape {x.shape}")
            centered, mean, rounding, var = centered_moments(x, axes)
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(channels)
            if running_var is not None:
                # The running estimate is unbiased, as in PyTorch, while normalization uses the batch's own.
                running_var *= 1 - momentum
                running_var += momentum * count / (count - 1) * var.reshape(channels)
        else:
            if running_mean is None or running_var is None:
                raise ValueError("batch_norm: running_mean and running_var are required when training=False")
            # Copies in x's dtype: later steps change the running statistics in place.
            mean, var = (s.astype(x.dtype).reshape(per_channel) for s in (running_mean, running_var))
            centered, rounding = x - mean, None
        x_hat, _ = _normalize(centered, rounding, var, eps)
        ctx.save_for_backward(x, weight)
        ctx.statistics = (mean, rounding, var)
        ctx.axes, ctx.per_channel, ctx.count, ctx.training, ctx.eps = axes, per_channel, count, training, eps
        y = x_hat if weight is None else x_hat * weight.reshape(per_channel)
        return y if bias is None else y + bias.reshape(per_channel)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        axes = ctx.axes
        need_x, need_w, need_b = ctx.needs_input_grad
        # Under create_graph x is a tensor, and the batch statistics, functions of x, are differentiated too.
        statistics = _batch_statistics(x, axes) if ctx.training and isinstance(x, TensorNode) else ctx.statistics
        mean, rounding, var = statistics
        x_hat, inv_std = _normalize(x - mean, rounding, var, ctx.eps)
        scale = inv_std if weight is None else inv_std * weight.reshape(ctx.per_channel)
        if not (ctx.training or need_w or need_b):
            return grad * scale, None, None
        # Two per-channel sums serve all three gradients (Sum: float64 running sums for float32 input).
        g_sum = Sum.call(grad, axis=axes, keepdims=True)
        gx_sum = Sum.call(grad * x_hat, axis=axes, keepdims=True)
        dx = None
        if need_x and ctx.training:
            dx = _through_statistics(scale, grad, g_sum / ctx.count, gx_sum / ctx.count, x_hat)
        elif need_x:
            dx = grad * scale
        return dx, (gx_sum.reshape(-1) if need_w else None), (g_sum.reshape(-1) if need_b else None)


def _through_statistics(scale, g, g_mean, gx_mean, x_hat):
    """dx of a normalization, x_hat = (x - mean) / std over some axes, given g = dL/dx_hat's means there:
    scale (1/std, times a weight constant over those axes) * (g - mean(g) - x_hat * mean(g * x_hat)).

    The mean and variance depend on x too: the two subtracted terms project out their two directions.
    """
    return scale * (g - g_mean - x_hat * gx_mean)


def _batch_statistics(x, axes):
    """centered_moments' mean, rounding and variance of the tensor x, as recorded ops (for create_graph)."""
    mean = Mean.apply(x, axis=axes, keepdims=True)
    # The mean of x - mean is the rounding of the mean: 0 but for it, so its derivative is 0 too.
    rounding = Mean.apply(x - mean, axis=axes, keepdims=True) if accumulator(x.dtype) else None
    return mean, rounding, Var.apply(x, axis=axes, keepdims=True)


def _normalize(centered, rounding, var, eps):
    """(centered - rounding) / sqrt(var + eps), and 1 / sqrt(var + eps).

    `centered` is x minus its mean rounded to x's dtype, and `rounding` (None: no rounding) the rest
    of the mean, taken off after that cancellation, where it is exact. Without it x_hat would be off by
    up to half a unit in the last place of the mean over the standard deviation, all alike, and dw,
    the sum of g * x_hat over the batch, off by n times that.
    """
    inv_std = 1 / np.sqrt(var + eps)
    return (centered if rounding is None else centered - rounding) * inv_std, inv_std


class LayerNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last dims;  dx through the statistics, as BatchNorm's."""

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, *, normalized_shape, eps=1e-5):
        _check_floating("layer_norm", x)
        shape, k = tuple(normalized_shape), len(normalized_shape)
        if k > x.ndim or x.shape[x.ndim - k :] != shape:
            raise ValueError(f"layer_norm: input must end in normalized_shape {shape}, got shape {x.shape}")
        for name, array in (("weight", weight), ("bias", bias)):
            if array is not None and array.shape != shape:
                raise ValueError(f"layer_norm: {name} must have normalized_shape {shape}, got {array.shape}")
        axes = tuple(range(x.ndim - k, x.ndim))
        centered, mean, rounding, var = centered_moments(x, axes)
        x_hat, _ = _normalize(centered, rounding, var, eps)
        ctx.save_for_backward(x, weight)
        ctx.statistics = (mean, rounding, var)
        ctx.axes, ctx.outer, ctx.eps = axes, tuple(range(x.ndim - k)), eps
        y = x_hat if weight is None else x_hat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        # Under create_graph x is a tensor, and its statistics, functions of x, are differentiated too.
        mean, rounding, var = _batch_statistics(x, ctx.axes) if isinstance(x, TensorNode) else ctx.statistics
        x_hat, inv_std = _normalize(x - mean, rounding, var, ctx.eps)
        dw = Sum.call(grad * x_hat, axis=ctx.outer) if need_w else None
        db = Sum.call(grad, axis=ctx.outer) if need_b else None
        dx = None
        if need_x:
            g_hat = grad if weight is None else grad * weight  # w varies along the normalized axes: inside
            g_mean = Mean.call(g_hat, axis=ctx.axes, keepdims=True)
            gx_mean = Mean.call(g_hat * x_hat, axis=ctx.axes, keepdims=True)
            dx = _through_statistics(inv_std, g_hat, g_mean, gx_mean, x_hat)
        return dx, dw, db


class Dropout(Op):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p);  dx = g * mask / (1 - p)."""

    @staticmethod
    def forward(ctx, x, *, p=0.5):
        keep = 1.0 - p
        if keep != 0:  # p == 1 zeroes everything, in any dtype (PyTorch allows it too)
            _check_floating("dropout", x)
        scale = np.zeros((), x.dtype) if keep == 0 else np.asarray(1.0 / keep, x.dtype)
        mask = (generator().random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32) < keep) * scale
        ctx.mask = mask  # a constant of the graph, not a function of x: an attribute, not saved
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return (grad * ctx.mask,)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization with PyTorch's functional signature.

    In training it normalizes with the batch statistics and updates `running_mean` / `running_var`
    (ndarrays, changed in place) by `momentum`; in evaluation it uses the running statistics.
    """
    running_mean = getattr(running_mean, "value", running_mean)
    running_var = getattr(running_var, "value", running_var)
    return BatchNorm.apply(
        x,
        weight,
        bias,
        running_mean=running_mean,
        running_var=running_var,
        training=training,
        momentum=momentum,
        eps=eps,
    )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Layer normalization over the last len(normalized_shape) dims, as torch.nn.functional.layer_norm.

    Fused: float32 statistics accumulate in float64, as batch_norm's.

    >>> round(layer_norm(np.array([[1.0, 3.0]]), 2).value[0, 1].item(), 4)
    1.0
    """
    sizes = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    expected = "an int or a tuple of ints >= 1"
    shape = tuple(as_int("layer_norm", "normalized_shape", n, 1, expected, normalized_shape) for n in sizes)
    return LayerNorm.apply(input, weight, bias, normalized_shape=shape, eps=eps)


def check_probability(where: str, p) -> None:
    """A dropout probability: TypeError naming `where` for anything but a real number, ValueError outside [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: p must be a number in [0, 1], got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{where}: p must lie in [0, 1], got {p}")


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability `p`, scale the rest by 1/(1-p).

    Returns `x` itself when not training or when p == 0.
    """
    check_probability("dropout", p)
    if not training or p == 0.0:
        return x
    return Dropout.apply(x, p=p)
