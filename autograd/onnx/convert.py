"""Converters of the computing ops: elementwise math, activations, reductions, linear algebra,
convolution and pooling, normalization and losses. Each writes one op application as ONNX nodes.

Where ONNX has the op, the op maps to it with its settings as attributes; where it has not, the
converter composes the op from ONNX ops that do (variance, multi-axis softmax, binary cross-entropy).
"""

import math

import numpy as np

from autograd import ops
from autograd.onnx.builder import UnsupportedOpError
from autograd.op import normalize_axes
from autograd.ops.conv import _conv_settings, _pool_settings


def elementwise(op_type: str):
    """An op computed by one ONNX op of the same inputs, made one dtype as numpy's promotion made them."""

    def convert(g, node):
        g.add(op_type, node.inputs(node.dtype), node.outputs)

    return convert


def unary(op_type: str, **attributes):
    """An op of one input computed by one ONNX op; `attributes` maps ONNX attributes to the op's settings."""

    def convert(g, node):
        values = {name: float(node.settings[setting]) for name, setting in attributes.items()}
        g.add(op_type, [node.input(0)], node.outputs, **values)

    return convert


def log1p(g, node):
    """log(1 + x): ONNX has no log1p (tiny x loses the digits log1p keeps)."""
    g.add("Log", [g.add("Add", [node.input(0), g.scalar(1, node.dtype, "one")])], node.outputs)


def expm1(g, node):
    """exp(x) - 1: ONNX has no expm1."""
    g.add("Sub", [g.add("Exp", [node.input(0)]), g.scalar(1, node.dtype, "one")], node.outputs)


def erfc(g, node):
    g.add("Sub", [g.scalar(1, node.dtype, "one"), g.add("Erf", [node.input(0)])], node.outputs)


def softplus(g, node):
    """Softplus(beta x) / beta, and x itself where beta x > threshold: ONNX's Softplus has neither setting."""
    x, s, dtype = node.input(0), node.settings, node.dtype
    scaled = g.add("Mul", [x, g.scalar(s["beta"], dtype, "beta")])
    soft = g.add("Div", [g.add("Softplus", [scaled]), g.scalar(s["beta"], dtype, "beta")])
    linear = g.add("Greater", [scaled, g.scalar(s["threshold"], dtype, "threshold")])
    g.add("Where", [linear, x, soft], node.outputs)


def gelu(g, node):
    """x (1 + erf(x / sqrt(2))) / 2, or with tanh(sqrt(2/pi) (x + 0.044715 x^3)): ONNX's Gelu is opset 20's."""
    x, dtype = node.input(0), node.dtype
    if node.settings["approximate"] == "tanh":
        cube = g.add("Mul", [g.add("Mul", [x, x]), x])
        inner = g.add("Add", [x, g.add("Mul", [cube, g.scalar(0.044715, dtype, "kappa")])])
        bent = g.add("Tanh", [g.add("Mul", [inner, g.scalar(math.sqrt(2 / math.pi), dtype, "sqrt_2_over_pi")])])
    else:
        bent = g.add("Erf", [g.add("Mul", [x, g.scalar(math.sqrt(0.5), dtype, "sqrt_half")])])
    half = g.add("Mul", [g.add("Add", [bent, g.scalar(1, dtype, "one")]), g.scalar(0.5, dtype, "half")])
    g.add("Mul", [x, half], node.outputs)


def comparison(op_type: str):
    def convert(g, node):
        g.add(op_type, node.inputs(np.result_type(*node.arrays)), node.outputs)

    return convert


def identity(g, node):
    """Dropout in evaluation: the input as it is."""
    g.add("Identity", [node.input(0)], node.outputs)


def cast(g, node):
    g.add("Cast", [node.input(0)], node.outputs, to=g.onnx.helper.np_dtype_to_tensor_dtype(node.dtype))


def clip(g, node):
    x, dtype = node.input(0), node.arrays[0].dtype
    bounds = [node.settings[k] for k in ("a_min", "a_max")]
    g.add("Clip", [x] + ["" if b is None else g.scalar(b, dtype, "clip_bound") for b in bounds], node.outputs)


def where(g, node):
    condition = node.input(0, bool)
    g.add("Where", [condition, node.input(1, node.dtype), node.input(2, node.dtype)], node.outputs)


def softmax_along(op_type: str):
    """Softmax and LogSoftmax: ONNX's op along one axis; over several, x - logsumexp(x) (exp'd for Softmax)."""

    def convert(g, node):
        x = node.input(0)
        axes = normalize_axes(op_type, node.settings["axis"], node.arrays[0].ndim)
        if len(axes) == 1:
            g.add(op_type, [x], node.outputs, axis=axes[0])
            return
        log_probs = g.add("Sub", [x, g.reduce("ReduceLogSumExp", x, axes, keepdims=True)])
        g.add("Exp" if op_type == "Softmax" else "Identity", [log_probs], node.outputs)

    return convert


def reduction(op_type: str):
    def convert(g, node):
        axes = normalize_axes(op_type, node.settings["axis"], node.arrays[0].ndim)
        g.reduce(op_type, node.input(0), axes, node.settings["keepdims"], node.outputs)

    return convert


def var(g, node):
    """mean((x - mean(x))^2), times n / (n - ddof) with n read from the shape at run time (it may be the batch)."""
    x, s = node.input(0), node.settings
    axes = normalize_axes("var", s["axis"], node.arrays[0].ndim)
    centered = g.add("Sub", [x, g.reduce("ReduceMean", x, axes, keepdims=True)])
    squares = g.add("Mul", [centered, centered])
    if not s["ddof"]:
        g.reduce("ReduceMean", squares, axes, s["keepdims"], node.outputs)
        return
    sizes = g.add("Gather", [g.add("Shape", [x]), g.ints(axes, "axes")])
    count = g.cast(g.reduce("ReduceProd", sizes, [0], keepdims=False), node.dtype)
    divisor = g.add("Sub", [count, g.scalar(s["ddof"], node.dtype, "ddof")])
    g.add("Div", [g.reduce("ReduceSum", squares, axes, s["keepdims"]), divisor], node.outputs)


def logsumexp(g, node):
    axes = normalize_axes("logsumexp", node.settings["axis"], node.arrays[0].ndim)
    g.reduce("ReduceLogSumExp", node.input(0), axes, node.settings["keepdims"], node.outputs)


def cumsum(g, node):
    s = node.settings
    axis = g.constant(np.array(normalize_axes("cumsum", s["axis"], node.arrays[0].ndim)[0]), hint="axis")
    g.add("CumSum", [node.input(0), axis], node.outputs, reverse=int(s["reverse"]))


def gather(g, node):
    """torch.gather is ONNX's GatherElements."""
    g.add("GatherElements", [node.input(0), node.input(1, np.int64)], node.outputs, axis=int(node.settings["dim"]))


def scatter_add(g, node):
    """torch.scatter_add is ONNX's ScatterElements with reduction="add" (opset 16 on)."""
    if g.opset < 16:
        raise UnsupportedOpError(
            f"onnx export: ScatterAdd needs opset 16 or later (ScatterElements' reduction), got {g.opset}"
        )
    x, index, src = node.input(0), node.input(1, np.int64), node.input(2, node.dtype)
    g.add("ScatterElements", [x, index, src], node.outputs, axis=int(node.settings["dim"]), reduction="add")


def embedding(g, node):
    """Rows of the weight: Gather along axis 0."""
    g.add("Gather", [node.input(1), node.input(0, np.int64)], node.outputs, axis=0)


def linear(g, node):
    """Gemm (x @ w^T + b) for a matrix x; MatMul with w^T, then Add, for a batch of matrices."""
    x, weight, bias = node.inputs(node.dtype)
    if node.arrays[0].ndim == 2:
        g.add("Gemm", [x, weight, bias], node.outputs, transB=1)
        return
    product = g.add("MatMul", [x, g.add("Transpose", [weight], perm=[1, 0])], None if bias else node.outputs)
    if bias:
        g.add("Add", [product, bias], node.outputs)


def conv2d(g, node):
    s = node.settings
    settings = _conv_settings("conv2d", s["stride"], s["padding"], s["dilation"], s["groups"])
    g.add(
        "Conv",
        node.inputs(node.dtype),
        node.outputs,
        kernel_shape=list(node.arrays[1].shape[2:]),
        strides=list(settings["stride"]),
        pads=list(settings["padding"]) * 2,  # begins then ends of (H, W): symmetric padding
        dilations=list(settings["dilation"]),
        group=settings["groups"],
    )


def pool(op_type: str, **attributes):
    def convert(g, node):
        s = node.settings
        settings = _pool_settings(op_type, s["kernel_size"], s["stride"], s["padding"])
        kernel, stride, padding = (list(settings[k]) for k in ("kernel_size", "stride", "padding"))
        g.add(
            op_type, [node.input(0)], node.outputs, kernel_shape=kernel, strides=stride, pads=padding * 2, **attributes
        )

    return convert


def batch_norm(g, node):
    """BatchNormalization with the running statistics; with batch statistics (no running ones), composed."""
    s, x, dtype = node.settings, node.input(0), node.dtype
    channels = node.arrays[0].shape[1]
    weight = node.input(1, dtype) or g.constant(np.ones(channels, dtype), hint="batch_norm_weight")
    bias = node.input(2, dtype) or g.constant(np.zeros(channels, dtype), hint="batch_norm_bias")
    if not s["training"]:
        statistics = [g.constant(s[k], dtype, hint=k) for k in ("running_mean", "running_var")]
        g.add("BatchNormalization", [x, weight, bias, *statistics], node.outputs, epsilon=float(s["eps"]))
        return
    ndim = node.arrays[0].ndim
    axes, per_channel = [0, *range(2, ndim)], g.ints([1, channels] + [1] * (ndim - 2), "per_channel")
    centered = g.add("Sub", [x, g.reduce("ReduceMean", x, axes, keepdims=True)])
    variance = g.reduce("ReduceMean", g.add("Mul", [centered, centered]), axes, keepdims=True)
    std = g.add("Sqrt", [g.add("Add", [variance, g.scalar(s["eps"], dtype, "eps")])])
    scaled = g.add("Mul", [g.add("Div", [centered, std]), g.add("Reshape", [weight, per_channel])])
    g.add("Add", [scaled, g.add("Reshape", [bias, per_channel])], node.outputs)


def layer_norm(g, node):
    """LayerNormalization over the last len(normalized_shape) axes (opset 17 on)."""
    if g.opset < 17:
        raise UnsupportedOpError(f"onnx export: LayerNorm needs opset 17 or later (LayerNormalization), got {g.opset}")
    s, x, dtype = node.settings, node.input(0), node.dtype
    shape = tuple(s["normalized_shape"])
    weight = node.input(1, dtype) or g.constant(np.ones(shape, dtype), hint="layer_norm_weight")
    inputs = [x, weight] + ([node.input(2, dtype)] if node.arrays[2] is not None else [])
    g.add("LayerNormalization", inputs, node.outputs, axis=-len(shape), epsilon=float(s["eps"]))


def reduce_loss(g, node, losses: str) -> None:
    """The per-element losses summed, averaged or kept, as the loss's `reduction` says."""
    reduction = node.settings["reduction"]
    if reduction == "none":
        g.add("Identity", [losses], node.outputs)
        return
    axes = range(node.arrays[0].ndim)
    g.reduce("ReduceMean" if reduction == "mean" else "ReduceSum", losses, axes, False, node.outputs)


def class_loss(op_type: str):
    """CrossEntropy and NLLLoss: ONNX's losses of scores (N, C), int64 class labels (N,) and class weights."""

    def convert(g, node):
        s = node.settings
        if s.get("label_smoothing"):
            raise UnsupportedOpError(f"onnx export: {op_type} has no label smoothing, got {s['label_smoothing']}")
        inputs = [node.input(0), node.input(1, np.int64)]
        if s["weight"] is not None:
            inputs.append(g.constant(s["weight"], node.dtype, hint="class_weight"))
        g.add(op_type, inputs, node.outputs, reduction=s["reduction"], ignore_index=int(s["ignore_index"]))

    return convert


def mse_loss(g, node):
    difference = g.add("Sub", node.inputs(node.dtype))
    reduce_loss(g, node, g.add("Mul", [difference, difference]))


def bce_with_logits(g, node):
    """max(x, 0) - x t + log(1 + exp(-|x|)): the stable form the op computes."""
    x, target = node.inputs(node.dtype)
    tail = g.add("Softplus", [g.add("Neg", [g.add("Abs", [x])])])
    reduce_loss(g, node, g.add("Add", [g.add("Sub", [g.add("Relu", [x]), g.add("Mul", [x, target])]), tail]))


CONVERTERS = {
    ops.Add: elementwise("Add"),
    ops.Sub: elementwise("Sub"),
    ops.Mul: elementwise("Mul"),
    ops.Div: elementwise("Div"),
    ops.Pow: elementwise("Pow"),
    ops.Maximum: elementwise("Max"),
    ops.Minimum: elementwise("Min"),
    ops.MatMul: elementwise("MatMul"),
    ops.Neg: unary("Neg"),
    ops.Exp: unary("Exp"),
    ops.Log: unary("Log"),
    ops.Sqrt: unary("Sqrt"),
    ops.Sin: unary("Sin"),
    ops.Cos: unary("Cos"),
    ops.Tan: unary("Tan"),
    ops.Sinh: unary("Sinh"),
    ops.Cosh: unary("Cosh"),
    ops.Erf: unary("Erf"),
    ops.Erfc: erfc,
    ops.Log1p: log1p,
    ops.Expm1: expm1,
    ops.Softplus: softplus,
    ops.GELU: gelu,
    ops.Abs: unary("Abs"),
    ops.Sigmoid: unary("Sigmoid"),
    ops.Tanh: unary("Tanh"),
    ops.ReLU: unary("Relu"),
    ops.LeakyReLU: unary("LeakyRelu", alpha="negative_slope"),
    ops.ELU: unary("Elu", alpha="alpha"),
    ops.Softmax: softmax_along("Softmax"),
    ops.LogSoftmax: softmax_along("LogSoftmax"),
    ops.Cast: cast,
    ops.Clip: clip,
    ops.Where: where,
    ops.Sum: reduction("ReduceSum"),
    ops.Mean: reduction("ReduceMean"),
    ops.Max: reduction("ReduceMax"),
    ops.Min: reduction("ReduceMin"),
    ops.Var: var,
    ops.LogSumExp: logsumexp,
    ops.Cumsum: cumsum,
    ops.Gather: gather,
    ops.ScatterAdd: scatter_add,
    ops.Embedding: embedding,
    ops.LayerNorm: layer_norm,
    ops.Linear: linear,
    ops.Conv2d: conv2d,
    ops.MaxPool2d: pool("MaxPool"),
    ops.AvgPool2d: pool("AveragePool", count_include_pad=1),  # zero padding counts in the mean, as in PyTorch
    ops.BatchNorm: batch_norm,
    ops.Dropout: identity,
    ops.CrossEntropy: class_loss("SoftmaxCrossEntropyLoss"),
    ops.NLLLoss: class_loss("NegativeLogLikelihoodLoss"),
    ops.MSELoss: mse_loss,
    ops.BCEWithLogits: bce_with_logits,
    np.greater: comparison("Greater"),
    np.greater_equal: comparison("GreaterOrEqual"),
    np.less: comparison("Less"),
    np.less_equal: comparison("LessOrEqual"),
}
