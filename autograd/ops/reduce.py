"""Reductions with numpy's semantics: Sum, Mean, Max, Min, Var (axis: None, int or tuple; keepdims), LogSumExp,
and the scan Cumsum.

Sums of float32 (and float16) run in float64 and return the input's dtype. numpy adds an axis that is
not the innermost in memory (axis 0 of a C-order array) one row at a time into a running total of the
input's dtype, without its pairwise summation: at float32, the mean of 1e5 values near 1e4 comes out
several units off. `centered_moments` is the one place that computes a mean and a variance from data.
"""

import numpy as np

from autograd.op import Op, normalize_axes, normalize_axis


def accumulator(dtype: np.dtype) -> np.dtype | None:
    """The dtype to accumulate sums of `dtype` in: float64 for narrower floats, None (numpy's own) otherwise."""
    return np.dtype(np.float64) if dtype.kind == "f" and dtype.itemsize < 8 else None


def _as_input(y, x):
    """y, accumulated wide, back in x's dtype when x is a float (numpy's mean of integers stays float64)."""
    # asarray, not astype: astype on the numpy scalar of a full reduction keeps memory (numpy 2.4:
    # kilobytes over a thousand training steps, what test_memory catches).
    return np.asarray(y, dtype=x.dtype) if x.dtype.kind == "f" else y


def accurate_sum(x: np.ndarray, axis=None, keepdims: bool = False):
    """x.sum(axis) accumulated in float64 for float32 and float16 input, returned in x's dtype.

    >>> accurate_sum(np.full((100_000, 2), 1e4, np.float32), axis=0).tolist()  # numpy 2.4's x.sum: 998829504.0
    [1000000000.0, 1000000000.0]
    """
    return _as_input(x.sum(axis=axis, dtype=accumulator(x.dtype), keepdims=keepdims), x)


def wide_mean(x: np.ndarray, axes: tuple, keepdims: bool = True):
    """The mean over `axes`, accumulated in float64 for narrower floats; NaN without a warning over nothing."""
    count = int(np.prod([x.shape[a] for a in axes]))
    total = np.sum(x, axis=axes, dtype=accumulator(x.dtype), keepdims=keepdims)
    with np.errstate(invalid="ignore"):  # the mean of nothing is NaN, as in PyTorch
        return np.true_divide(total, count)


def centered_moments(x: np.ndarray, axes: tuple, ddof: int = 0) -> tuple:
    """(x - mean, mean, rounding, var) over `axes`, dims kept, in x's dtype; var divides by n - ddof.

    Two passes with float64 sums: the mean first, then the squared deviations from it, so values far
    from zero lose nothing to cancellation. `mean` is the mean rounded to x's dtype, so `x - mean`
    cancels exactly; `rounding` (None for float64 and integers, where there is none) is what the
    rounding took off, to be subtracted from `x - mean` afterwards for the deviations from the exact
    mean. It also adds n * rounding**2 to the sum of squares, which is taken off again (the corrected
    two-pass algorithm of Chan, Golub and LeVeque, without its extra pass).
    """
    wide = accumulator(x.dtype)
    count = int(np.prod([x.shape[a] for a in axes]))
    exact_mean = wide_mean(x, axes)
    mean = _as_input(exact_mean, x)
    centered = x - mean
    squares = (centered * centered).sum(axis=axes, dtype=wide, keepdims=True)
    rounding = exact_mean - mean
    var = _as_input((squares - count * rounding * rounding) / (count - ddof), x)
    return centered, mean, (None if wide is None else rounding.astype(x.dtype)), var


def moments(x: np.ndarray, axes: tuple, ddof: int = 0, keepdims: bool = False) -> tuple:
    """Mean and variance (divided by n - ddof) of `x` over `axes`, in x's dtype, accurate for float32.

    >>> x = (1e4 + np.arange(100_000) % 2 / 2).astype(np.float32)  # 1e4 and 1e4 + 0.5, alternating
    >>> [v.item() for v in moments(x, (0,))]
    [10000.25, 0.0625]
    """
    _, mean, _, var = centered_moments(x, axes, ddof)
    if keepdims:
        return mean, var
    reduced = tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return mean.reshape(reduced), var.reshape(reduced)


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
        return accurate_sum(x, axes, keepdims)

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
        return _as_input(wide_mean(x, axes, keepdims), x)

    @staticmethod
    def backward(ctx, grad):
        return (_spread(grad / ctx.count, ctx),)


class _Extremum(Op):
    """Shared by Max and Min: the gradient is split evenly between tied extremes (like torch.amax)."""

    reduce = None

    @classmethod
    def _forward(cls, where, ctx, x, axis, keepdims):
        axes = normalize_axes(where, axis, x.ndim)
        if any(x.shape[a] == 0 for a in axes):
            # PyTorch's rule too: an empty axis has no extreme, but a reduction along full axes of an
            # empty tensor is an empty result.
            raise ValueError(f"{where}: cannot reduce over an empty axis, got shape {x.shape} and axes {axes}")
        ctx.shape, ctx.kept_shape = x.shape, _keepdims_shape(x.shape, axes)
        y = cls.reduce(x, axis=axes, keepdims=True)
        hits = x == y
        if np.isnan(y).any():
            # numpy's max and min propagate NaN: the NaNs are the extremes and share the gradient
            # (as torch.max() over all elements), where `==` would give it to no element at all.
            hits |= np.isnan(x)
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
        kept = int(np.prod([n for i, n in enumerate(x.shape) if i not in axes]))
        if count - ddof <= 0 and kept:  # (PyTorch warns and returns NaN or inf; an empty result has no values)
            raise ValueError(f"var: needs more than ddof={ddof} elements along the axes {axes}, got {count}")
        ctx.save_for_backward(x)
        # 1 when count <= ddof: then the result is empty, and so is its gradient.
        ctx.axes, ctx.kept_shape, ctx.divisor = (
            axes,
            _keepdims_shape(x.shape, axes),
            count - ddof if count > ddof else 1,
        )
        return moments(x, axes, ddof, keepdims)[1]

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad.reshape(ctx.kept_shape) * (2 / ctx.divisor) * _centered(x, ctx.axes),)


class LogSumExp(Op):
    """y = m + log(sum(exp(x - m))), m = max(x) over axis;  dx = g * exp(x - y)."""

    @staticmethod
    def forward(ctx, x, *, axis, keepdims=False):
        axes = normalize_axes("logsumexp", axis, x.ndim)
        ctx.kept_shape = _keepdims_shape(x.shape, axes)
        peak = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        # Shifting by an infinite maximum would give inf - inf; an empty sum keeps its -inf, as in PyTorch.
        shift = np.where(np.isinf(peak), 0, peak).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):  # log(0) = -inf: the sum over nothing, or of exp(-inf)s
            y = np.log(accurate_sum(np.exp(x - shift), axes, keepdims=True)) + shift
        y = y if keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in axes])
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        return (grad.reshape(ctx.kept_shape) * np.exp(x - y.reshape(ctx.kept_shape)),)


class Cumsum(Op):
    """y_i = sum of x_j for j <= i along axis (j >= i if reverse);  dx = the cumulative sum of g the other way."""

    @staticmethod
    def forward(ctx, x, *, axis, reverse=False):
        ctx.axis, ctx.reverse = normalize_axis("cumsum", axis, x.ndim), reverse
        lined = x.reshape(x.shape or (1,))  # a 0-d tensor is its own cumulative sum, as in PyTorch
        y = np.cumsum(np.flip(lined, ctx.axis) if reverse else lined, axis=ctx.axis, dtype=accumulator(x.dtype))
        y = np.ascontiguousarray(np.flip(y, ctx.axis) if reverse else y)
        return _as_input(y, x).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        return (Cumsum.call(grad, axis=ctx.axis, reverse=not ctx.reverse),)


def _centered(x, axes):
    """x minus its mean over `axes`: computed in backward, where it depends on x for higher orders."""
    return x - Mean.call(x, axis=axes, keepdims=True)


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


def logsumexp(input, dim, keepdim: bool = False):
    """log(sum(exp(input))) over `dim` (an int or a tuple), computed without overflow, as torch.logsumexp.

    >>> round(logsumexp(np.array([1000.0, 1000.0]), 0).item(), 4)
    1000.6931
    """
    return LogSumExp.apply(input, axis=dim, keepdims=keepdim)


def cumsum(input, dim: int):
    """Cumulative sums along `dim`, as torch.cumsum (float32 accumulates in float64).

    >>> cumsum(np.array([1.0, 2.0, 3.0]), 0).value.tolist()
    [1.0, 3.0, 6.0]
    """
    return Cumsum.apply(input, axis=dim)
