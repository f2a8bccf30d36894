"""Activations: Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus, GELU, SiLU (a composition), Softmax,
LogSoftmax (all overflow-free)."""

import math

import numpy as np

from autograd.op import Op, normalize_axes
from autograd.ops.math import Erfc


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


class Softplus(Op):
    """y = log(1 + exp(beta x)) / beta, x where beta x > threshold;  dx = g * sigmoid(beta x), g there."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        scaled = x * beta
        linear = scaled > threshold
        # max(z, 0) + log1p(exp(-|z|)) is log(1 + exp(z)) without overflow, exact where exp(z) is tiny.
        soft = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / beta
        ctx.save_for_backward(x, linear)
        ctx.beta = beta
        return np.where(linear, x, soft).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, linear = ctx.saved
        return (np.where(linear, grad, grad * Sigmoid.call(x * ctx.beta)),)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_KAPPA = 0.044715  # the cubic term of GELU's tanh approximation (Hendrycks and Gimpel)
GELU_APPROXIMATIONS = ("none", "tanh")


def _gelu_factor(x, approximate: str) -> tuple:
    """(Phi, dPhi/dx): the factor GELU multiplies x by, the normal CDF or its tanh stand-in, and its slope."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _KAPPA * x * x * x))
        return 0.5 * (1 + t), 0.5 * _SQRT_2_OVER_PI * (1 - t * t) * (1 + 3 * _KAPPA * x * x)
    # erfc of -x / sqrt(2), not 1 + erf(x / sqrt(2)): no cancellation for very negative x.
    return 0.5 * Erfc.call(-x * _SQRT_HALF), _INV_SQRT_2PI * np.exp(-0.5 * x * x)


class GELU(Op):
    """y = x Phi(x), Phi the normal CDF (or tanh's approximation of it);  dx = g (Phi(x) + x Phi'(x))."""

    @staticmethod
    def forward(ctx, x, *, approximate="none"):
        if approximate not in GELU_APPROXIMATIONS:
            raise ValueError(f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}")
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        return x * _gelu_factor(x, approximate)[0]

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        cdf, slope = _gelu_factor(x, ctx.approximate)
        return (grad * (cdf + x * slope),)


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


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * input)) / beta, computed without overflow; linear where beta * input > threshold."""
    return Softplus.apply(input, beta=beta, threshold=threshold)


def gelu(input, approximate: str = "none"):
    """input * Phi(input), Phi the standard normal CDF (approximate="tanh": its tanh approximation), as torch.

    >>> round(gelu(np.array(1.0)).item(), 6)
    0.841345
    """
    return GELU.apply(input, approximate=approximate)


def silu(input):
    """input * sigmoid(input) (also called swish): a composition of the two ops."""
    return input * Sigmoid.apply(input)


def softmax(x, dim=-1, *, axis=None):
    """Probabilities along `dim` (numpy's alias: `axis`), from shifted logits so large values cannot overflow."""
    return Softmax.apply(x, axis=dim if axis is None else axis)


def log_softmax(x, dim=-1, *, axis=None):
    """Log-probabilities along `dim` (`axis`: numpy's alias)."""
    return LogSoftmax.apply(x, axis=dim if axis is None else axis)
