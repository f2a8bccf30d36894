"""Elementwise math: Exp, Log, Sqrt, Abs, Clip, Maximum, Minimum, Where, Cast."""

import numpy as np

from autograd.op import Op, elementwise, promote


class Exp(Op):
    """y = exp(x);  dx = g * y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * y,)


class Log(Op):
    """y = log(x);  dx = g / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad / x,)


class Sqrt(Op):
    """y = sqrt(x);  dx = g / (2 y)."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad / (2 * y),)


class Abs(Op):
    """y = |x|;  dx = g * sign(x) (0 at 0 and at NaN, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # numpy's sign of NaN is NaN, PyTorch's (whose gradient this matches) is 0.
        return (grad * np.where(np.isnan(x), 0, np.sign(x)),)


class Clip(Op):
    """y = min(max(x, a_min), a_max);  dx = g where a_min <= x <= a_max, else 0."""

    @staticmethod
    def forward(ctx, x, *, a_min=None, a_max=None):
        if a_min is None and a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given, got neither")
        inside = np.ones(x.shape, dtype=bool)
        if a_min is not None:
            inside &= x >= a_min
        if a_max is not None:
            inside &= x <= a_max
        ctx.save_for_backward(inside)
        return np.clip(x, a_min, a_max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        return (grad * inside,)


class _Choose(Op):
    """Shared by Maximum and Minimum: the chosen input gets the gradient, ties split it, and both
    inputs get all of it where the output is NaN (as PyTorch)."""

    @staticmethod
    def _keep_shares(ctx, y, a_wins, tied):
        """The inputs' shares of the gradient: piecewise constant, so ctx attributes, not differentiated."""
        # Only the share of `a` is kept (one array instead of both inputs); `b` gets the rest...
        ctx.share_a, ctx.share_b = np.where(tied, 0.5, a_wins).astype(y.dtype, copy=False), None
        nan = np.isnan(y)
        if nan.any():
            # ...except at a NaN (from a, b or both), where neither input is smaller and both get it.
            ctx.share_b = np.where(nan, 1, 1 - ctx.share_a).astype(y.dtype, copy=False)
            ctx.share_a[nan] = 1

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share_a, grad * (1 - ctx.share_a if ctx.share_b is None else ctx.share_b)


class Maximum(_Choose):
    """y = max(a, b);  da = g where a > b, db = g where b > a, half each on ties."""

    @staticmethod
    def forward(ctx, a, b):
        y = elementwise("maximum", np.maximum, a, b)
        _Choose._keep_shares(ctx, y, a > b, a == b)
        return y


class Minimum(_Choose):
    """y = min(a, b);  da = g where a < b, db = g where b < a, half each on ties."""

    @staticmethod
    def forward(ctx, a, b):
        y = elementwise("minimum", np.minimum, a, b)
        _Choose._keep_shares(ctx, y, a < b, a == b)
        return y


class Where(Op):
    """y = a where condition else b;  da = g where condition, db = g elsewhere (condition gets none)."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        try:
            return np.where(condition, *promote(a, b))
        except ValueError:
            raise ValueError(
                f"where: condition {np.shape(condition)}, a {np.shape(a)} and b {np.shape(b)} do not broadcast"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved
        _, need_a, need_b = ctx.needs_input_grad
        return (
            None,
            (np.where(condition, grad, 0) if need_a else None),
            (np.where(condition, 0, grad) if need_b else None),
        )


class Cast(Op):
    """y = x converted to dtype;  dx = g converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, *, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return (grad.astype(ctx.dtype),)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):
    return Abs.apply(x)


def clip(x, a_min=None, a_max=None):
    """Limit `x` to [a_min, a_max]; either bound may be None."""
    return Clip.apply(x, a_min=a_min, a_max=a_max)


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def where(condition, a, b):
    """Elements of `a` where `condition` holds, else of `b` (numpy broadcasting); condition gets no gradient."""
    return Where.apply(condition, a, b)


def cast(x, dtype):
    """`x` as `dtype` (numpy's astype); a float result keeps the gradient path."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"cast: dtype must be a numpy dtype or its name, got {dtype!r}") from None
    return Cast.apply(x, dtype=dtype)
