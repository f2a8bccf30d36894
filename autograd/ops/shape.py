"""Shape ops: Expand, Reshape, Transpose, Squeeze, Unsqueeze, GetItem (and its gradient), Concat, Stack, Pad."""

import math

import numpy as np

from autograd.op import Op, as_int, normalize_axes, normalize_axis


class Expand(Op):
    """y = broadcast_to(x, shape);  dx = g (the engine sums it back to x's shape)."""

    @staticmethod
    def forward(ctx, x, *, shape):
        shape = _int_tuple("expand", shape)
        extra = len(shape) - x.ndim
        # -1 keeps the input's size on that axis, as in PyTorch's expand.
        target = tuple(x.shape[i - extra] if n == -1 and i >= extra else n for i, n in enumerate(shape))
        try:
            return np.broadcast_to(x, target)
        except ValueError:
            raise ValueError(f"expand: shape {x.shape} cannot be expanded to {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return (grad,)


class Reshape(Op):
    """y = reshape(x, shape);  dx = reshape(g, x.shape)."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except TypeError:
            _int_tuple("reshape", shape)
            raise
        except ValueError:
            raise ValueError(f"reshape: cannot reshape {x.shape} ({x.size} elements) into {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        return (grad.reshape(ctx.shape),)


class Transpose(Op):
    """y = transpose(x, axes);  dx = transpose(g, inverse(axes))."""

    @staticmethod
    def forward(ctx, x, *, axes=None):
        axes = (
            tuple(range(x.ndim))[::-1] if axes is None else tuple(normalize_axis("transpose", a, x.ndim) for a in axes)
        )
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes must be a permutation of range({x.ndim}), got {axes}")
        ctx.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return (grad.transpose(ctx.inverse),)


class Squeeze(Op):
    """y = squeeze(x, axis);  dx = reshape(g, x.shape)."""

    @staticmethod
    def forward(ctx, x, *, axis=None):
        axes = normalize_axes("squeeze", axis, x.ndim) if axis is not None else None
        for a in axes or ():
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: only axes of size 1 can be removed, got axis {a} of size {x.shape[a]}")
        ctx.shape = x.shape
        return np.squeeze(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return (grad.reshape(ctx.shape),)


class Unsqueeze(Op):
    """y = expand_dims(x, axis);  dx = reshape(g, x.shape)."""

    @staticmethod
    def forward(ctx, x, *, axis):
        ctx.shape = x.shape
        added = len(axis) if isinstance(axis, (tuple, list)) else 1
        return np.expand_dims(x, normalize_axes("unsqueeze", axis, x.ndim + added))

    @staticmethod
    def backward(ctx, grad):
        return (grad.reshape(ctx.shape),)


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


class GetItem(Op):
    """y = x[index];  dx = g scattered back to the indexed places (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.shape, ctx.index = x.shape, index
        try:
            return x[index]
        except IndexError as error:
            raise IndexError(f"getitem: index {index!r} does not fit shape {x.shape}: {error}") from None

    @staticmethod
    def backward(ctx, grad):
        return (GetItemGrad.call(grad, shape=ctx.shape, index=ctx.index),)


class GetItemGrad(Op):
    """y = zeros(shape) with g added at index (getitem's gradient);  dg = gy[index]."""

    @staticmethod
    def forward(ctx, grad, *, shape, index):
        ctx.index = index
        dx = np.zeros(shape, dtype=grad.dtype)
        try:
            if _is_advanced(index):
                np.add.at(dx, index, grad)  # repeated indices accumulate
            else:
                dx[index] = grad
        except (ValueError, IndexError):
            raise ValueError(
                f"getitem_grad: grad must have the shape of x[index] for x of shape {tuple(shape)} and index "
                f"{index!r}, got {grad.shape}"
            ) from None
        return dx

    @staticmethod
    def backward(ctx, grad):
        return (grad[ctx.index],)


class Concat(Op):
    """y = concatenate(xs, axis);  dx_i = the slice of g that x_i filled."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("concat: needs at least one tensor, got none")
        if xs[0].ndim == 0:
            raise ValueError("concat: inputs must have at least 1 dim (stack joins 0-d tensors), got shape ()")
        axis = normalize_axes("concat", axis, xs[0].ndim)[0]
        for x in xs[1:]:
            if x.ndim != xs[0].ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, xs[0].shape)) if i != axis):
                raise ValueError(
                    f"concat: all inputs must have the same shape except along axis {axis}, "
                    f"got {xs[0].shape} and {x.shape}"
                )
        ctx.axis, ctx.bounds = axis, np.cumsum([0] + [x.shape[axis] for x in xs]).tolist()
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        before = (slice(None),) * ctx.axis
        return tuple(grad[(*before, slice(s, e))] for s, e in zip(ctx.bounds[:-1], ctx.bounds[1:]))


class Stack(Op):
    """y = stack(xs, axis);  dx_i = g taken at position i of the new axis."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        if not xs:
            raise ValueError("stack: needs at least one tensor, got none")
        for x in xs[1:]:
            if x.shape != xs[0].shape:
                raise ValueError(f"stack: all inputs must have the same shape, got {xs[0].shape} and {x.shape}")
        ctx.axis = normalize_axis("stack", axis, xs[0].ndim + 1)
        return np.stack(xs, axis=ctx.axis)

    @staticmethod
    def backward(ctx, grad):
        before = (slice(None),) * ctx.axis
        return tuple(grad[(*before, i)] for i in range(grad.shape[ctx.axis]))


class Pad(Op):
    """y = pad(x, pad_width) with zeros;  dx = the unpadded middle of g."""

    @staticmethod
    def forward(ctx, x, *, pad_width):
        try:
            widths = np.asarray(pad_width)
            if widths.dtype.kind not in "iu":
                raise TypeError(f"pad: pad_width must hold ints, got {pad_width!r}")
            widths = np.broadcast_to(widths, (x.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width must be an int, a (before, after) pair or one pair per axis for shape {x.shape}, "
                f"got {pad_width!r}"
            ) from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
        ctx.middle = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths)

    @staticmethod
    def backward(ctx, grad):
        return (grad[ctx.middle],)


def _int_tuple(where: str, shape) -> tuple:
    """`shape` (an int or a sequence of ints) as a tuple of ints, or a TypeError naming `where`."""
    sizes = tuple(shape) if isinstance(shape, (tuple, list, np.ndarray)) else (shape,)
    return tuple(as_int(where, "shape", n, expected="an int or a tuple of ints", got=shape) for n in sizes)


def expand(x, shape):
    """Broadcast `x` to `shape` (-1 keeps a size), as numpy's broadcast_to."""
    return Expand.apply(x, shape=shape)


def reshape(x, shape):
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge the axes start_dim..end_dim into one, as torch.flatten (a 0-d tensor becomes shape (1,)).

    >>> flatten(np.zeros((0, 3, 4)), 1).shape
    (0, 12)
    """
    shape = tuple(np.shape(x))
    start = normalize_axis("flatten", start_dim, len(shape), "start_dim")
    end = normalize_axis("flatten", end_dim, len(shape), "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim must not come after end_dim, got {start_dim} and {end_dim}")
    # The size is a product, not -1: numpy cannot infer -1 when another axis is 0 (an empty batch).
    return Reshape.apply(x, shape=shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def transpose(x, dim0=None, dim1=None, *, axes=None):
    """`x` with dims `dim0` and `dim1` swapped, as torch.transpose.

    numpy's form stays where it does not conflict: one tuple (or `axes=`) permutes the axes, none reverses them.

    >>> transpose(np.zeros((2, 3)), 0, 1).shape, transpose(np.zeros((2, 3, 4)), (2, 0, 1)).shape
    ((3, 2), (4, 2, 3))
    """
    if dim1 is None:
        return Transpose.apply(x, axes=dim0 if axes is None else axes)
    return swapaxes(x, normalize_axis("transpose", dim0, np.ndim(x), "dim0"), dim1)


def permute(x, *dims):
    """`x` with its dims reordered (`dims` as varargs or one tuple), as torch.permute."""
    return Transpose.apply(x, axes=tuple(dims[0] if len(dims) == 1 and not np.isscalar(dims[0]) else dims))


def swapaxes(x, axis1: int, axis2: int):
    """`x` with two axes exchanged, as numpy's swapaxes."""
    axes = list(range(np.ndim(x)))
    axis1, axis2 = (normalize_axis("transpose", a, len(axes), "dim") for a in (axis1, axis2))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return Transpose.apply(x, axes=tuple(axes))


def squeeze(x, dim=None, *, axis=None):
    """`x` without its dims of size 1 (only `dim`, an int or a tuple, if given), as torch.squeeze.

    A given dim whose size is not 1 is left in place, as PyTorch does (numpy's squeeze raises).
    """
    dim = axis if dim is None else dim
    if dim is None:
        return Squeeze.apply(x, axis=None)
    shape = np.shape(x)
    dims = normalize_axes("squeeze", dim, len(shape))
    return Squeeze.apply(x, axis=tuple(d for d in dims if shape[d] == 1))


def unsqueeze(x, dim=None, *, axis=None):
    """`x` with a dim of size 1 inserted at `dim`, as torch.unsqueeze."""
    dim = axis if dim is None else dim
    if dim is None:
        raise TypeError("unsqueeze: missing the dim to insert")
    return Unsqueeze.apply(x, axis=dim)


def _unwrap_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(p.value if hasattr(p, "_version") else p for p in parts)
    return parts if isinstance(index, tuple) else parts[0]


def getitem(x, index):
    """x[index] with basic slicing and integer or boolean array indexing."""
    return GetItem.apply(x, index=_unwrap_index(index))


def concat(tensors, axis=0):
    return Concat.apply(*tensors, axis=axis)


def cat(tensors, dim: int = 0):
    """torch.cat: `concat` under PyTorch's name and argument name."""
    return Concat.apply(*tensors, axis=dim)


def stack(tensors, axis=0):
    return Stack.apply(*tensors, axis=axis)


def pad(x, pad_width):
    """Zero padding with numpy's pad_width forms: n, (before, after), or one pair per axis."""
    return Pad.apply(x, pad_width=pad_width)
