"""The op library, one module per family; each Op also has a lower-case function."""

from autograd.ops.activation import (
    ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh,
    elu, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh,
)
from autograd.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub, add, div, mul, neg, pow, sub
from autograd.ops.conv import AvgPool2d, Conv2d, MaxPool2d, avg_pool2d, conv2d, max_pool2d
from autograd.ops.linalg import MatMul, matmul
from autograd.ops.loss import (
    BCEWithLogits, CrossEntropy, MSELoss, MultiMarginLoss, NLLLoss,
    binary_cross_entropy_with_logits, cross_entropy, mse_loss, multi_margin_loss, nll_loss,
)
from autograd.ops.math import Abs, Clip, Exp, Log, Maximum, Minimum, Sqrt, abs, clip, exp, log, maximum, minimum, sqrt
from autograd.ops.norm import BatchNorm, Dropout, batch_norm, dropout
from autograd.ops.reduce import Max, Mean, Min, Sum, Var, max, mean, min, sum, var
from autograd.ops.shape import (
    Concat, Expand, GetItem, Pad, Reshape, Squeeze, Stack, Transpose, Unsqueeze,
    concat, expand, getitem, pad, reshape, squeeze, stack, transpose, unsqueeze,
)

__all__ = [
    "Abs", "Add", "AvgPool2d", "BCEWithLogits", "BatchNorm", "Clip", "Concat", "Conv2d", "CrossEntropy", "Div",
    "Dropout", "ELU", "Exp", "Expand", "GetItem", "LeakyReLU", "Log", "LogSoftmax", "MSELoss", "MatMul", "Max",
    "MaxPool2d", "Maximum", "Mean", "Min", "Minimum", "Mul", "MultiMarginLoss", "NLLLoss", "Neg", "Pad", "Pow",
    "ReLU", "Reshape", "Sigmoid", "Softmax", "Sqrt", "Squeeze", "Stack", "Sub", "Sum", "Tanh", "Transpose",
    "Unsqueeze", "Var",
    "abs", "add", "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "clip", "concat", "conv2d",
    "cross_entropy", "div", "dropout", "elu", "exp", "expand", "getitem", "leaky_relu", "log", "log_softmax",
    "matmul", "max", "max_pool2d", "maximum", "mean", "min", "minimum", "mse_loss", "mul", "multi_margin_loss",
    "neg", "nll_loss", "pad", "pow", "relu", "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub",
    "sum", "tanh", "transpose", "unsqueeze", "var",
]
