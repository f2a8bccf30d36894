"""Convolution and pooling layers over NCHW inputs: Conv2d, MaxPool2d, AvgPool2d."""

import numpy as np

from autograd import TensorNode
from autograd.op import as_int
from autograd.ops.conv import pair
from nn import functional as F
from nn.linear import reset_affine_
from nn.module import Module, Parameter, check_sizes


class Conv2d(Module):
    """2-D cross-correlation with weight (out_channels, in_channels / groups, kH, kW) and bias (out_channels,).

    >>> conv = Conv2d(3, 8, 3, padding=1)
    >>> conv, conv.weight.shape, conv(np.zeros((2, 3, 5, 5), np.float32)).shape
    (Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)), (8, 3, 3, 3), (2, 8, 5, 5))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        check_sizes("Conv2d", in_channels=in_channels, out_channels=out_channels)
        groups = as_int("Conv2d", "groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups, "
                f"got groups={groups}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = pair("Conv2d", "stride", stride, 1)
        self.padding = pair("Conv2d", "padding", padding, 0)
        self.dilation = pair("Conv2d", "dilation", dilation, 1)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_(self.weight, self.bias)

    def forward(self, x) -> TensorNode:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        text += f", padding={self.padding}" if self.padding != (0, 0) else ""
        text += f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        text += f", groups={self.groups}" if self.groups != 1 else ""
        return text + (", bias=False" if self.bias is None else "")


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        where = type(self).__name__
        pair(where, "kernel_size", kernel_size, 1)  # fail at construction, not at the first forward
        pair(where, "padding", padding, 0)
        if stride is not None:
            pair(where, "stride", stride, 1)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over kernel windows (stride defaults to the kernel size; padding counts as -inf).

    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).value[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    def forward(self, x) -> TensorNode:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over kernel windows (stride defaults to the kernel size; zero padding is counted)."""

    def forward(self, x) -> TensorNode:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
