"""Finite-difference gradient checking, public so users can prove the gradients of their own ops."""

import numpy as np

from autograd import ops
from autograd.differentiate import grad
from autograd.modes import enable_grad, no_grad
from autograd.random import generator
from autograd.tensor import TensorNode


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with the finite-difference one."""


def rel_error(a, b) -> float:
    """The course work's maximum relative error: max |a - b| / max(1e-8, |a| + |b|).

    >>> rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def numerical_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar `f(x)` with respect to every element of `x`.

    `x` is an ndarray or a TensorNode; its values are perturbed in place and restored.

    >>> numerical_gradient(lambda v: float((v ** 2).sum()), np.array([1.0, -2.0])).round(6).tolist()
    [2.0, -4.0]
    """
    array = x.value if isinstance(x, TensorNode) else x
    # Both flattened in x's memory order (C or Fortran), so flat[i] and flat_grad[i] are one element.
    grad = np.zeros_like(array, dtype=np.float64)
    flat, flat_grad = array.ravel(order="K"), grad.ravel(order="K")
    if not np.shares_memory(flat, array):
        raise ValueError("numerical_gradient: x must be contiguous (C or Fortran order) to be perturbed in place")
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = float(np.asarray(f(x), dtype=np.float64))
        flat[i] = original - eps
        minus = float(np.asarray(f(x), dtype=np.float64))
        flat[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the engine's gradients of `fn(*inputs)` with central differences.

    Inputs that require grad are checked; use float64 so the differences are exact enough.
    A non-scalar output is reduced with a fixed random projection, so every output counts.

    Returns:
        True when every element satisfies |analytic - numeric| <= atol + rtol * |numeric|.
    Raises:
        GradcheckError: naming the input, its worst element, both values and the relative error.

    >>> import autograd as ag
    >>> x = ag.tensor(np.array([0.5, 2.0]), requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(), [x])
    True
    """
    inputs = list(inputs)
    checked = _checked_inputs("gradcheck", inputs)
    output = fn(*inputs)
    projection = generator().standard_normal(output.shape)

    def scalar(_):
        with no_grad():
            return float((np.asarray(fn(*inputs).value, dtype=np.float64) * projection).sum())

    found = grad(output, checked, grad_outputs=projection.astype(output.dtype), allow_unused=True)
    for t, g in zip(checked, found):
        analytic = np.zeros(t.shape) if g is None else g.value
        _compare(t, _position(inputs, t), analytic, numerical_gradient(scalar, t, eps), atol, rtol)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the engine's second derivatives of `fn(*inputs)` with central differences of its gradients.

    The first-order gradients, taken with `create_graph=True` along `grad_outputs` (a fixed random
    vector by default, itself differentiated as an extra input), are checked by `gradcheck`: with
    respect to the inputs that is a Hessian-vector product, with respect to the vector the gradient.

    >>> import autograd as ag
    >>> x = ag.tensor(np.array([0.5, 2.0]), requires_grad=True)
    >>> gradgradcheck(lambda t: (t * t * t).sum(), [x])
    True
    """
    inputs = list(inputs)
    checked = _checked_inputs("gradgradcheck", inputs)
    if grad_outputs is None:
        with enable_grad():
            grad_outputs = generator().standard_normal(fn(*inputs).shape)
    vector = TensorNode(np.array(getattr(grad_outputs, "value", grad_outputs), dtype=np.float64), requires_grad=True)
    vector.name = "grad_outputs"

    def first_derivatives(*args):
        with enable_grad():
            found = grad(fn(*args[:-1]), [args[i] for i in positions], args[-1], create_graph=True, allow_unused=True)
            flat = [ops.reshape(g, (-1,)) for g in found if g is not None]
            return ops.concat(flat) if flat else ops.mul(args[-1].sum(), 0.0)

    positions = [_position(inputs, t) for t in checked]
    return gradcheck(first_derivatives, [*inputs, vector], eps, atol, rtol)


def _position(inputs: list, t: TensorNode) -> int:
    """Where `t` itself is in `inputs` (list.index would compare tensors with ==, element-wise)."""
    return next(i for i, x in enumerate(inputs) if x is t)


def _checked_inputs(where: str, inputs: list) -> list:
    checked = [t for t in inputs if isinstance(t, TensorNode) and t.requires_grad]
    if not checked:
        raise ValueError(f"{where}: no input requires grad, so there is nothing to check")
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"{where}: inputs should be float64 for reliable differences, got {t.dtype}")
    return checked


def _compare(t, position: int, analytic, numeric, atol: float, rtol: float) -> None:
    """Raise GradcheckError at the element where analytic and numeric gradients differ the most, if any is off."""
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if excess.size and excess.max() > 0:
        worst = np.unravel_index(int(np.argmax(excess)), t.shape)
        label = t.name or f"input {position}"
        raise GradcheckError(
            f"gradcheck: gradient of {label} (shape {t.shape}) is wrong at index {tuple(int(i) for i in worst)}: "
            f"analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g}, "
            f"relative error {rel_error(analytic[worst], numeric[worst]):.3g}"
        )
