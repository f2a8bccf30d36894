"""Finite-difference gradient checking, public so users can prove the gradients of their own ops."""

import numpy as np

from autograd.graph import no_grad
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
    checked = [t for t in inputs if isinstance(t, TensorNode) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"gradcheck: inputs should be float64 for reliable differences, got {t.dtype}")
    output = fn(*inputs)
    projection = generator().standard_normal(output.shape)

    def scalar(_):
        with no_grad():
            return float((np.asarray(fn(*inputs).value, dtype=np.float64) * projection).sum())

    saved = [t.grad for t in checked]
    for t in checked:
        t.grad = None
    output.backward(projection.astype(output.dtype))
    analytic = [np.zeros(t.shape) if t.grad is None else t.grad for t in checked]
    for t, g in zip(checked, saved):
        t.grad = g
    for t, a in zip(checked, analytic):
        numeric = numerical_gradient(scalar, t, eps)
        excess = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
        if excess.size and excess.max() > 0:
            worst = np.unravel_index(int(np.argmax(excess)), t.shape)
            label = t.name or f"input {inputs.index(t)}"
            raise GradcheckError(
                f"gradcheck: gradient of {label} (shape {t.shape}) is wrong at index {tuple(int(i) for i in worst)}: "
                f"analytic {a[worst]:.8g}, numeric {numeric[worst]:.8g}, "
                f"relative error {rel_error(a[worst], numeric[worst]):.3g}"
            )
    return True
