"""Reductions: Sum, Mean, Max, Min, Var, LogSumExp and the scan Cumsum, and their functions with PyTorch's
signatures (dim, keepdim; numpy's axis and keepdims are aliases), max/min over a dim giving (values,
indices), argmax, argmin.

Sums of float32 (and float16) run in float64 and return the input's dtype. numpy adds an axis that is
not the innermost in memory (axis 0 of a C-order array) one row at a time into a running total of the
input's dtype, without its pairwise summation: at float32, the mean of 1e5 values near 1e4 comes out
several units off. `centered_moments` is the one place that computes a mean and a variance from data.
"""

from typing import Any, NamedTuple

import numpy as np

from autograd.op import Op, normalize_axes, normalize_axis
from autograd.ops.math import Cast, Maximum, Minimum, Sqrt
from autograd.tensor import TensorNode


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


def wide_mean(x: np.ndarray, axes: tuple, count: int, keepdims: bool = True):
    """The mean over `axes` (`count` elements each), accumulated in float64 for narrower floats; NaN without a
    warning over nothing."""
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
    exact_mean = wide_mean(x, axes, count)
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
        count = int(np.prod([x.shape[a] for a in axes]))
        # `or 1`: an empty reduction has an empty gradient, and must not divide by zero on the way.
        ctx.count = count or 1
        return _as_input(wide_mean(x, axes, count, keepdims), x)

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


class ValuesIndices(NamedTuple):
    """What `max` and `min` over a dim return, as torch.return_types.max: unpack it or read its fields."""

    values: Any
    indices: Any


def dim_alias(where: str, dim, axis):
    """`dim`, or numpy's spelling `axis` of it (not both)."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{where}: pass dim or its numpy alias axis, not both, got dim={dim!r} and axis={axis!r}")
    return axis


def keepdim_alias(keepdim: bool, keepdims) -> bool:
    """`keepdim`, or numpy's spelling `keepdims` of it."""
    return bool(keepdim if keepdims is None else keepdims)


def sum(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum over `dim` (None: all dims; an int or a tuple), as torch.sum; `axis`/`keepdims` are numpy's aliases.

    >>> sum(np.ones((2, 3)), 1).value.tolist()
    [3.0, 3.0]
    """
    x = x if dtype is None else Cast.call(x, dtype=np.dtype(dtype))
    return Sum.apply(x, axis=dim_alias("sum", dim, axis), keepdims=keepdim_alias(keepdim, keepdims))


def mean(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Mean over `dim` (None: all dims), as torch.mean."""
    x = x if dtype is None else Cast.call(x, dtype=np.dtype(dtype))
    return Mean.apply(x, axis=dim_alias("mean", dim, axis), keepdims=keepdim_alias(keepdim, keepdims))


def _extremum(where, op, arg, x, dim, keepdim, axis, keepdims):
    """torch.max / torch.min: over everything a 0-d value; over one dim (values, indices)."""
    dim, keep = dim_alias(where, dim, axis), keepdim_alias(keepdim, keepdims)
    if dim is None:
        return op.apply(x, axis=None, keepdims=keep)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{where}: dim must be one int (amax/amin take several), got {dim!r}")
    return ValuesIndices(op.apply(x, axis=dim, keepdims=keep), arg(x, dim, keep))


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """As torch.max: the largest value; over `dim` a (values, indices) named tuple; with a tensor, `maximum`.

    Ties share the gradient evenly (PyTorch gives it to the index it returns when a dim is given).

    >>> values, indices = max(np.array([[1.0, 3.0], [4.0, 2.0]]), 1)
    >>> values.value.tolist(), indices.value.tolist()
    ([3.0, 4.0], [1, 0])
    """
    if hasattr(dim, "shape") and not isinstance(dim, np.integer):
        return Maximum.apply(x, dim)
    return _extremum("max", Max, argmax, x, dim, keepdim, axis, keepdims)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """As torch.min: the smallest value; over `dim` a (values, indices) named tuple; with a tensor, `minimum`."""
    if hasattr(dim, "shape") and not isinstance(dim, np.integer):
        return Minimum.apply(x, dim)
    return _extremum("min", Min, argmin, x, dim, keepdim, axis, keepdims)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The maximum values over `dim` (an int or a tuple; None: all), as torch.amax; ties share the gradient."""
    return Max.apply(x, axis=dim_alias("amax", dim, axis), keepdims=keepdim_alias(keepdim, keepdims))


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The minimum values over `dim` (an int or a tuple; None: all), as torch.amin."""
    return Min.apply(x, axis=dim_alias("amin", dim, axis), keepdims=keepdim_alias(keepdim, keepdims))


def _arg(where, fn, x, dim, keepdim, axis, keepdims):
    array = np.asarray(getattr(x, "_value", x))
    dim, keep = dim_alias(where, dim, axis), keepdim_alias(keepdim, keepdims)
    if dim is None:
        index = fn(array.reshape(-1))
        return TensorNode(np.full((1,) * array.ndim if keep else (), index, dtype=np.int64))
    axis = normalize_axis(where, dim, array.ndim, "dim")
    if array.ndim == 0:
        return TensorNode(np.zeros((), np.int64))
    return TensorNode(fn(array, axis=axis, keepdims=keep).astype(np.int64, copy=False))


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Indices of the maxima over `dim` (None: into the flattened tensor), an int64 TensorNode without gradient.

    >>> argmax(np.array([[1.0, 3.0], [4.0, 2.0]]), dim=1).value.tolist()
    [1, 0]
    """
    return _arg("argmax", np.argmax, x, dim, keepdim, axis, keepdims)


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Indices of the minima over `dim`, an int64 TensorNode without gradient."""
    return _arg("argmin", np.argmin, x, dim, keepdim, axis, keepdims)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, ddof=None, keepdims=None):
    """Variance over `dim`, as torch.var: divides by n - correction, correction=1 (unbiased) by default.

    `unbiased=False` is correction 0; numpy's `ddof` is an alias of `correction` (numpy's default, 0,
    is not ours: pass ddof=0 or correction=0 for the biased estimate).

    >>> var(np.array([1.0, 2.0, 3.0])).item(), var(np.array([1.0, 2.0, 3.0]), correction=0).item()
    (1.0, 0.6666666666666666)
    """
    if isinstance(dim, bool):  # torch.var(x, unbiased)
        dim, unbiased = None, dim
    given = [c for c in (correction, ddof, None if unbiased is None else int(bool(unbiased))) if c is not None]
    if len(given) > 1:
        raise TypeError(f"var: pass one of unbiased, correction and ddof, got {len(given)}")
    dim, keep = dim_alias("var", dim, axis), keepdim_alias(keepdim, keepdims)
    return Var.apply(x, axis=dim, ddof=given[0] if given else 1, keepdims=keep)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, ddof=None, keepdims=None):
    """Standard deviation over `dim`, as torch.std (correction=1 by default): the square root of `var`."""
    return Sqrt.apply(var(x, dim, unbiased, keepdim, correction=correction, axis=axis, ddof=ddof, keepdims=keepdims))


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
