"""Adam and AdamW: steps along a bias-corrected running mean of the gradient over the root of its second moment.

AdamW is Adam with decoupled weight decay (the parameter shrinks by lr * weight_decay each step, outside the
adaptive scaling) and a default weight_decay of 1e-2; the decay itself lives in `Optimizer._gradient`.
"""

import math
from collections.abc import Iterable

import numpy as np

from optim.optimizer import Optimizer


class Adam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2;  p -= lr / (1 - b1**t) * m / (sqrt(v / (1 - b2**t)) + eps).

    t is the step count, so both corrections undo the zero start of the averages (1 - b2**t, not
    1 - b2**2). With `amsgrad` the denominator uses the largest v seen so far.

    Args:
        params: parameters or param-group dicts.
        lr: the learning rate.
        betas: the decays (b1, b2) of the first and second moment averages, each in [0, 1).
        eps: added to the denominator, to keep the division finite.
        weight_decay: L2 penalty folded into the gradient (or decoupled, see AdamW).
        amsgrad: normalize by the running maximum of v.
        maximize: climb the objective instead of descending it.
        decoupled_weight_decay: shrink the parameter directly instead of through the gradient (AdamW).

    >>> import autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True); w.grad = np.array([2.0], np.float32)
    >>> Adam([w], lr=0.1).step(); round(w.value.item(), 6)   # the first step has size lr
    0.9
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
                decoupled_weight_decay=decoupled_weight_decay,
            ),
        )

    def _check_options(self, options: dict, where: str) -> None:
        super()._check_options(options, where)
        betas = options.get("betas", (0.0, 0.0))
        if len(betas) != 2:
            raise ValueError(f"{where}: betas must be a pair (beta1, beta2), got {betas!r}")

    def _update(self, value: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(value), exp_avg_sq=np.zeros_like(value))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(value)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * grad * grad
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        denom = np.sqrt(exp_avg_sq) / math.sqrt(1.0 - beta2**t) + group["eps"]
        value -= group["lr"] / (1.0 - beta1**t) * (exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before each Adam step.

    >>> import autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True); w.grad = np.array([0.0], np.float32)
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step(); round(w.value.item(), 6)   # zero gradient: decay alone
    0.95
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)
