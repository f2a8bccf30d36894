"""Activation layers: ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Softmax, LogSoftmax."""

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
