"""Gradient clipping: clip_grad_norm_ and clip_grad_value_, with PyTorch's semantics."""

import math
from collections.abc import Iterable

import numpy as np

from autograd import TensorNode


def _with_grads(parameters) -> list:
    if isinstance(parameters, TensorNode):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Iterable[TensorNode] | TensorNode,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale every gradient by one factor so that their joint `norm_type`-norm is at most `max_norm`.

    The norm is taken over all gradients as if concatenated into one vector (norm_type may be inf).

    Returns:
        The total norm before clipping.
    Raises:
        RuntimeError: the norm is nan or inf and error_if_nonfinite is set.

    >>> import autograd as ag
    >>> p = ag.tensor([0.0, 0.0], requires_grad=True); p.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm_([p], max_norm=1.0), p.grad.round(6).tolist()
    (5.0, [0.6, 0.8])
    """
    params = _with_grads(parameters)
    if not params:
        return 0.0
    norm_type = float(norm_type)
    # Norms of norms equal the norm of the concatenation for every p, and never copy the gradients together.
    norms = [np.linalg.norm(p.grad.reshape(-1).astype(np.float64), ord=norm_type) for p in params]
    total = float(np.linalg.norm(np.array(norms), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} is {total}")
    coef = max_norm / (total + 1e-6)  # the 1e-6 as in PyTorch, so a zero norm cannot divide by zero
    if coef < 1.0:
        for p in params:
            p.grad = p.grad * np.asarray(coef, dtype=p.grad.dtype)
    return total


def clip_grad_value_(parameters: Iterable[TensorNode] | TensorNode, clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value].

    >>> import autograd as ag
    >>> p = ag.tensor([0.0, 0.0], requires_grad=True); p.grad = np.array([-3.0, 0.5])
    >>> clip_grad_value_(p, 1.0); p.grad.tolist()
    [-1.0, 0.5]
    """
    for p in _with_grads(parameters):
        p.grad = np.clip(p.grad, -clip_value, clip_value)
