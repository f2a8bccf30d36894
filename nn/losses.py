"""Losses as modules: CrossEntropyLoss, NLLLoss, MultiMarginLoss, BCEWithLogitsLoss, MSELoss.

Each is called as loss(input, target) and takes reduction="mean" | "sum" | "none", as PyTorch.
"""

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


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits (N, C) and integer class targets (N,).

    >>> import numpy as np
    >>> round(CrossEntropyLoss()(np.zeros((2, 4)), np.array([0, 3])).item(), 4)
    1.3863
    """

    def forward(self, input, target) -> TensorNode:
        return F.cross_entropy(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood from log-probabilities (N, C) and integer class targets (N,)."""

    def forward(self, input, target) -> TensorNode:
        return F.nll_loss(input, target, reduction=self.reduction)


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
