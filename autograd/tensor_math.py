"""MathMethods: TensorNode's element-wise functions and the other math methods of torch.Tensor.

Each calls the op function of the same name (`x.sin()` is `ag.sin(x)`), as PyTorch's methods do.

>>> import autograd as ag
>>> [round(v, 4) for v in ag.tensor([0.0, 1.0]).exp().log1p().tolist()]
[0.6931, 1.3133]
"""

import numpy as np

ops = numpy_api = compare = None  # set by autograd/tensor.py once TensorNode exists (the ops import it)


class MathMethods:
    """Element-wise math, activations, clamping, masking, scans and gathers, mixed into TensorNode."""

    __slots__ = ()

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def sin(self):
        return ops.sin(self)

    def cos(self):
        return ops.cos(self)

    def tan(self):
        return ops.tan(self)

    def sinh(self):
        return ops.sinh(self)

    def cosh(self):
        return ops.cosh(self)

    def log1p(self):
        return ops.log1p(self)

    def expm1(self):
        return ops.expm1(self)

    def erf(self):
        return ops.erf(self)

    def erfc(self):
        return ops.erfc(self)

    def sign(self):
        """-1, 0 or 1 per element: a tensor without gradient (PyTorch's is a zero gradient)."""
        return numpy_api.constant(np.sign, self)

    def clamp(self, min=None, max=None):
        return ops.clip(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return ops.clip(self, min, None)

    def clamp_max(self, max):
        return ops.clip(self, None, max)

    def where(self, condition, other):
        """self where `condition`, else `other`, as torch's `Tensor.where`."""
        return ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        """`value` where `mask` is True, else self (gradient flows where the mask is False)."""
        return ops.masked_fill(self, mask, value)

    def tril(self, diagonal: int = 0):
        return ops.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        return ops.triu(self, diagonal)

    def logsumexp(self, dim, keepdim: bool = False):
        return ops.logsumexp(self, dim, keepdim)

    def cumsum(self, dim: int):
        return ops.cumsum(self, dim)

    def gather(self, dim: int, index):
        return ops.gather(self, dim, index)

    def all(self, dim=None, keepdim: bool = False):
        return compare.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: bool = False):
        return compare.any(self, dim, keepdim)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return ops.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return ops.argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        return ops.topk(self, k, dim, largest, sorted)

    def relu(self):
        return ops.relu(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def leaky_relu(self, negative_slope=0.01):
        return ops.leaky_relu(self, negative_slope)

    def elu(self, alpha=1.0):
        return ops.elu(self, alpha)
