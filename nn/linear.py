"""Fully connected layers: Linear, plus the shape-only Identity and Flatten."""

import math

import numpy as np

from autograd import TensorNode
from nn import functional as F
from nn import init
from nn.module import Module, Parameter, check_sizes


def reset_affine_(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default init of Linear and Conv2d: weight ~ kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,).

    >>> layer = Linear(3, 2)
    >>> layer, layer.weight.shape, layer(np.ones((4, 3), np.float32)).shape
    (Linear(in_features=3, out_features=2, bias=True), (2, 3), (4, 2))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32):
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        # PyTorch's (out, in) shape, laid out in memory as (in, out): the forward product x @ weight.T
        # then reads it row by row, and its gradient comes from OpenBLAS's faster GEMM orientation.
        self.weight = Parameter(np.empty((in_features, out_features), dtype=dtype).T)
        self.register_parameter("bias", Parameter(np.empty(out_features, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_(self.weight, self.bias)

    def forward(self, x) -> TensorNode:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer from a Sequential)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merges the axes start_dim..end_dim into one; by default (N, C, H, W) -> (N, C*H*W).

    >>> Flatten()(np.zeros((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x) -> TensorNode:
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
