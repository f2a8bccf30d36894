"""_WriteInto: the last step of a recorded in-place change (autograd/inplace.py), as PyTorch's CopyBackwards.

Private (its name starts with "_"), so it stays out of the op registry and its generated tests: users
reach it only through the in-place methods, whose tests compare gradients with PyTorch's.
"""

import numpy as np

from autograd.op import Op


class _WriteInto(Op):
    """y = x, written into the array `out` (the changed tensor's own memory);  dx = g in x's dtype."""

    @staticmethod
    def forward(ctx, x, *, out, casting="same_kind"):
        ctx.dtype = x.dtype
        np.copyto(out, x, casting=casting)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (grad.astype(ctx.dtype),)
