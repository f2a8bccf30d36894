"""nodegrad's autograd engine: TensorNode, OpNode, Op, the op library and gradient checking.

>>> import numpy as np, autograd as ag
>>> x = ag.tensor(np.ones((2, 3)), requires_grad=True)
>>> (x * 3).sum().backward(); x.grad.tolist()
[[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
"""

from autograd.tensor import TensorNode, tensor  # first: the op modules import it
from autograd.graph import OpNode, enable_grad, gradient_summary, is_grad_enabled, no_grad, record_grad_stats
from autograd.op import OP_REGISTRY, Context, Op
from autograd.broadcast import sum_to_shape
from autograd.gradcheck import GradcheckError, gradcheck, numerical_gradient, rel_error
from autograd.random import manual_seed
from autograd.ops import (
    abs, add, avg_pool2d, batch_norm, binary_cross_entropy_with_logits, clip, concat, conv2d, cross_entropy, div,
    dropout, elu, exp, expand, getitem, leaky_relu, log, log_softmax, matmul, max, max_pool2d, maximum, mean, min,
    minimum, mse_loss, mul, multi_margin_loss, neg, nll_loss, pad, pow, relu, reshape, sigmoid, softmax, sqrt,
    squeeze, stack, sub, sum, tanh, transpose, unsqueeze, var,
)

__all__ = [
    "OP_REGISTRY", "Context", "GradcheckError", "Op", "OpNode", "TensorNode",
    "enable_grad", "gradcheck", "gradient_summary", "record_grad_stats", "is_grad_enabled", "manual_seed", "no_grad", "numerical_gradient", "rel_error",
    "sum_to_shape", "tensor",
    "abs", "add", "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "clip", "concat", "conv2d",
    "cross_entropy", "div", "dropout", "elu", "exp", "expand", "getitem", "leaky_relu", "log", "log_softmax",
    "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mse_loss", "mul", "multi_margin_loss",
    "neg", "nll_loss", "pad", "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub",
    "sum", "tanh", "transpose", "unsqueeze", "var",
]
