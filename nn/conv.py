"""Convolution and pooling layers: Conv1d over (N, C, L) inputs; Conv2d, MaxPool2d, AvgPool2d and
AdaptiveAvgPool2d over NCHW inputs."""

import numpy as np

from autograd import TensorNode
from autograd.op import as_int
from autograd.ops.conv import pair
from nn import functional as F
from nn.linear import reset_affine_
from nn.module import Module, Parameter, check_sizes


def _ntuple(where: str, name: str, value, minimum: int, n: int) -> tuple:
    """`value` as a tuple of `n` ints >= `minimum` (an int means the same along every axis)."""
    if n == 2:
        return pair(where, name, value, minimum)
    expected = f"an int >= {minimum} or a tuple of {n}"
    values = tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else (value,) * n
    if len(values) != n:
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    return tuple(as_int(where, name, v, minimum, expected, got=value) for v in values)


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the checks, the parameters (out, in / groups, *kernel), init and repr."""

    dims = 2

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
        where = type(self).__name__
        check_sizes(where, in_channels=in_channels, out_channels=out_channels)
        groups = as_int(where, "groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{where}: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups, "
                f"got groups={groups}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(where, "kernel_size", kernel_size, 1, self.dims)
        self.stride = _ntuple(where, "stride", stride, 1, self.dims)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{where}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1,) * self.dims:
                raise ValueError(f"{where}: padding='same' needs stride 1, got stride={self.stride}")
            self.padding = padding
        else:
            self.padding = _ntuple(where, "padding", padding, 0, self.dims)
        self.dilation = _ntuple(where, "dilation", dilation, 1, self.dims)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype=dtype)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_(self.weight, self.bias)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        text += f", padding={self.padding}" if self.padding != (0,) * self.dims else ""
        text += f", dilation={self.dilation}" if self.dilation != (1,) * self.dims else ""
        text += f", groups={self.groups}" if self.groups != 1 else ""
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_ConvNd):
    """1-D cross-correlation of (N, C, L) inputs with weight (out_channels, in_channels / groups, k), as PyTorch's.

    >>> conv = Conv1d(3, 8, 5, padding=2)
    >>> conv, conv.weight.shape, conv(np.zeros((2, 3, 10), np.float32)).shape
    (Conv1d(3, 8, kernel_size=(5,), stride=(1,), padding=(2,)), (8, 3, 5), (2, 8, 10))
    """

    dims = 1

    def forward(self, x) -> TensorNode:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D cross-correlation with weight (out_channels, in_channels / groups, kH, kW) and bias (out_channels,).

    >>> conv = Conv2d(3, 8, 3, padding=1)
    >>> conv, conv.weight.shape, conv(np.zeros((2, 3, 5, 5), np.float32)).shape
    (Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)), (8, 3, 3, 3), (2, 8, 5, 5))
    """

    def forward(self, x) -> TensorNode:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


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


class AdaptiveAvgPool2d(Module):
    """Mean over the windows that tile the input into `output_size` (see F.adaptive_avg_pool2d).

    AdaptiveAvgPool2d(1) is global average pooling, (N, C, H, W) -> (N, C, 1, 1).

    >>> AdaptiveAvgPool2d((2, 1))(np.arange(12.0).reshape(1, 1, 4, 3)).value[0, 0].tolist()
    [[2.5], [8.5]]
    """

    def __init__(self, output_size):
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
        if len(sizes) not in (1, 2):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be an int or a pair, got {output_size!r}")
        for size in sizes:
            if size is not None:
                as_int("AdaptiveAvgPool2d", "output_size", size, 1, "an int >= 1, None, or a pair of them")
        self.output_size = output_size

    def forward(self, x) -> TensorNode:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
