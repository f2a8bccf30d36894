"""Losses from logits, each fused for numerical stability: CrossEntropy, NLLLoss, MultiMarginLoss,
BCEWithLogits, MSELoss. Every loss takes reduction="mean" | "sum" | "none" as in PyTorch.
"""

import numpy as np

from autograd.op import Op, elementwise
from autograd.ops.activation import Sigmoid, Softmax, _log_softmax
from autograd.ops.reduce import accurate_sum
from autograd.tensor import TensorNode

REDUCTIONS = ("mean", "sum", "none")


def _reduce(where: str, losses: np.ndarray, reduction: str, ctx, divisor: float | None = None) -> np.ndarray:
    """The losses summed, averaged (over `divisor`, by default their number) or kept, as `reduction` says."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    count = losses.size if divisor is None else divisor
    # `or 1`: an empty batch has an empty gradient, which must not divide by zero on the way.
    ctx.reduction, ctx.count = reduction, count or 1
    if reduction == "none":
        return losses
    total = accurate_sum(losses)
    if reduction == "sum":
        return total
    # The mean of no losses (or of losses weighing nothing) is nan, as in PyTorch (numpy would warn on the way there).
    return total / count if count else np.full((), np.nan, losses.dtype)


def _loss_grad(ctx, grad: np.ndarray, ndim: int) -> np.ndarray:
    """The upstream gradient of each element's loss, shaped to broadcast over an input of `ndim` dims."""
    if ctx.reduction == "none":
        return grad.reshape(grad.shape + (1,) * (ndim - grad.ndim))
    return grad / ctx.count if ctx.reduction == "mean" else grad


def _check_class_targets(where: str, scores: np.ndarray, target: np.ndarray, ignore_index: int | None = None) -> None:
    if scores.ndim != 2:
        raise ValueError(f"{where}: input must have 2 dims (N, C), got shape {scores.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{where}: target must hold integer class indices, got dtype {target.dtype}")
    n, classes = scores.shape
    if target.shape != (n,):
        raise ValueError(f"{where}: target must have shape ({n},) to match input {scores.shape}, got {target.shape}")
    bad = np.flatnonzero(((target < 0) | (target >= classes)) & (target != ignore_index))
    if bad.size:
        ignored = "" if ignore_index is None else f" (or be ignore_index={ignore_index})"
        raise ValueError(
            f"{where}: target values must lie in [0, {classes}), got {target[bad[0]]} at position {bad[0]}{ignored}"
        )


class _ClassWeights:
    """What the class losses weigh each sample by, as PyTorch: the target's class weight, none if ignored.

    `target` has the ignored entries moved to class 0 (any valid index: their weight is 0), `picked` is
    weight[target] (1 without class weights) and 0 where ignored, `divisor` what "mean" divides by: the
    sum of `picked`, the number of kept targets without class weights.
    """

    def __init__(self, where: str, scores: np.ndarray, target: np.ndarray, weight, ignore_index: int):
        _check_class_targets(where, scores, target, ignore_index)
        classes = scores.shape[1]
        if weight is not None:
            weight = np.asarray(weight)
            if weight.shape != (classes,):
                raise ValueError(f"{where}: weight must have shape ({classes},), one per class, got {weight.shape}")
            weight = weight.astype(scores.dtype, copy=False)
        self.weight, self.kept = weight, target != ignore_index
        self.target = np.where(self.kept, target, 0)
        picked = np.ones(len(target), scores.dtype) if weight is None else weight[self.target]
        self.picked = np.where(self.kept, picked, 0)
        self.divisor = float(accurate_sum(self.picked))


class CrossEntropy(Op):
    """loss = -sum_c a_c log softmax(x)_c, a = (1-s) w_t onehot(t) + s w / C;  dx = g (softmax(x) sum(a) - a)."""

    @staticmethod
    def forward(ctx, logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got {label_smoothing}")
        ctx.classes = _ClassWeights("cross_entropy", logits, target, weight, ignore_index)
        ctx.smoothing = label_smoothing
        log_probs = _log_softmax(logits, 1)
        ctx.save_for_backward(logits, target)
        ctx.log_probs = log_probs
        c = ctx.classes
        losses = -(1 - label_smoothing) * c.picked * log_probs[np.arange(len(target)), c.target]
        if label_smoothing:
            # Label smoothing mixes in the uniform distribution, weighted by the class weights, as PyTorch.
            spread = log_probs.sum(axis=1) if c.weight is None else log_probs @ c.weight
            losses = losses - spread * c.kept * (label_smoothing / logits.shape[1])
        return _reduce("cross_entropy", losses, reduction, ctx, c.divisor)

    @staticmethod
    def backward(ctx, grad):
        logits, _ = ctx.saved
        # Under create_graph the probabilities are computed again from the logits tensor, to depend on it.
        probs = Softmax.call(logits, axis=1) if isinstance(logits, TensorNode) else np.exp(ctx.log_probs)
        mix = _target_mix(ctx.classes, ctx.smoothing, logits.shape, logits.dtype)
        return (probs * mix.sum(axis=1, keepdims=True) - mix) * _loss_grad(ctx, grad, 2), None


def _target_mix(classes: _ClassWeights, smoothing: float, shape: tuple, dtype) -> np.ndarray:
    """The coefficients a of cross-entropy's -sum_c a_c log p_c: the weighted one-hot target, smoothed."""
    mix = np.zeros(shape, dtype)
    mix[np.arange(shape[0]), classes.target] = (1 - smoothing) * classes.picked
    if smoothing:
        uniform = np.ones(shape[1], dtype) if classes.weight is None else classes.weight
        mix += uniform * classes.kept[:, None] * (smoothing / shape[1])
    return mix


class NLLLoss(Op):
    """loss = -w_t log_probs[t] (0 if t is ignored);  dx = -g w_t at the target entries."""

    @staticmethod
    def forward(ctx, log_probs, target, *, weight=None, ignore_index=-100, reduction="mean"):
        ctx.classes = c = _ClassWeights("nll_loss", log_probs, target, weight, ignore_index)
        ctx.shape = log_probs.shape
        losses = -c.picked * log_probs[np.arange(len(target)), c.target]
        return _reduce("nll_loss", losses, reduction, ctx, c.divisor)

    @staticmethod
    def backward(ctx, grad):
        return -_target_mix(ctx.classes, 0.0, ctx.shape, grad.dtype) * _loss_grad(ctx, grad, 2), None


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


def _class_weight(weight) -> np.ndarray | None:
    """Class weights are constants, as in PyTorch (no gradient flows to them): the array of a tensor."""
    return None if weight is None else np.asarray(getattr(weight, "value", weight))


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy from logits (N, C) and integer targets (N,), fused for stability, as PyTorch's.

    weight (C,) weighs each sample by its target's class, and "mean" divides by the sum of those
    weights; targets equal to ignore_index count for nothing; label_smoothing mixes the target with
    the uniform distribution (weighted by `weight` too, as PyTorch).

    >>> import autograd as ag
    >>> round(ag.cross_entropy(ag.tensor([[0.0, 0.0]]), [1]).item(), 4)
    0.6931
    """
    return CrossEntropy.apply(
        input,
        _class_target(target),
        weight=_class_weight(weight),
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
    )


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood from log-probabilities (N, C), with PyTorch's weight and ignore_index."""
    weight = _class_weight(weight)
    return NLLLoss.apply(input, _class_target(target), weight=weight, ignore_index=ignore_index, reduction=reduction)


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
