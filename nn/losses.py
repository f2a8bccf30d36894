"""Losses as modules: CrossEntropyLoss, NLLLoss, MultiMarginLoss, BCEWithLogitsLoss, MSELoss.

Each is called as loss(input, target) and takes reduction="mean" | "sum" | "none", as PyTorch.
"""

import numpy as np

from autograd import TensorNode
from autograd.ops.loss import REDUCTIONS
from nn import functional as F
from nn.module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A class loss with PyTorch's class `weight` (a buffer, in the state dict as in PyTorch) and ignore_index."""

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else np.array(getattr(weight, "value", weight)))
        self.ignore_index = ignore_index


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from logits (N, C) and integer class targets (N,), with PyTorch's class weights,
    ignore_index and label smoothing.

    >>> import numpy as np
    >>> round(CrossEntropyLoss()(np.zeros((2, 4)), np.array([0, 3])).item(), 4)
    1.3863
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index=ignore_index, reduction=reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input, target) -> TensorNode:
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood from log-probabilities (N, C) and integer class targets (N,), with class weights."""

    def forward(self, input, target) -> TensorNode:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """Multiclass hinge loss sum_{j != y} max(0, margin - x_y + x_j) / C (only p=1 is supported)."""

    def __init__(self, p: int = 1, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        if p != 1:
            raise ValueError(f"MultiMarginLoss: only p=1 is supported, got p={p!r}")
        self.p, self.margin = p, margin

    def forward(self, input, target) -> TensorNode:
        return F.multi_margin_loss(input, target, self.p, self.margin, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Logistic loss from logits; targets are probabilities of the same shape."""

    def forward(self, input, target) -> TensorNode:
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Squared error (input - target)**2."""

    def forward(self, input, target) -> TensorNode:
        return F.mse_loss(input, target, reduction=self.reduction)
