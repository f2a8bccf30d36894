"""Adagrad: per-coordinate steps scaled down by the root of the sum of all past squared gradients."""

from collections.abc import Iterable

import numpy as np

from optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """s += g**2;  p -= lr_t * g / (sqrt(s) + eps), with lr_t = lr / (1 + (t - 1) * lr_decay) at step t.

    Args:
        params: parameters or param-group dicts.
        lr: the learning rate.
        lr_decay: how fast the learning rate shrinks with the step count.
        weight_decay: L2 penalty, folded into the gradient.
        initial_accumulator_value: the starting value of the sum s.
        eps: added to the root of the sum, to keep the division finite.
        maximize: climb the objective instead of descending it.

    >>> import autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True); w.grad = np.array([2.0], np.float32)
    >>> Adagrad([w], lr=0.5).step(); w.value.tolist()   # the first step has size lr
    [0.5]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                maximize=maximize,
            ),
        )

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state.update(step=0, sum=np.full_like(value, group["initial_accumulator_value"]))
        state["step"] += 1
        lr = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]
        total += grad * grad
        value -= lr * (grad / (np.sqrt(total) + group["eps"]))
