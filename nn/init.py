"""Parameter initializers with PyTorch's names and formulas, drawing from the engine's one generator.

Each initializer fills a Parameter (or an ndarray) in place, keeps its dtype, and returns it.
`autograd.manual_seed(s)` makes every draw repeat. The course work's `weight_scale` initialization
is `normal_(w, std=weight_scale)`.
"""

import math

import numpy as np

from autograd.random import generator
from nn.module import write_


def _shape(tensor) -> tuple:
    return tuple(np.shape(tensor.value if hasattr(tensor, "value") else tensor))


def _leaky_relu_gain(param) -> float:
    slope = 0.01 if param is None else param
    if isinstance(slope, bool) or not isinstance(slope, (int, float)):
        raise ValueError(f"calculate_gain: negative_slope must be a number, got {param!r}")
    return math.sqrt(2.0 / (1 + slope**2))


_GAINS = {
    **dict.fromkeys(
        ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid"),
        lambda param: 1.0,
    ),
    "tanh": lambda param: 5.0 / 3,
    "relu": lambda param: math.sqrt(2.0),
    "leaky_relu": _leaky_relu_gain,
    "selu": lambda param: 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (`param` is leaky_relu's negative slope), as PyTorch.

    >>> calculate_gain("relu") == math.sqrt(2), calculate_gain("tanh")
    (True, 1.6666666666666667)
    """
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: nonlinearity must be one of {sorted(_GAINS)}, got {nonlinearity!r}")
    return _GAINS[nonlinearity](param)


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel), as PyTorch.

    >>> _calculate_fan_in_and_fan_out(np.zeros((8, 3, 5, 5)))
    (75, 200)
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor of at least 2 dims, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    modes = ("fan_in", "fan_out")
    if mode not in modes:
        raise ValueError(f"init: mode must be one of {modes}, got {mode!r}")
    return _calculate_fan_in_and_fan_out(tensor)[modes.index(mode)]


def constant_(tensor, val: float):
    """Fill with `val`.

    >>> from nn import Parameter
    >>> constant_(Parameter(np.zeros(2)), 0.5).value.tolist()
    [0.5, 0.5]
    """
    write_(tensor, val)
    return tensor


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1)


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill with draws from U(a, b)."""
    write_(tensor, generator().uniform(a, b, size=_shape(tensor)))
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill with draws from N(mean, std**2).

    >>> import autograd as ag
    >>> from nn import Parameter
    >>> ag.manual_seed(0); a = normal_(Parameter(np.zeros(3))).value.copy()
    >>> ag.manual_seed(0); bool((normal_(Parameter(np.zeros(3))).value == a).all())
    True
    """
    write_(tensor, generator().normal(mean, std, size=_shape(tensor)))
    return tensor


def xavier_uniform_(tensor, gain: float = 1.0):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def xavier_normal_(tensor, gain: float = 1.0):
    """N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity) -> float:
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); `a` is leaky_relu's slope."""
    if 0 in _shape(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """N(0, std**2) with std = gain / sqrt(fan)."""
    if 0 in _shape(tensor):
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
