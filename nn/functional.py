"""Functional forms under PyTorch's names and argument names: thin wrappers over autograd's ops.

The only translation is PyTorch's `dim` to the engine's `axis`; losses take `reduction` by keyword
(after `weight`, PyTorch's third positional argument, where a loss has class weights).

>>> import numpy as np
>>> relu(np.array([-1.0, 2.0])).value.tolist(), softmax(np.zeros(2), dim=0).value.tolist()
([0.0, 2.0], [0.5, 0.5])
"""

import math

import numpy as np

import autograd as ag
from autograd import TensorNode
from autograd.op import as_int
from autograd.ops.conv import pair


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
    """2-D cross-correlation of an NCHW input with weight (out, in / groups, kH, kW), as PyTorch.

    `padding` may also be "valid" (none) or "same" (stride 1 only: the output keeps the input's size; an
    odd total padding puts the extra row or column at the bottom or right, as PyTorch).
    """
    if isinstance(padding, str):
        kernel = np.shape(weight.value if isinstance(weight, TensorNode) else weight)[-2:]
        input, padding = _string_padding("conv2d", input, kernel, padding, stride, dilation)
    return ag.conv2d(input, weight, bias, stride, padding, dilation, groups)


def _string_padding(where: str, x, kernel: tuple, padding: str, stride, dilation) -> tuple:
    """(input, padding pair) for padding "valid" or "same", the input padded when "same" needs one more."""
    if padding == "valid":
        return x, (0, 0)
    if padding != "same":
        raise ValueError(f"{where}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if pair(where, "stride", stride, 1) != (1, 1):
        raise ValueError(f"{where}: padding='same' needs stride 1, got stride={stride!r}")
    totals = [d * (k - 1) for k, d in zip(kernel, pair(where, "dilation", dilation, 1))]
    before = tuple(total // 2 for total in totals)
    after = [total - b for total, b in zip(totals, before)]
    if after != list(before):
        x = ag.pad(x, ((0, 0), (0, 0), (0, after[0] - before[0]), (0, after[1] - before[1])))
    return x, before


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1) -> TensorNode:
    """1-D cross-correlation of an (N, C, L) or (C, L) input with weight (out, in / groups, k), as PyTorch;
    `padding` may be "valid" or "same" as in conv2d.

    Computed by conv2d over a height of 1, so its gradients are conv2d's.

    >>> import numpy as np
    >>> conv1d(np.arange(5.0).reshape(1, 1, 5), np.array([[[1.0, -1.0]]]), stride=2).value.tolist()
    [[[-1.0, -1.0]]]
    """
    where = "conv1d"
    ndim = np.ndim(input.value if isinstance(input, TensorNode) else input)
    if ndim not in (2, 3):
        raise ValueError(f"{where}: input must have 3 dims (N, C, L) or 2 (C, L), got {ndim} dims")
    if np.ndim(weight.value if isinstance(weight, TensorNode) else weight) != 3:
        raise ValueError(f"{where}: weight must have 3 dims (out_channels, in_channels / groups, kernel_size)")
    stride, dilation = _single(where, "stride", stride), _single(where, "dilation", dilation)
    padding = padding if isinstance(padding, str) else (0, _single(where, "padding", padding))
    x = ag.unsqueeze(input, -2)
    if ndim == 2:
        x = ag.unsqueeze(x, 0)
    y = conv2d(x, ag.unsqueeze(weight, -2), bias, (1, stride), padding, (1, dilation), groups)
    return ag.squeeze(y, (0, 2) if ndim == 2 else 2)


def _single(where: str, name: str, value) -> int:
    """An int setting of a 1-D layer, also given as a 1-tuple as PyTorch's modules store it."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{where}: {name} must be an int or a tuple of 1, got {value!r}")
        (value,) = value
    return value


def max_pool2d(input, kernel_size, stride=None, padding=0) -> TensorNode:
    """Max over kernel windows of an NCHW input; stride defaults to the kernel size."""
    return ag.max_pool2d(input, kernel_size, stride, padding)


def avg_pool2d(input, kernel_size, stride=None, padding=0) -> TensorNode:
    """Mean over kernel windows of an NCHW input (zero padding counted); stride defaults to the kernel size."""
    return ag.avg_pool2d(input, kernel_size, stride, padding)


def adaptive_avg_pool2d(input, output_size) -> TensorNode:
    """Mean over windows that tile an (N, C, H, W) or (C, H, W) input into `output_size` (an int, or a pair
    whose None keeps that size), as PyTorch: output row i averages input rows floor(i H / out) to
    ceil((i + 1) H / out), so windows may overlap by one when out does not divide H.

    (1, 1) is a mean over H and W (global average pooling); a size that divides the input is an avg_pool2d.

    >>> import numpy as np
    >>> adaptive_avg_pool2d(np.arange(6.0).reshape(1, 1, 2, 3), (1, 2)).value.tolist()
    [[[[2.0, 3.0]]]]
    """
    where = "adaptive_avg_pool2d"
    ndim = np.ndim(input.value if isinstance(input, TensorNode) else input)
    if ndim not in (3, 4):
        raise ValueError(f"{where}: input must have 4 dims (N, C, H, W) or 3 (C, H, W), got {ndim} dims")
    sizes = np.shape(input.value if isinstance(input, TensorNode) else input)[-2:]
    wanted = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(wanted) != 2:
        raise ValueError(f"{where}: output_size must be an int or a pair, got {output_size!r}")
    out = tuple(size if o is None else as_int(where, "output_size", o, 1) for o, size in zip(wanted, sizes))
    if out == (1, 1):
        return ag.mean(input, axis=(-2, -1), keepdims=True)
    if sizes[0] % out[0] == 0 and sizes[1] % out[1] == 0:
        x = ag.unsqueeze(input, 0) if ndim == 3 else input
        y = ag.avg_pool2d(x, (sizes[0] // out[0], sizes[1] // out[1]))
        return ag.squeeze(y, 0) if ndim == 3 else y
    # A window is a rectangle, so its mean is the mean over its columns of the means over its rows.
    x = input
    for axis, (size, n) in zip((-2, -1), zip(sizes, out)):
        parts = []
        for i in range(n):
            start, stop = (i * size) // n, -(-((i + 1) * size) // n)
            index = (Ellipsis, slice(start, stop)) if axis == -1 else (Ellipsis, slice(start, stop), slice(None))
            parts.append(ag.mean(ag.getitem(x, index), axis=axis, keepdims=True))
        x = ag.concat(parts, axis=axis)
    return x


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> TensorNode:
    """softmax(query @ key^T * scale + mask) @ value over the last two axes, as PyTorch's.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev). Leading axes broadcast.
        attn_mask: broadcastable to (..., L, S): a bool mask says which keys each query may attend to
            (True takes part), a float mask is added to the scores (-inf excludes).
        dropout_p: dropout on the attention weights, applied whenever > 0 (as PyTorch: pass 0.0 in eval).
        is_causal: query i attends to keys 0..i only (the top-left triangle); excludes attn_mask.
        scale: defaults to 1 / sqrt(E).
        enable_gqa: key and value may have fewer heads (axis -3) than query, each shared by a group of query heads.

    A query that may attend to no key gets zeros, as in PyTorch's CPU kernels (not NaN).

    >>> import numpy as np
    >>> q = k = np.eye(2)[None]; v = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> scaled_dot_product_attention(q, k, v, is_causal=True).value[0, 0].tolist()
    [1.0, 0.0]
    """
    where = "scaled_dot_product_attention"
    if is_causal and attn_mask is not None:
        raise ValueError(f"{where}: give attn_mask or is_causal=True, not both")
    query, key, value = (x if isinstance(x, TensorNode) else ag.tensor(x) for x in (query, key, value))
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        key, value = (_repeat_heads(where, x, query.shape[-3]) for x in (key, value))
    masks = [attn_mask] if attn_mask is not None else []
    if is_causal:
        masks.append(np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=bool)))
    return attention(query, key, value, masks, dropout_p, scale)[0]


def _repeat_heads(where: str, x: TensorNode, heads: int) -> TensorNode:
    """(..., Hk, S, E) -> (..., heads, S, E), each of the Hk heads repeated heads / Hk times in a row."""
    groups = x.shape[-3]
    if heads % groups:
        raise ValueError(f"{where}: enable_gqa needs query heads ({heads}) divisible by key heads ({groups})")
    shape = (*x.shape[:-3], groups, heads // groups, *x.shape[-2:])
    return ag.reshape(ag.expand(ag.unsqueeze(x, -3), shape), (*x.shape[:-3], heads, *x.shape[-2:]))


def attention(query, key, value, masks: list, dropout_p: float = 0.0, scale: float | None = None) -> tuple:
    """(softmax(q k^T * scale + masks) @ v, the weights): what scaled_dot_product_attention and
    MultiheadAttention share. A bool mask keeps where True, a float mask is added; rows with no key left
    get zero weights.
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ag.matmul(query, ag.swapaxes(key, -2, -1)) * scale
    excluded = np.array(-np.inf, dtype=scores.dtype)
    for mask in masks:
        array = mask.value if isinstance(mask, TensorNode) else np.asarray(mask)
        if array.dtype == bool:
            scores = ag.where(array, scores, excluded)
        else:  # a float64 mask must not turn float32 scores into float64
            scores = scores + (mask if isinstance(mask, TensorNode) else array.astype(scores.dtype, copy=False))
    empty = np.all(scores.value == -np.inf, axis=-1, keepdims=True)
    if empty.any():
        # softmax of a row of -inf is NaN, and NaN times a zero gradient is NaN: give such rows uniform
        # scores, then zero their weights.
        weights = ag.where(empty, 0.0, ag.softmax(ag.where(empty, 0.0, scores), axis=-1))
    else:
        weights = ag.softmax(scores, axis=-1)
    if dropout_p > 0.0:
        weights = ag.dropout(weights, dropout_p, True)
    return ag.matmul(weights, value), weights


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


def pad(input, pad, mode: str = "constant", value: float | None = None) -> TensorNode:
    """Pad the last len(pad) // 2 dims, as torch.nn.functional.pad: `pad` is (left, right) of the last
    dim, then (top, bottom) of the one before, ...; filled with `value` (0 by default). Only "constant".

    >>> import numpy as np
    >>> pad(np.ones((1, 2)), (1, 0), value=5.0).value.tolist()
    [[5.0, 1.0, 1.0]]
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    pairs = list(pad)
    ndim = np.ndim(getattr(input, "value", input))
    if len(pairs) % 2 or len(pairs) // 2 > ndim:
        raise ValueError(f"pad: needs (before, after) pairs for at most {ndim} dims, got {tuple(pairs)}")
    widths = [(0, 0)] * (ndim - len(pairs) // 2) + [tuple(pairs[i : i + 2]) for i in range(len(pairs) - 2, -1, -2)]
    padded = ag.pad(input, widths)
    if not value:
        return padded
    border = np.pad(np.zeros(np.shape(getattr(input, "value", input)), bool), widths, constant_values=True)
    return ag.where(border, np.asarray(value, padded.dtype), padded)


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
