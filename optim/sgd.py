"""SGD: stochastic gradient descent with optional momentum, dampening and Nesterov momentum."""

from collections.abc import Iterable

import numpy as np

from optim.optimizer import Optimizer


class SGD(Optimizer):
    """p -= lr * d, where d is the gradient, or with momentum the buffer b = momentum * b + (1 - dampening) * g.

    As in PyTorch the buffer starts as the first gradient itself, and Nesterov steps along g + momentum * b.

    Args:
        params: parameters or param-group dicts.
        lr: the learning rate.
        momentum: the buffer's decay (0 turns momentum off).
        dampening: how much of each new gradient the buffer leaves out.
        weight_decay: L2 penalty, folded into the gradient.
        nesterov: look ahead along the buffer (needs momentum > 0 and dampening = 0).
        maximize: climb the objective instead of descending it.

    >>> import autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True); w.grad = np.array([2.0], np.float32)
    >>> SGD([w], lr=0.1).step(); w.value.tolist()
    [0.800000011920929]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def _check_options(self, options: dict, where: str) -> None:
        super()._check_options(options, where)
        if options.get("nesterov") and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                f"{where}: nesterov needs momentum > 0 and dampening = 0, "
                f"got momentum={options['momentum']!r}, dampening={options['dampening']!r}"
            )

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad)  # a copy, and 0-d stays an array
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        value -= group["lr"] * grad
