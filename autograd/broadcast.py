"""sum_to_shape: the only code that un-broadcasts gradients.

Ops may return a gradient in the broadcast shape of their output; the graph walker calls this
helper once per gradient so that no op repeats the reduction.
"""

import numpy as np


def sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, so it has `shape`.

    Raises:
        ValueError: `shape` does not broadcast to `grad.shape`.

    >>> sum_to_shape(np.ones((2, 3)), (3,)).tolist()
    [2.0, 2.0, 2.0]
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0 or any(n != 1 and n != grad.shape[extra + i] for i, n in enumerate(shape)):
        raise ValueError(f"sum_to_shape: shape {shape} does not broadcast to {grad.shape}")
    stretched = tuple(extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=tuple(range(extra)) + stretched, keepdims=True).reshape(shape)
