"""RMSprop: divide the gradient by a running root-mean-square of recent gradients (optionally centered)."""

from collections.abc import Iterable

import numpy as np

from optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """s = alpha * s + (1 - alpha) * g**2;  p -= lr * g / (sqrt(s) + eps).

    `centered` subtracts the square of a running mean of g from s (a variance instead of a second
    moment); `momentum` accumulates g / (sqrt(s) + eps) in a buffer and steps along it.

    Args:
        params: parameters or param-group dicts.
        lr: the learning rate.
        alpha: the decay of the running averages.
        eps: added to the root mean square, to keep the division finite.
        weight_decay: L2 penalty, folded into the gradient.
        momentum: the buffer's decay (0 turns momentum off).
        centered: normalize by the running variance instead of the second moment.
        maximize: climb the objective instead of descending it.

    >>> import autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True); w.grad = np.array([2.0], np.float32)
    >>> RMSprop([w], lr=0.01, alpha=0.0).step(); round(w.value.item(), 6)   # one step of size lr * sign(g)
    0.99
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state.update(step=0, square_avg=np.zeros_like(value))
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(value)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(value)
        state["step"] += 1
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1.0 - alpha) * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / avg
            value -= group["lr"] * buf
        else:
            value -= group["lr"] * (grad / avg)
