"""Tensor factories with torch's signatures: sizes as varargs or one tuple, `dtype=`, `requires_grad=`.

Float factories default to float32 and integer ones to int64, as PyTorch's; random ones draw from the
engine's generator, so `manual_seed` repeats them.

>>> import autograd as ag
>>> ag.zeros(2, 3).shape, ag.ones((2,)).dtype, ag.arange(3).tolist(), ag.full((2,), 7).dtype
((2, 3), dtype('float32'), [0, 1, 2], dtype('int64'))
"""

import builtins

import numpy as np

from autograd.dtypes import check_device
from autograd.random import generator
from autograd.tensor import TensorNode, tensor


def _sizes(where: str, size: tuple, keyword=None) -> tuple:
    """torch's sizes: varargs, one tuple, or the keyword `size=`."""
    if keyword is not None:
        if size:
            raise TypeError(f"{where}: give the sizes as arguments or as size=, got both {size!r} and {keyword!r}")
        size = (keyword,)
    sizes = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    if not builtins.all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in sizes):
        raise TypeError(f"{where}: sizes must be non-negative ints (as varargs or one tuple), got {size!r}")
    return sizes


def _leaf(where: str, array: np.ndarray, dtype, requires_grad: bool, device) -> TensorNode:
    check_device(where, device)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return TensorNode(array, requires_grad=requires_grad)


def zeros(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """A tensor of zeros (float32 unless `dtype`); sizes as varargs, one tuple or `size=`, as torch.zeros."""
    return _leaf("zeros", np.zeros(_sizes("zeros", sizes, size), dtype or np.float32), None, requires_grad, device)


def ones(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """A tensor of ones (float32 unless `dtype`), as torch.ones."""
    return _leaf("ones", np.ones(_sizes("ones", sizes, size), dtype or np.float32), None, requires_grad, device)


def empty(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """Uninitialized memory, as torch.empty (here: zeros, at the same cost)."""
    return zeros(*sizes, size=size, dtype=dtype, requires_grad=requires_grad, device=device)


def _number_dtype(value):
    """torch's dtype for a Python number: bool, int64 or float32 (numpy values keep theirs)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    return {bool: np.bool_, int: np.int64}.get(type(value), np.float32)


def full(size, fill_value, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """A tensor of `size` filled with `fill_value`, its dtype inferred from it as torch.full does."""
    array = np.full(_sizes("full", (size,)), fill_value, dtype or _number_dtype(fill_value))
    return _leaf("full", array, None, requires_grad, device)


def arange(start, end=None, step=1, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """[start, end) in steps, as torch.arange: int64 when every bound is an int, else float32."""
    start, end = (0, start) if end is None else (start, end)
    floats = builtins.any(not isinstance(v, (int, np.integer)) for v in (start, end, step))
    array = np.arange(start, end, step, dtype=np.float64 if floats else np.int64)
    return _leaf("arange", array, dtype or (np.float32 if floats else None), requires_grad, device)


def linspace(start, end, steps: int, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`steps` evenly spaced values from start to end, both included (computed in float64), as torch.linspace."""
    return _leaf("linspace", np.linspace(start, end, steps), dtype or np.float32, requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """The n x m identity matrix (m = n by default), as torch.eye."""
    return _leaf("eye", np.eye(n, m, dtype=dtype or np.float32), None, requires_grad, device)


def rand(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """Uniform samples in [0, 1)."""
    array = generator().random(_sizes("rand", sizes, size), dtype=np.dtype(dtype or np.float32))
    return _leaf("rand", array, None, requires_grad, device)


def randn(*sizes, size=None, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """Standard normal samples."""
    array = generator().standard_normal(_sizes("randn", sizes, size), dtype=np.dtype(dtype or np.float32))
    return _leaf("randn", array, None, requires_grad, device)


def randint(low, high=None, size=None, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """Integers in [low, high) (`randint(high, size)` starts at 0), int64 unless `dtype` says otherwise."""
    if size is None:
        low, high, size = 0, low, high
    array = generator().integers(low, high, _sizes("randint", (size,)), dtype=np.int64)
    return _leaf("randint", array, dtype, requires_grad, device)


def _like(input, dtype) -> tuple:
    return tuple(np.shape(input)), dtype or getattr(input, "dtype", None) or np.asarray(input).dtype


def zeros_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`zeros` of `input`'s shape and dtype (or `dtype`), as torch.zeros_like."""
    shape, dtype = _like(input, dtype)
    return _leaf("zeros_like", np.zeros(shape, dtype), None, requires_grad, device)


def ones_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`ones` of `input`'s shape and dtype (or `dtype`), as torch.ones_like."""
    shape, dtype = _like(input, dtype)
    return _leaf("ones_like", np.ones(shape, dtype), None, requires_grad, device)


def empty_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`empty` of `input`'s shape and dtype (or `dtype`), as torch.empty_like."""
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad, device=device)


def full_like(input, fill_value, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`full` of `input`'s shape and dtype (or `dtype`), as torch.full_like."""
    shape, dtype = _like(input, dtype)
    return _leaf("full_like", np.full(shape, fill_value, dtype), None, requires_grad, device)


def rand_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`rand` of `input`'s shape and dtype (or `dtype`), as torch.rand_like."""
    shape, dtype = _like(input, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad, device=device)


def randn_like(input, *, dtype=None, requires_grad: bool = False, device=None) -> TensorNode:
    """`randn` of `input`'s shape and dtype (or `dtype`), as torch.randn_like."""
    shape, dtype = _like(input, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad, device=device)


def from_numpy(array: np.ndarray) -> TensorNode:
    """A tensor sharing `array`'s memory (changes show in both), as torch.from_numpy.

    >>> a = np.zeros(2); t = from_numpy(a); a[0] = 5.0; t.tolist()
    [5.0, 0.0]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return TensorNode(array)


def as_tensor(data, dtype=None, device=None) -> TensorNode:
    """`data` as a tensor without a copy where it can (a tensor or an ndarray of that dtype), as torch.as_tensor;
    Python numbers and lists follow `tensor`'s dtypes."""
    check_device("as_tensor", device)
    if isinstance(data, TensorNode) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray):
        return TensorNode(data if dtype is None else data.astype(dtype, copy=False))
    return tensor(data, dtype=dtype)
