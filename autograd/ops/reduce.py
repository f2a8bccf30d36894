"""Reductions with numpy's semantics: Sum, Mean, Max, Min, Var (axis: None, int or tuple; keepdims)."""

import numpy as np

from autograd.op import Op, normalize_axes


def _keepdims_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(grad, ctx):
    """The output gradient laid back over the reduced axes (a broadcast view, not a copy)."""
    return np.broadcast_to(grad.reshape(ctx.kept_shape), ctx.shape)


class Sum(Op):
    """y = sum(x, axis);  dx = g spread over the summed axes."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = normalize_axes("sum", axis, x.ndim)
        ctx.shape, ctx.kept_shape = x.shape, _keepdims_shape(x.shape, axes)
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return (_spread(grad, ctx),)


class Mean(Op):
    """y = mean(x, axis);  dx = g / n spread over the averaged axes."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        axes = normalize_axes("mean", axis, x.ndim)
        ctx.shape, ctx.kept_shape = x.shape, _keepdims_shape(x.shape, axes)
        # `or 1`: an empty reduction has an empty gradient, and must not divide by zero on the way.
        ctx.count = int(np.prod([x.shape[a] for a in axes])) or 1
        return x.mean(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return (_spread(grad / ctx.count, ctx),)


class _Extremum(Op):
    """Shared by Max and Min: the gradient is split evenly between tied extremes (like torch.amax)."""

    reduce = None

    @classmethod
    def _forward(cls, where, ctx, x, axis, keepdims):
        axes = normalize_axes(where, axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{where}: cannot reduce an empty tensor of shape {x.shape}")
        ctx.shape, ctx.kept_shape = x.shape, _keepdims_shape(x.shape, axes)
        y = cls.reduce(x, axis=axes, keepdims=True)
        hits = x == y
        ctx.save_for_backward(hits, hits.sum(axis=axes, keepdims=True))
        return y if keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        hits, counts = ctx.saved
        return (hits * (grad.reshape(ctx.kept_shape) / counts),)


class Max(_Extremum):
    """y = max(x, axis);  dx = g at the maxima (split evenly on ties)."""

    reduce = staticmethod(np.max)

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        return Max._forward("max", ctx, x, axis, keepdims)


class Min(_Extremum):
    """y = min(x, axis);  dx = g at the minima (split evenly on ties)."""

    reduce = staticmethod(np.min)

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        return Min._forward("min", ctx, x, axis, keepdims)


class Var(Op):
    """y = sum((x - mean)^2) / (n - ddof);  dx = g * 2 (x - mean) / (n - ddof)."""

    @staticmethod
    def forward(ctx, x, *, axis=None, ddof=0, keepdims=False):
        axes = normalize_axes("var", axis, x.ndim)
        count = int(np.prod([x.shape[a] for a in axes]))
        if count - ddof <= 0:
            raise ValueError(f"var: needs more than ddof={ddof} elements along the axes {axes}, got {count}")
        centered = _centered(x, axes)
        ctx.save_for_backward(x)
        ctx.axes, ctx.kept_shape, ctx.divisor = axes, _keepdims_shape(x.shape, axes), count - ddof
        return (centered * centered).sum(axis=axes, keepdims=keepdims) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad.reshape(ctx.kept_shape) * (2 / ctx.divisor) * _centered(x, ctx.axes),)


def _centered(x, axes):
    """x minus its mean over `axes`: computed again in backward, where it depends on x for higher orders."""
    return x - x.mean(axis=axes, keepdims=True)


def sum(x, axis=None, keepdims=False):
    """Sum over `axis` (None: all axes)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """The maximum values over `axis` (values only; use `.argmax` for indices)."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    return Min.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance over `axis`, dividing by n - ddof (ddof=0: the biased estimate, as numpy)."""
    return Var.apply(x, axis=axis, ddof=ddof, keepdims=keepdims)
