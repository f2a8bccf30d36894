"""Normalization and regularization layers: BatchNorm1d, BatchNorm2d, LayerNorm and Dropout."""

import numpy as np

from autograd import TensorNode
from autograd.ops.norm import check_probability
from nn import functional as F
from nn import init
from nn.module import Module, Parameter, check_sizes


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d, which differ only in the input ranks they accept."""

    ranks: tuple = ()
    layout: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        check_sizes(type(self).__name__, num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype)) if affine else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if tracked else None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x) -> TensorNode:
        if np.ndim(x) not in self.ranks:
            raise ValueError(f"{type(self).__name__}: input must be {self.layout}, got shape {tuple(np.shape(x))}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:  # a cumulative average over every batch so far
                factor = 1.0 / float(self.num_batches_tracked)
        # In eval mode without running statistics, batch statistics are the only ones there are.
        use_batch_stats = self.training or self.running_mean is None
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if keep_stats else None,
            self.running_var if keep_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C.

    >>> bn = BatchNorm1d(3); y = bn(np.random.default_rng(0).normal(size=(8, 3)))
    >>> bool(abs(y.value.mean()) < 1e-6), int(bn.num_batches_tracked)
    (True, 1)
    """

    ranks, layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs, per channel C."""

    ranks, layout = (4,), "(N, C, H, W)"


class LayerNorm(Module):
    """Normalization over the last dims, normalized_shape, of each sample, with PyTorch's parameters and init.

    weight (ones) and bias (zeros) have normalized_shape; elementwise_affine=False drops both, bias=False the bias.

    >>> LayerNorm(4)
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(
        self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True, dtype=np.float32
    ):
        super().__init__()
        sizes = tuple(normalized_shape) if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
        check_sizes("LayerNorm", **{f"normalized_shape[{i}]": n for i, n in enumerate(sizes)})
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(n) for n in sizes), eps, elementwise_affine
        affine = elementwise_affine
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, dtype)) if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(self.normalized_shape, dtype)) if affine and bias else None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x) -> TensorNode:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        affine = f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        return f"{self.normalized_shape}, eps={self.eps}, {affine}"


class Dropout(Module):
    """Zeroes each element with probability p in training and scales the rest by 1/(1-p); identity in eval.

    >>> drop = Dropout(0.5).eval(); x = np.ones(3); drop(x) is x
    True
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        check_probability("Dropout", p)
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
