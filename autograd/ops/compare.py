"""Comparisons (torch.eq, ne, lt, le, gt, ge) and the tests all, any: bool tensors without gradient.

>>> import numpy as np
>>> gt(np.array([1.0, 3.0]), 2).value.tolist()
[False, True]
"""

import numpy as np

from autograd.ops import numpy_api  # its `constant` looked up at each call: the ONNX tracer swaps it


def eq(input, other):
    """Element-wise ==, a bool tensor without gradient, as torch.eq."""
    return numpy_api.constant(np.equal, input, other)


def ne(input, other):
    """Element-wise !=, a bool tensor without gradient, as torch.ne."""
    return numpy_api.constant(np.not_equal, input, other)


def lt(input, other):
    """Element-wise <, a bool tensor without gradient, as torch.lt."""
    return numpy_api.constant(np.less, input, other)


def le(input, other):
    """Element-wise <=, a bool tensor without gradient, as torch.le."""
    return numpy_api.constant(np.less_equal, input, other)


def gt(input, other):
    """Element-wise >, a bool tensor without gradient, as torch.gt."""
    return numpy_api.constant(np.greater, input, other)


def ge(input, other):
    """Element-wise >=, a bool tensor without gradient, as torch.ge."""
    return numpy_api.constant(np.greater_equal, input, other)


def all(input, dim=None, keepdim: bool = False):
    """Whether every element (over `dim`: an int, a tuple or None for all) is true, as torch.all."""
    return numpy_api.constant(np.all, input, axis=dim, keepdims=keepdim)


def any(input, dim=None, keepdim: bool = False):
    """Whether some element (over `dim`) is true, as torch.any."""
    return numpy_api.constant(np.any, input, axis=dim, keepdims=keepdim)
