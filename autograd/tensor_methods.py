"""TensorMethods: TensorNode's PyTorch surface (operators, comparisons, reductions, shapes, conversions).

Each method follows torch.Tensor's signature and meaning and calls the engine's op function; numpy's
spellings (`axis=`, `keepdims=`, `astype`, a permutation tuple for `transpose`) stay accepted where they
do not conflict. In-place methods (`add_`, `+=`, ...) live in autograd/inplace.py.

>>> import autograd as ag
>>> x = ag.tensor([[1.0, 5.0], [4.0, 2.0]])
>>> values, indices = x.max(dim=1)
>>> (x > 2).tolist(), indices.tolist(), x.transpose(0, 1).tolist()
([[False, True], [True, False]], [1, 0], [[1.0, 4.0], [5.0, 2.0]])
"""

import numpy as np

from autograd import dtypes
from autograd.inplace import InPlaceMethods
from autograd.tensor_math import MathMethods

# The op functions import TensorNode, which inherits from this class: autograd/tensor.py sets these
# four once it has defined TensorNode.
ops = numpy_api = compare = normalize_axis = None


def _sizes(shape: tuple) -> tuple:
    """torch's `f(*sizes)` or `f(sizes)`: varargs or one sequence."""
    return tuple(shape[0]) if len(shape) == 1 and not np.isscalar(shape[0]) else tuple(shape)


class Size(tuple):
    """A tensor's shape, as torch.Size: a tuple that also counts its elements."""

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self) -> str:
        return f"Size({list(self)})"


class TensorMethods(InPlaceMethods, MathMethods):
    """PyTorch's tensor methods, mixed into TensorNode (whose `_value` they read)."""

    __slots__ = ()

    # Tensors key dicts and sets by identity (optimizer state, parameter groups), as in PyTorch,
    # while `==` compares element-wise: use `is` to ask whether two names hold the same tensor.
    __hash__ = object.__hash__

    # ----- arithmetic operators -----
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __abs__(self):
        return ops.abs(self)

    def add(self, other, *, alpha=1):
        return ops.add(self, other if alpha == 1 else ops.mul(other, alpha))

    def sub(self, other, *, alpha=1):
        return ops.sub(self, other if alpha == 1 else ops.mul(other, alpha))

    def mul(self, other):
        return ops.mul(self, other)

    def div(self, other):
        return ops.div(self, other)

    def pow(self, exponent):
        return ops.pow(self, exponent)

    def matmul(self, other):
        return ops.matmul(self, other)

    def neg(self):
        return ops.neg(self)

    # ----- comparisons: bool tensors without gradient (autograd/ops/compare.py) -----
    def __eq__(self, other):
        return compare.eq(self, other)

    def __ne__(self, other):
        return compare.ne(self, other)

    def __lt__(self, other):
        return compare.lt(self, other)

    def __le__(self, other):
        return compare.le(self, other)

    def __gt__(self, other):
        return compare.gt(self, other)

    def __ge__(self, other):
        return compare.ge(self, other)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __and__(self, other):
        return numpy_api.constant(np.bitwise_and, self, other)

    def __or__(self, other):
        return numpy_api.constant(np.bitwise_or, self, other)

    def __xor__(self, other):
        return numpy_api.constant(np.bitwise_xor, self, other)

    def __invert__(self):
        return numpy_api.constant(np.invert, self)

    def equal(self, other) -> bool:
        """True when `other` has this shape and the same values, as torch.equal."""
        other = getattr(other, "_value", other)
        return self._value.shape == np.shape(other) and bool(np.all(self._value == other))

    # ----- reductions (dim / keepdim; numpy's axis / keepdims too) -----
    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return ops.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        return ops.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Indices of the maxima: an int64 tensor without gradient."""
        return ops.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, ddof=None, keepdims=None):
        """Variance, divided by n - 1 unless `correction`/`unbiased` say otherwise (torch's default)."""
        return ops.var(self, dim, unbiased, keepdim, correction=correction, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, ddof=None, keepdims=None):
        return ops.std(self, dim, unbiased, keepdim, correction=correction, axis=axis, ddof=ddof, keepdims=keepdims)

    def softmax(self, dim=-1, *, axis=None):
        return ops.softmax(self, dim, axis=axis)

    def log_softmax(self, dim=-1, *, axis=None):
        return ops.log_softmax(self, dim, axis=axis)

    # ----- shapes -----
    def size(self, dim=None):
        """The shape (a Size, a tuple), or the size of `dim`, as torch's `size()` (numpy's `.size` is `numel()`)."""
        if dim is None:
            return Size(self._value.shape)
        return self._value.shape[normalize_axis("size", dim, self._value.ndim, "dim")]

    def dim(self) -> int:
        return self._value.ndim

    def numel(self) -> int:
        return self._value.size

    def __getitem__(self, index):
        return ops.getitem(self, index)

    @property
    def T(self):
        return ops.transpose(self)

    def reshape(self, *shape):
        return ops.reshape(self, _sizes(shape))

    def view(self, *shape):
        """A tensor of `shape` sharing this one's memory; where the layout does not allow it (after a
        transpose) an error, as torch's (`reshape` copies instead)."""
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
            raise TypeError(
                f"view: takes sizes (view(dtype), a reinterpretation of the bits, is not supported), got {shape[0]!r}"
            )
        out = ops.reshape(self, _sizes(shape))
        if out._value.size and not np.may_share_memory(out._value, self._value):
            raise RuntimeError(
                f"view: size {tuple(out.shape)} is not compatible with the memory layout of a tensor of shape "
                f"{self.shape} (a transposed or strided one), got a copy; use .reshape(...) or .contiguous() first"
            )
        return out

    def view_as(self, other):
        return ops.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return ops.flatten(self, start_dim, end_dim)

    def contiguous(self):
        """Self if its memory is row-major (C order), else a row-major copy in the graph, as torch."""
        return self if self._value.flags.c_contiguous else ops.cast(self, self._value.dtype, order="C")

    def split(self, split_size, dim: int = 0) -> tuple:
        """Pieces of `split_size` along `dim` (the last may be shorter), or of the listed sizes, as torch."""
        dim = normalize_axis("split", dim, self.ndim, "dim")
        length = self.shape[dim]
        if isinstance(split_size, (int, np.integer)) and split_size <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {split_size}")
        sizes = [split_size] * -(-length // split_size) if isinstance(split_size, (int, np.integer)) else split_size
        starts = np.cumsum([0, *sizes])
        if starts[-1] < length or (not isinstance(split_size, (int, np.integer)) and starts[-1] != length):
            raise ValueError(f"split: sizes {list(sizes)} must add up to dim {dim}'s length {length}")
        lead = (slice(None),) * dim
        return tuple(self[(*lead, slice(a, min(b, length)))] for a, b in zip(starts[:-1], starts[1:]))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        """`chunks` pieces (fewer if the length runs out) along `dim`, as torch.chunk."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks}")
        length = self.shape[normalize_axis("chunk", dim, self.ndim, "dim")]
        return self.split(-(-length // chunks) or 1, dim)

    def transpose(self, *dims):
        """Swap two dims (`transpose(0, 1)`), as torch; one tuple or none permutes as numpy's transpose."""
        return ops.transpose(self, *dims) if len(dims) == 2 else ops.transpose(self, _sizes(dims) or None)

    def t(self):
        if self._value.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {self.shape}")
        return ops.transpose(self)

    def permute(self, *dims):
        return ops.permute(self, *dims)

    def expand(self, *sizes):
        return ops.expand(self, _sizes(sizes))

    def expand_as(self, other):
        return ops.expand(self, other.shape)

    def repeat(self, *repeats):
        """The tensor tiled `repeats` times along each dim, as torch's repeat (numpy's tile)."""
        repeats = _sizes(repeats)
        shape = (1,) * (len(repeats) - self._value.ndim) + self._value.shape
        if len(repeats) < len(shape):
            raise ValueError(f"repeat: needs at least one count per dim ({len(shape)}), got {repeats}")
        paired = ops.reshape(self, tuple(n for s in shape for n in (1, s)))
        tiled = ops.expand(paired, tuple(n for r, s in zip(repeats, shape) for n in (r, s)))
        return ops.reshape(tiled, tuple(r * s for r, s in zip(repeats, shape)))

    def squeeze(self, dim=None, *, axis=None):
        return ops.squeeze(self, dim, axis=axis)

    def unsqueeze(self, dim=None, *, axis=None):
        return ops.unsqueeze(self, dim, axis=axis)

    # ----- values, copies and conversions -----
    def numpy(self) -> np.ndarray:
        """The value itself (shared, not copied)."""
        return self.value

    def item(self):
        return self.value.item()

    def tolist(self):
        return self.value.tolist()

    def clone(self):
        """A copy in new memory that stays in the graph (gradients flow back to this tensor)."""
        return ops.cast(self, self._value.dtype)

    @property
    def data(self):
        """This tensor's memory as a tensor that does not require grad: `detach()`.

        Unlike torch's `.data` it shares the version counter, so an in-place change made through it
        is still caught by a backward that saved the array.
        """
        return self.detach()

    @data.setter
    def data(self, new) -> None:
        self.value = new._value if isinstance(new, TensorMethods) else np.asarray(new)

    @property
    def device(self):
        return dtypes.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def cpu(self):
        return self

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """The tensor in `dtype` and on `device` (only "cpu"); self when nothing changes, as torch's `to`."""
        dtype = dtypes.to_dtype(self, args, dtype, device)
        if dtype == self._value.dtype and not copy:
            return self
        return ops.cast(self, dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def astype(self, dtype):
        """This tensor converted to `dtype` (numpy's spelling of `to(dtype)`; gradients flow back)."""
        return ops.cast(self, dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def half(self):
        return self.to(np.float16)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type(self, dtype=None):
        """torch's `type`: the dtype's name without an argument, else the tensor in `dtype` (as `to`)."""
        return str(self._value.dtype) if dtype is None else self.to(dtype)
