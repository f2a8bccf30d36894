"""Adadelta: steps whose size comes from running averages of squared gradients and of squared past steps."""

from collections.abc import Iterable

import numpy as np

from optim.optimizer import Optimizer, _is_number


class Adadelta(Optimizer):
    """v = rho v + (1 - rho) g**2;  d = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho u + (1 - rho) d**2;  p -= lr d.

    As PyTorch's Adadelta: v is the state "square_avg", u "acc_delta", and the step is scaled by `lr`
    (1.0 by default, Zeiler's rule as published).

    Args:
        params: parameters or param-group dicts.
        lr: scales each step.
        rho: the decay of both running averages, in [0, 1].
        eps: added inside both square roots, so the first steps are not zero.
        weight_decay: L2 penalty, folded into the gradient.
        maximize: climb the objective instead of descending it.

    >>> import autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True); w.grad = np.array([2.0])
    >>> Adadelta([w], rho=0.5, eps=1e-2).step(); round(w.value.item(), 6)   # 1 - sqrt(0.01 / 2.01) * 2
    0.858931
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _check_options(self, options: dict, where: str) -> None:
        super()._check_options(options, where)
        rho = options.get("rho", 0.0)
        if not _is_number(rho):
            raise TypeError(f"{where}: rho must be a number, got {type(rho).__name__} {rho!r}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"{where}: rho must lie in [0, 1], got {rho!r}")

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state.update(step=0, square_avg=np.zeros_like(value), acc_delta=np.zeros_like(value))
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1.0 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1.0 - rho) * delta * delta
        value -= group["lr"] * delta
