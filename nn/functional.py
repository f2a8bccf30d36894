"""Functional forms under PyTorch's names and argument names: thin wrappers over autograd's ops.

The only translation is PyTorch's `dim` to the engine's `axis`; losses take `reduction` by keyword
(after `weight`, PyTorch's third positional argument, where a loss has class weights).

>>> import numpy as np
>>> relu(np.array([-1.0, 2.0])).value.tolist(), softmax(np.zeros(2), dim=0).value.tolist()
([0.0, 2.0], [0.5, 0.5])
"""

import autograd as ag
from autograd import TensorNode


def relu(input) -> TensorNode:
    """max(input, 0)."""
    return ag.relu(input)


def leaky_relu(input, negative_slope: float = 0.01) -> TensorNode:
    """input where positive, negative_slope * input elsewhere."""
    return ag.leaky_relu(input, negative_slope)


def elu(input, alpha: float = 1.0) -> TensorNode:
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    return ag.elu(input, alpha)


def sigmoid(input) -> TensorNode:
    """1 / (1 + exp(-input)), without overflow."""
    return ag.sigmoid(input)


def tanh(input) -> TensorNode:
    """tanh(input)."""
    return ag.tanh(input)


def gelu(input, approximate: str = "none") -> TensorNode:
    """input * Phi(input), Phi the standard normal CDF; approximate="tanh" uses its tanh approximation."""
    return ag.gelu(input, approximate)


def silu(input) -> TensorNode:
    """input * sigmoid(input)."""
    return ag.silu(input)


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> TensorNode:
    """log(1 + exp(beta * input)) / beta, linear where beta * input > threshold."""
    return ag.softplus(input, beta, threshold)


def softmax(input, dim: int = -1) -> TensorNode:
    """Probabilities along `dim`."""
    return ag.softmax(input, axis=dim)


def log_softmax(input, dim: int = -1) -> TensorNode:
    """Log-probabilities along `dim`, computed stably (not the log of a softmax)."""
    return ag.log_softmax(input, axis=dim)


def linear(input, weight, bias=None) -> TensorNode:
    """input @ weight.T + bias, with weight shaped (out_features, in_features) as PyTorch.

    >>> import numpy as np
    >>> linear(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.array([0.5])).value.tolist()
    [[3.5]]
    """
    return ag.linear(input, weight, bias)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> TensorNode:
    """2-D cross-correlation of an NCHW input with weight (out, in / groups, kH, kW), as PyTorch."""
    return ag.conv2d(input, weight, bias, stride, padding, dilation, groups)


def max_pool2d(input, kernel_size, stride=None, padding=0) -> TensorNode:
    """Max over kernel windows of an NCHW input; stride defaults to the kernel size."""
    return ag.max_pool2d(input, kernel_size, stride, padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0) -> TensorNode:
    """Mean over kernel windows of an NCHW input (zero padding counted); stride defaults to the kernel size."""
    return ag.avg_pool2d(input, kernel_size, stride, padding)


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> TensorNode:
    """Batch normalization; in training, `running_mean` / `running_var` (ndarrays) are updated in place."""
    return ag.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> TensorNode:
    """Normalize over the last len(normalized_shape) dims, then scale by weight and shift by bias."""
    return ag.layer_norm(input, normalized_shape, weight, bias, eps)


def embedding(input, weight, padding_idx: int | None = None) -> TensorNode:
    """Rows of weight (num_embeddings, embedding_dim) at the integer input; row padding_idx gets no gradient.

    >>> import numpy as np
    >>> embedding(np.array([1]), np.eye(2)).value.tolist()
    [[0.0, 1.0]]
    """
    return ag.embedding(input, weight, padding_idx)


def one_hot(tensor, num_classes: int = -1) -> TensorNode:
    """int64 one-hot rows, shape tensor.shape + (num_classes,); -1 infers num_classes from the largest value."""
    return ag.one_hot(tensor, num_classes)


def dropout(input, p: float = 0.5, training: bool = True):
    """Zero each element with probability p and scale the rest by 1/(1-p); `input` itself when not training."""
    return ag.dropout(input, p, training)


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> TensorNode:
    """Merge the axes start_dim..end_dim into one, as torch.flatten.

    >>> import numpy as np
    >>> flatten(np.zeros((2, 3, 4, 5)), 1, 2).shape
    (2, 12, 5)
    """
    return ag.ops.flatten(input, start_dim, end_dim)


def cross_entropy(
    input, target, weight=None, *, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0
) -> TensorNode:
    """Softmax cross-entropy from logits (N, C) and integer class targets (N,), with PyTorch's class weights,
    ignore_index and label smoothing."""
    return ag.cross_entropy(
        input, target, weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )


def nll_loss(input, target, weight=None, *, ignore_index: int = -100, reduction: str = "mean") -> TensorNode:
    """Negative log-likelihood from log-probabilities (N, C) and integer class targets (N,)."""
    return ag.nll_loss(input, target, weight, ignore_index=ignore_index, reduction=reduction)


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, *, reduction: str = "mean") -> TensorNode:
    """The multiclass hinge loss sum_{j != y} max(0, margin - x_y + x_j) / C (only p=1 is supported)."""
    if p != 1:
        raise ValueError(f"multi_margin_loss: only p=1 is supported, got p={p!r}")
    return ag.multi_margin_loss(input, target, margin, reduction)


def binary_cross_entropy_with_logits(input, target, *, reduction: str = "mean") -> TensorNode:
    """Logistic loss from logits; `target` holds probabilities of the same shape."""
    return ag.binary_cross_entropy_with_logits(input, target, reduction)


def mse_loss(input, target, *, reduction: str = "mean") -> TensorNode:
    """Squared error (input - target)**2."""
    return ag.mse_loss(input, target, reduction)
