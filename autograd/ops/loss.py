"""Losses from logits, each fused for numerical stability: CrossEntropy, NLLLoss, MultiMarginLoss,
BCEWithLogits, MSELoss. Every loss takes reduction="mean" | "sum" | "none" as in PyTorch.
"""

import numpy as np

from autograd.op import Op, elementwise
from autograd.ops.activation import Sigmoid, Softmax, _log_softmax
from autograd.ops.reduce import accurate_sum
from autograd.tensor import TensorNode

REDUCTIONS = ("mean", "sum", "none")


def _reduce(where: str, losses: np.ndarray, reduction: str, ctx) -> np.ndarray:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    # `or 1`: an empty batch has an empty gradient, which must not divide by zero on the way.
    ctx.reduction, ctx.count = reduction, losses.size or 1
    if reduction == "none":
        return losses
    total = accurate_sum(losses)
    if reduction == "sum":
        return total
    # The mean of no losses is nan, as in PyTorch (numpy would warn on the way there).
    return total / losses.size if losses.size else np.full((), np.nan, losses.dtype)


def _loss_grad(ctx, grad: np.ndarray, ndim: int) -> np.ndarray:
    """The upstream gradient of each element's loss, shaped to broadcast over an input of `ndim` dims."""
    if ctx.reduction == "none":
        return grad.reshape(grad.shape + (1,) * (ndim - grad.ndim))
    return grad / ctx.count if ctx.reduction == "mean" else grad


def _one_hot(target: np.ndarray, shape: tuple, dtype) -> np.ndarray:
    rows = np.zeros(shape, dtype=dtype)
    rows[np.arange(len(target)), target] = 1
    return rows


def _check_class_targets(where: str, scores: np.ndarray, target: np.ndarray) -> None:
    if scores.ndim != 2:
        raise ValueError(f"{where}: input must have 2 dims (N, C), got shape {scores.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{where}: target must hold integer class indices, got dtype {target.dtype}")
    n, classes = scores.shape
    if target.shape != (n,):
        raise ValueError(f"{where}: target must have shape ({n},) to match input {scores.shape}, got {target.shape}")
    bad = np.flatnonzero((target < 0) | (target >= classes))
    if bad.size:
        raise ValueError(
            f"{where}: target values must lie in [0, {classes}), got {target[bad[0]]} at position {bad[0]}"
        )


class CrossEntropy(Op):
    """loss = -log softmax(x)[target];  dx = g * (softmax(x) - onehot(target))."""

    @staticmethod
    def forward(ctx, logits, target, *, reduction="mean"):
        _check_class_targets("cross_entropy", logits, target)
        log_probs = _log_softmax(logits, 1)
        ctx.save_for_backward(logits, target)
        ctx.log_probs = log_probs
        return _reduce("cross_entropy", -log_probs[np.arange(len(target)), target], reduction, ctx)

    @staticmethod
    def backward(ctx, grad):
        logits, target = ctx.saved
        # Under create_graph the probabilities are computed again from the logits tensor, to depend on it.
        probs = Softmax.call(logits, axis=1) if isinstance(logits, TensorNode) else np.exp(ctx.log_probs)
        d = probs - _one_hot(target, logits.shape, logits.dtype)
        return d * _loss_grad(ctx, grad, 2), None


class NLLLoss(Op):
    """loss = -log_probs[target];  dx = -g at the target entries."""

    @staticmethod
    def forward(ctx, log_probs, target, *, reduction="mean"):
        _check_class_targets("nll_loss", log_probs, target)
        ctx.save_for_backward(target)
        ctx.shape = log_probs.shape
        return _reduce("nll_loss", -log_probs[np.arange(len(target)), target], reduction, ctx)

    @staticmethod
    def backward(ctx, grad):
        (target,) = ctx.saved
        return -_one_hot(target, ctx.shape, grad.dtype) * _loss_grad(ctx, grad, 2), None


class MultiMarginLoss(Op):
    """loss = sum_{j != y} max(0, margin - x_y + x_j) / C (SVM hinge);  dx_j = g/C per active margin."""

    @staticmethod
    def forward(ctx, logits, target, *, margin=1.0, reduction="mean"):
        _check_class_targets("multi_margin_loss", logits, target)
        n, classes = logits.shape
        rows = np.arange(n)
        margins = margin - logits[rows, target][:, None] + logits
        margins[rows, target] = 0
        active = margins > 0
        ctx.save_for_backward(active, target)
        return _reduce("multi_margin_loss", np.maximum(margins, 0).sum(axis=1) / classes, reduction, ctx)

    @staticmethod
    def backward(ctx, grad):
        active, target = ctx.saved
        classes = active.shape[1]
        d = active.astype(grad.dtype)
        d[np.arange(len(target)), target] = -active.sum(axis=1)
        return d * (_loss_grad(ctx, grad, 2) / classes), None


class BCEWithLogits(Op):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|));  dx = g (sigmoid(x) - t), dt = -g x."""

    @staticmethod
    def forward(ctx, logits, target, *, reduction="mean"):
        if target.dtype.kind not in "biuf":
            raise TypeError(
                "binary_cross_entropy_with_logits: target must hold probabilities (real numbers), "
                f"got dtype {target.dtype}"
            )
        if target.shape != logits.shape:
            raise ValueError(
                "binary_cross_entropy_with_logits: target must have the input's shape "
                f"{logits.shape}, got {target.shape}"
            )
        # The target as given: under create_graph a target that requires grad is differentiated through.
        ctx.save_for_backward(logits, target)
        target = target.astype(logits.dtype, copy=False)
        losses = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
        return _reduce("binary_cross_entropy_with_logits", losses, reduction, ctx)

    @staticmethod
    def backward(ctx, grad):
        logits, target = ctx.saved
        g = _loss_grad(ctx, grad, logits.ndim)
        return g * (Sigmoid.call(logits) - target), (-g * logits if ctx.needs_input_grad[1] else None)


class MSELoss(Op):
    """loss = (a - b)^2;  da = 2 g (a - b), db = -da."""

    @staticmethod
    def forward(ctx, a, b, *, reduction="mean"):
        diff = elementwise("mse_loss", np.subtract, a, b)
        ctx.save_for_backward(a, b)
        return _reduce("mse_loss", diff * diff, reduction, ctx)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        diff = a - b
        da = 2 * diff * _loss_grad(ctx, grad, diff.ndim)
        return da, (-da if ctx.needs_input_grad[1] else None)


def _class_target(target) -> np.ndarray:
    return np.asarray(getattr(target, "value", target))


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy from logits (N, C) and integer targets (N,), fused for stability.

    >>> import autograd as ag
    >>> round(ag.cross_entropy(ag.tensor([[0.0, 0.0]]), [1]).item(), 4)
    0.6931
    """
    return CrossEntropy.apply(logits, _class_target(target), reduction=reduction)


def nll_loss(log_probs, target, reduction="mean"):
    return NLLLoss.apply(log_probs, _class_target(target), reduction=reduction)


def multi_margin_loss(logits, target, margin=1.0, reduction="mean"):
    """The multiclass SVM hinge loss with PyTorch's semantics (divided by the number of classes)."""
    return MultiMarginLoss.apply(logits, _class_target(target), margin=margin, reduction=reduction)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Logistic loss from logits; `target` (same shape) holds probabilities in [0, 1]."""
    if not hasattr(target, "_version"):
        target = np.asarray(target)
    return BCEWithLogits.apply(logits, target, reduction=reduction)


def mse_loss(a, b, reduction="mean"):
    return MSELoss.apply(a, b, reduction=reduction)
