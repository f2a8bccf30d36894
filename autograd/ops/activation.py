"""Activations: Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softmax, LogSoftmax (all overflow-free)."""

import numpy as np

from autograd.op import Op, normalize_axes


class Sigmoid(Op):
    """y = 1 / (1 + exp(-x));  dx = g * y * (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        # exp of -|x| never overflows; the two branches are the same function on either side of 0.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * y * (1 - y),)


class Tanh(Op):
    """y = tanh(x);  dx = g * (1 - y**2)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * (1 - y * y),)


class ReLU(Op):
    """y = max(x, 0);  dx = g where y > 0 or y is NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        # Multiplying by the mask is several times faster than np.where on large arrays. `!= 0`
        # rather than `> 0`: a NaN input is its own output and passes the gradient, as in PyTorch.
        return (grad * np.not_equal(y, 0),)


class LeakyReLU(Op):
    """y = x if x > 0 else slope * x;  dx = g if x > 0 else slope * g."""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = negative_slope
        return np.where(positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved
        return (np.where(positive, grad, grad * ctx.slope),)


class ELU(Op):
    """y = x if x > 0 else alpha (exp(x) - 1);  dx = g if x > 0 else g (y + alpha) (g at NaN, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        positive = ~(x <= 0)  # not `x > 0`: a NaN takes the identity branch and passes g, as in PyTorch
        y = np.where(positive, x, alpha * np.expm1(np.minimum(x, 0)))
        ctx.save_for_backward(positive, y)
        ctx.alpha = alpha
        return y

    @staticmethod
    def backward(ctx, grad):
        positive, y = ctx.saved
        return (np.where(positive, grad, grad * (y + ctx.alpha)),)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class Softmax(Op):
    """y = exp(x) / sum(exp(x));  dx = y * (g - sum(g * y))."""

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        ctx.axis = normalize_axes("softmax", axis, x.ndim)
        y = np.exp(_log_softmax(x, ctx.axis))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (y * (grad - (grad * y).sum(axis=ctx.axis, keepdims=True)),)


class LogSoftmax(Op):
    """y = x - log(sum(exp(x)));  dx = g - exp(y) * sum(g)."""

    @staticmethod
    def forward(ctx, x, *, axis=-1):
        ctx.axis = normalize_axes("log_softmax", axis, x.ndim)
        y = _log_softmax(x, ctx.axis)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad - np.exp(y) * grad.sum(axis=ctx.axis, keepdims=True),)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return ELU.apply(x, alpha=alpha)


def softmax(x, dim=-1, *, axis=None):
    """Probabilities along `dim` (numpy's alias: `axis`), from shifted logits so large values cannot overflow."""
    return Softmax.apply(x, axis=dim if axis is None else axis)


def log_softmax(x, dim=-1, *, axis=None):
    """Log-probabilities along `dim` (`axis`: numpy's alias)."""
    return LogSoftmax.apply(x, axis=dim if axis is None else axis)
