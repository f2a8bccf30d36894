"""Activation layers: ReLU, LeakyReLU, ELU, GELU, SiLU, Softplus, Sigmoid, Tanh, Softmax, LogSoftmax."""

import autograd as ag
from autograd import TensorNode
from nn import functional as F
from nn.module import Module


class ReLU(Module):
    """max(x, 0).

    >>> import numpy as np
    >>> ReLU()(np.array([-1.0, 2.0])).value.tolist()
    [0.0, 2.0]
    """

    def forward(self, x) -> TensorNode:
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x) -> TensorNode:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x) -> TensorNode:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF (approximate="tanh": its tanh approximation).

    >>> import numpy as np
    >>> GELU(approximate="tanh")
    GELU(approximate='tanh')
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ag.ops.activation.GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x) -> TensorNode:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x) -> TensorNode:
        return F.silu(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x) -> TensorNode:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x) -> TensorNode:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x) -> TensorNode:
        return F.tanh(x)


class _AlongDim(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """Probabilities along `dim`.

    >>> import numpy as np
    >>> Softmax(dim=1)(np.zeros((1, 4))).value.tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """

    def forward(self, x) -> TensorNode:
        return F.softmax(x, self.dim)


class LogSoftmax(_AlongDim):
    """Log-probabilities along `dim`, computed stably (not the log of a softmax)."""

    def forward(self, x) -> TensorNode:
        return F.log_softmax(x, self.dim)
