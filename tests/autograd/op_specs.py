"""The table of op specs that drives the generated op tests.

Each OpSpec names an Op class, how to call it (through its public function), the input shapes to
try, a numpy reference of the forward pass and, where it exists, the same computation in PyTorch.
Adding an op means adding a row here; test_ops.py fails for any registered op without one.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import autograd as ag
from autograd import ops
from tests.autograd.loops import adjoint, conv2d_loop, gather_loop, pool2d_loop


@dataclass
class OpSpec:
    op: type
    fn: Callable  # (*tensors, **params) -> TensorNode, through the public function
    shapes: list  # one tuple of input shapes per case
    ref: Callable  # (*arrays, **params) -> ndarray, the forward pass written in plain numpy
    torch_fn: Callable | None = None  # (torch, *torch_tensors, **params) -> torch tensor
    params: list = field(default_factory=lambda: [{}])
    low: float = -1.0
    high: float = 1.0
    torch_second_order: bool = True  # False where PyTorch has no double backward for its counterpart
    name: str | None = None  # the cases' name, where it is not the op's: a composition of ops (silu is Sigmoid's)

    def cases(self):
        for i, shapes in enumerate(self.shapes):
            for j, params in enumerate(self.params):
                yield f"{self.name or self.op.__name__}-{i}-{j}", shapes, params


def _targets(shape):
    """Class indices that cover several classes, fixed by the logits' shape."""
    return np.arange(shape[0]) * 7 % shape[1]


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _reduced(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum, "none": lambda: losses}[reduction]()


def _torch_bn(torch, x, w, b, training):
    c = x.shape[1]
    mean = torch.full((c,), 0.1, dtype=x.dtype)
    var = torch.full((c,), 2.0, dtype=x.dtype)
    return torch.nn.functional.batch_norm(x, mean, var, w, b, training=training)


def _bn(x, w, b, training):
    c = x.shape[1]
    return ag.batch_norm(x, np.full(c, 0.1), np.full(c, 2.0), w, b, training=training)


def _bn_ref(x, w, b, training):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = (x.mean(axes), x.var(axes)) if training else (np.full(x.shape[1], 0.1), np.full(x.shape[1], 2.0))
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-5) * w.reshape(shape) + b.reshape(shape)


def _dropout(x, p):
    ag.manual_seed(0)  # the same mask on every evaluation, so finite differences see one function
    return ag.dropout(x, p=p)


def _dropout_ref(x, p):
    return x * (np.random.default_rng(0).random(x.shape) < 1 - p) / (1 - p)


def _mask(*shapes):
    """A fixed condition for where(), broadcast like its operands."""
    shape = np.broadcast_shapes(*shapes)
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 == 0


def _scattered(g, shape, index):
    dx = np.zeros(shape)
    np.add.at(dx, index, g)
    return dx


def _weight_grad(x, g):
    return g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])


def _log_softmax(x, axis=-1):
    return np.log(_softmax(x, axis))


# Class weights and targets for the weighted, ignoring and smoothed class losses: (5, 4) logits.
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
CLASS_TARGET = np.array([0, 3, -100, 1, 3])  # one sample ignored under the default ignore_index
CLASS_LOSS_PARAMS = [
    dict(weight=CLASS_WEIGHT),
    dict(ignore_index=3),
    dict(label_smoothing=0.2),
    dict(weight=CLASS_WEIGHT, label_smoothing=0.1),
]


def _class_params(params, target):
    """The params of one class-loss case, and its target (the default ignore_index drops sample 2)."""
    reduction = params.get("reduction", "mean")
    extra = {k: v for k, v in params.items() if k != "reduction"}
    return np.where(target == -100, 0, target) if "ignore_index" in extra else target, reduction, extra


def _class_loss_ref(log_probs, params):
    target, reduction, extra = _class_params(params, CLASS_TARGET)
    return _written_out_class_loss(log_probs, target, reduction, **extra)


def _written_out_class_loss(log_probs, target, reduction, weight=None, ignore_index=-100, label_smoothing=0.0):
    """PyTorch's weighted, ignoring, smoothed class loss from log-probabilities, written out."""
    classes = log_probs.shape[1]
    w = np.ones(classes) if weight is None else weight
    kept = target != ignore_index
    t = np.where(kept, target, 0)
    nll = -w[t] * log_probs[np.arange(len(t)), t] * kept
    smooth = -(log_probs * w).sum(axis=1) * kept
    losses = (1 - label_smoothing) * nll + label_smoothing / classes * smooth
    if reduction == "mean":
        return losses.sum() / (w[t] * kept).sum()
    return _reduced(losses, reduction)


def _torch_class_params(t, params):
    return {k: (t.as_tensor(v) if isinstance(v, np.ndarray) else v) for k, v in params.items()}


def _index(shape, high, seed):
    """Fixed integer indices with repeats (to test accumulation in the scatters)."""
    return np.random.default_rng(seed).integers(0, high, shape)


GATHER_INDEX = {0: _index((2, 4), 3, 0), 1: _index((3, 5), 4, 1)}  # into (3, 4) along dim 0 and 1
EMBEDDING_INDEX = np.array([[1, 4, 0, 1], [3, 1, 4, 4]])  # into 5 rows; the 2nd is missing


def _scattered_along(src, shape, index, dim):
    out = np.zeros(shape)
    places = list(np.indices(index.shape, sparse=True))
    places[dim] = index
    np.add.at(out, tuple(places), src)
    return out


def _embedding_grad_ref(g, num_embeddings, padding_idx=None):
    dw = np.zeros((num_embeddings, g.shape[-1]))
    np.add.at(dw, EMBEDDING_INDEX, g)
    if padding_idx is not None:
        dw[padding_idx] = 0
    return dw


def _layer_norm_ref(x, w=None, b=None, dims=1):
    axes = tuple(range(x.ndim - dims, x.ndim))
    x_hat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    return x_hat * (1 if w is None else w) + (0 if b is None else b)


def _erf_ref(fn):
    return lambda x: np.vectorize(fn)(x)


def _torch_pad(t, x, pad_width):
    """np.pad's zero padding as torch.nn.functional.pad, whose pairs run from the last dim backwards."""
    pairs = [(pad_width, pad_width)] * x.ndim if isinstance(pad_width, int) else pad_width
    return t.nn.functional.pad(x, [n for pair in reversed(pairs) for n in pair])


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))]
UNARY_SHAPES = [((3, 4),), ((),), ((2, 3, 2),)]
REDUCE_PARAMS = [dict(), dict(axis=1), dict(axis=(0, 2), keepdims=True), dict(axis=-1, keepdims=True)]
REDUCTIONS = [dict(reduction="mean"), dict(reduction="sum"), dict(reduction="none")]
POOL_PARAMS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1)]


def _conv_input_grad_ref(g, w, input_size, **p):
    x_shape = (g.shape[0], w.shape[1] * p.get("groups", 1), *input_size)
    return adjoint(lambda x: conv2d_loop(x, w, **p), x_shape, g)


def _conv_weight_grad_ref(x, g, kernel_size, **p):
    w_shape = (g.shape[1], x.shape[1] // p.get("groups", 1), *kernel_size)
    dw = adjoint(lambda w: conv2d_loop(x, w, **p), w_shape, g)
    return np.concatenate([dw.reshape(-1), g.sum(axis=(0, 2, 3))])


def _conv_weight_grad(x, g, **p):
    dw, db = ops.Conv2dWeightGrad.apply(x, g, with_bias=True, **p)
    return ag.concat([dw.reshape(-1), db])


def _torch_conv_weight_grad(t, x, g, kernel_size, **p):
    w_shape = (g.shape[1], x.shape[1] // p.get("groups", 1), *kernel_size)
    return t.cat([t.nn.grad.conv2d_weight(x, w_shape, g, **p).reshape(-1), g.sum((0, 2, 3))])


POOL_INPUT = (2, 3, 6, 7)  # the pool specs' input; the gradient ops take its gradient or winners


def _pool_out_shape(p):
    return ag.max_pool2d(np.zeros(POOL_INPUT), **p).shape


def _winners(p):
    """Fixed window offsets (any are valid: the gather and the scatter are linear in the values)."""
    kernel = p["kernel_size"]
    count = kernel * kernel if isinstance(kernel, int) else kernel[0] * kernel[1]
    return np.random.default_rng(0).integers(0, count, _pool_out_shape(p)).astype(np.uint8)


def _max_pool_grad(g, **p):
    return ops.MaxPool2dGrad.apply(g, _winners(p), input_size=POOL_INPUT[2:], **p)


def _avg_pool_grad_ref(g, **p):
    return adjoint(lambda x: pool2d_loop(x, reduce=np.mean, fill=0.0, **p), POOL_INPUT, g)


def _torch_avg_pool_grad(t, g, kernel_size, stride=None, padding=0):
    x = t.zeros(POOL_INPUT, dtype=g.dtype)
    return t.ops.aten.avg_pool2d_backward(g, x, kernel_size, stride or [], padding, False, True, None)


SPECS = [
    # arithmetic
    OpSpec(ops.Add, lambda a, b: a + b, BINARY_SHAPES, np.add, lambda t, a, b: a + b),
    OpSpec(ops.Sub, lambda a, b: a - b, BINARY_SHAPES, np.subtract, lambda t, a, b: a - b),
    OpSpec(ops.Mul, lambda a, b: a * b, BINARY_SHAPES, np.multiply, lambda t, a, b: a * b),
    OpSpec(ops.Div, lambda a, b: a / b, BINARY_SHAPES, np.divide, lambda t, a, b: a / b, low=0.5, high=2.0),
    OpSpec(ops.Neg, lambda a: -a, UNARY_SHAPES, np.negative, lambda t, a: -a),
    OpSpec(ops.Pow, lambda a, b: a**b, BINARY_SHAPES, np.power, lambda t, a, b: a**b, low=0.5, high=2.0),
    # math
    OpSpec(ops.Exp, ag.exp, UNARY_SHAPES, np.exp, lambda t, a: a.exp()),
    OpSpec(ops.Log, ag.log, UNARY_SHAPES, np.log, lambda t, a: a.log(), low=0.1, high=3.0),
    OpSpec(ops.Sqrt, ag.sqrt, UNARY_SHAPES, np.sqrt, lambda t, a: a.sqrt(), low=0.1, high=3.0),
    OpSpec(ops.Abs, ag.abs, UNARY_SHAPES, np.abs, lambda t, a: a.abs()),
    OpSpec(
        ops.Clip,
        ag.clip,
        UNARY_SHAPES,
        np.clip,
        lambda t, a, a_min, a_max: a.clamp(a_min, a_max),
        params=[dict(a_min=-0.5, a_max=0.5), dict(a_min=None, a_max=0.2), dict(a_min=-0.3, a_max=None)],
    ),
    OpSpec(
        ops.Where,
        lambda a, b: ag.where(_mask(a.shape, b.shape), a, b),
        BINARY_SHAPES,
        lambda a, b: np.where(_mask(a.shape, b.shape), a, b),
        lambda t, a, b: t.where(t.as_tensor(_mask(a.shape, b.shape)), a, b),
    ),
    OpSpec(
        # A round trip through long double: exact, so finite differences see the identity.
        ops.Cast,
        lambda x: ag.cast(ag.cast(x, np.longdouble), x.dtype),
        UNARY_SHAPES,
        lambda x: x,
        lambda t, x: x.double().to(x.dtype),
    ),
    OpSpec(ops.Sin, ag.sin, UNARY_SHAPES, np.sin, lambda t, a: a.sin(), low=-3, high=3),
    OpSpec(ops.Cos, ag.cos, UNARY_SHAPES, np.cos, lambda t, a: a.cos(), low=-3, high=3),
    OpSpec(ops.Tan, ag.tan, UNARY_SHAPES, np.tan, lambda t, a: a.tan(), low=-1.2, high=1.2),
    OpSpec(ops.Sinh, ag.sinh, UNARY_SHAPES, np.sinh, lambda t, a: a.sinh(), low=-2, high=2),
    OpSpec(ops.Cosh, ag.cosh, UNARY_SHAPES, np.cosh, lambda t, a: a.cosh(), low=-2, high=2),
    OpSpec(ops.Log1p, ag.log1p, UNARY_SHAPES, np.log1p, lambda t, a: a.log1p(), low=-0.5, high=2),
    OpSpec(ops.Expm1, ag.expm1, UNARY_SHAPES, np.expm1, lambda t, a: a.expm1()),
    OpSpec(ops.Erf, ag.erf, UNARY_SHAPES, _erf_ref(math.erf), lambda t, a: a.erf(), low=-2.5, high=2.5),
    OpSpec(ops.Erfc, ag.erfc, UNARY_SHAPES, _erf_ref(math.erfc), lambda t, a: a.erfc(), low=-2.5, high=2.5),
    OpSpec(
        ops.Where,
        lambda a: ag.masked_fill(a, _mask(a.shape[-1:]), 0.5),
        UNARY_SHAPES[::2],
        lambda a: np.where(_mask(a.shape[-1:]), 0.5, a),
        lambda t, a: a.masked_fill(t.as_tensor(_mask(a.shape[-1:])), 0.5),
        name="masked_fill",
    ),
    OpSpec(
        ops.Where,
        lambda a, v: ag.masked_fill(a, _mask(a.shape), v),
        [((3, 4), ())],
        lambda a, v: np.where(_mask(a.shape), v, a),
        lambda t, a, v: a.masked_fill(t.as_tensor(_mask(a.shape)), v),
        name="masked_fill_tensor",
    ),
    *[
        OpSpec(
            ops.Where,
            fn,
            [((4, 5),), ((2, 5, 3),)],
            lambda x, diagonal=0, ref=ref: ref(x, diagonal),
            lambda t, x, diagonal=0, name=name: getattr(x, name)(diagonal),
            params=[dict(), dict(diagonal=1), dict(diagonal=-2)],
            name=name,
        )
        for name, fn, ref in (("tril", ag.tril, np.tril), ("triu", ag.triu, np.triu))
    ],
    OpSpec(ops.Maximum, ag.maximum, BINARY_SHAPES, np.maximum, lambda t, a, b: t.maximum(a, b)),
    OpSpec(ops.Minimum, ag.minimum, BINARY_SHAPES, np.minimum, lambda t, a, b: t.minimum(a, b)),
    # linear algebra
    OpSpec(
        ops.MatMul,
        ag.matmul,
        [
            ((3, 4), (4, 2)),
            ((4,), (4, 3)),
            ((3, 4), (4,)),
            ((4,), (4,)),
            ((2, 3, 4), (4, 5)),
            ((2, 1, 3, 4), (5, 4, 2)),
        ],
        np.matmul,
        lambda t, a, b: a @ b,
    ),
    OpSpec(
        ops.Linear,
        ag.linear,
        [((4, 3), (5, 3), (5,)), ((2, 4, 3), (2, 3), (2,)), ((3,), (4, 3), (4,))],
        lambda x, w, b: x @ w.T + b,
        lambda t, x, w, b: t.nn.functional.linear(x, w, b),
    ),
    OpSpec(
        ops.Linear,
        lambda x, w: ag.linear(x, w),
        [((4, 3), (5, 3))],
        lambda x, w: x @ w.T,
        lambda t, x, w: t.nn.functional.linear(x, w),
    ),
    OpSpec(
        ops.LinearWeightGrad,
        ops.LinearWeightGrad.apply,
        [((4, 3), (4, 5)), ((2, 4, 3), (2, 4, 5)), ((3,), (2,))],
        _weight_grad,
        lambda t, x, g: g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1]),
    ),
    # shape
    OpSpec(
        ops.Expand,
        ag.expand,
        [((3, 1),), ((1,),)],
        lambda x, shape: np.broadcast_to(x, shape),
        lambda t, x, shape: x.expand(*shape),
        params=[dict(shape=(2, 3, 4))],
    ),
    OpSpec(
        ops.Reshape,
        ag.reshape,
        [((3, 4),)],
        np.reshape,
        lambda t, x, shape: x.reshape(shape),
        params=[dict(shape=(2, 6)), dict(shape=(-1,)), dict(shape=(4, 1, 3))],
    ),
    OpSpec(
        ops.Transpose,
        ag.transpose,
        [((2, 3, 4),)],
        np.transpose,
        lambda t, x, axes: x.permute(*(axes or range(x.ndim - 1, -1, -1))),
        params=[dict(axes=None), dict(axes=(1, 0, 2)), dict(axes=(2, 0, 1))],
    ),
    OpSpec(
        ops.Squeeze,
        ag.squeeze,
        [((3, 1, 4, 1),)],
        np.squeeze,
        lambda t, x, axis: x.squeeze(axis) if axis is not None else x.squeeze(),
        params=[dict(axis=None), dict(axis=1), dict(axis=(1, 3))],
    ),
    OpSpec(
        ops.Unsqueeze,
        ag.unsqueeze,
        [((3, 4),)],
        np.expand_dims,
        lambda t, x, axis: x.unsqueeze(axis),
        params=[dict(axis=0), dict(axis=-1), dict(axis=1)],
    ),
    OpSpec(
        ops.GetItem,
        ag.getitem,
        [((4, 5),)],
        lambda x, index: x[index],
        lambda t, x, index: x[index],
        params=[
            dict(index=(slice(1, 3), slice(None, None, 2))),
            dict(index=np.array([0, 2, 2, 3])),
            dict(index=(np.array([0, 1, 1]), np.array([4, 0, 0]))),
            dict(index=(Ellipsis, 1)),
            dict(index=(None, 2)),
        ],
    ),
    OpSpec(
        ops.GetItemGrad,
        lambda g, index: ops.GetItemGrad.apply(g, shape=(4, 5), index=index),
        [((4, 5),)],
        lambda g, index: _scattered(g, (4, 5), index),
        None,
        params=[dict(index=np.array([0, 2, 2, 3]))],
    ),
    OpSpec(
        ops.GetItemGrad,
        lambda g, index: ops.GetItemGrad.apply(g, shape=(4, 5), index=index),
        [((4,),)],
        lambda g, index: _scattered(g, (4, 5), index),
        None,
        params=[dict(index=(np.array([0, 1, 1, 3]), np.array([4, 0, 0, 2])))],
    ),
    OpSpec(
        ops.GetItemGrad,
        lambda g, index: ops.GetItemGrad.apply(g, shape=(4, 5), index=index),
        [((2, 3),)],
        lambda g, index: _scattered(g, (4, 5), index),
        None,
        params=[dict(index=(slice(1, 3), slice(None, None, 2)))],
    ),
    OpSpec(
        ops.Concat,
        lambda *xs, axis: ag.concat(xs, axis),
        [((2, 3), (2, 2), (2, 1))],
        lambda *xs, axis: np.concatenate(xs, axis),
        lambda t, *xs, axis: t.cat(xs, axis),
        params=[dict(axis=1)],
    ),
    OpSpec(
        ops.Stack,
        lambda *xs, axis: ag.stack(xs, axis),
        [((2, 3), (2, 3))],
        lambda *xs, axis: np.stack(xs, axis),
        lambda t, *xs, axis: t.stack(xs, axis),
        params=[dict(axis=0), dict(axis=-1)],
    ),
    # indexing by integer tensors
    *[
        OpSpec(
            ops.Gather,
            lambda x, dim: ag.gather(x, dim, GATHER_INDEX[dim]),
            [((3, 4),)],
            lambda x, dim: np.take_along_axis(x, GATHER_INDEX[dim], dim),
            lambda t, x, dim: x.gather(dim, t.as_tensor(GATHER_INDEX[dim])),
            params=[dict(dim=dim)],
        )
        for dim in (0, 1)
    ],
    *[
        OpSpec(
            ops.ScatterAdd,
            lambda x, src, dim: ag.scatter_add(x, dim, GATHER_INDEX[dim], src),
            [((3, 4), GATHER_INDEX[dim].shape)],
            lambda x, src, dim: x + _scattered_along(src, x.shape, GATHER_INDEX[dim], dim),
            lambda t, x, src, dim: x.scatter_add(dim, t.as_tensor(GATHER_INDEX[dim]), src),
            params=[dict(dim=dim)],
        )
        for dim in (0, 1)
    ],
    OpSpec(
        ops.Embedding,
        lambda w, **p: ag.embedding(EMBEDDING_INDEX, w, **p),
        [((5, 3),)],
        lambda w: w[EMBEDDING_INDEX],
        lambda t, w, **p: t.nn.functional.embedding(t.as_tensor(EMBEDDING_INDEX), w, **p),
        # padding_idx withholds the gradient that finite differences see: tested in test_index.py instead.
    ),
    OpSpec(
        ops.EmbeddingGrad,
        lambda g, **p: ops.EmbeddingGrad.apply(g, EMBEDDING_INDEX, **p),
        [((2, 4, 3),)],
        _embedding_grad_ref,
        lambda t, g, num_embeddings, padding_idx=None: t.ops.aten.embedding_dense_backward(
            g, t.as_tensor(EMBEDDING_INDEX), num_embeddings, -1 if padding_idx is None else padding_idx, False
        ),
        # 5 rows for 8 indices: one np.bincount per column; 20 rows: sorted runs (see scatter_rows).
        params=[dict(num_embeddings=5), dict(num_embeddings=5, padding_idx=1), dict(num_embeddings=20, padding_idx=4)],
    ),
    OpSpec(
        ops.Pad, ag.pad, [((2, 3),)], np.pad, _torch_pad, params=[dict(pad_width=((1, 0), (2, 1))), dict(pad_width=1)]
    ),
    # reductions
    OpSpec(
        ops.Sum,
        ag.sum,
        [((2, 3, 4),)],
        np.sum,
        lambda t, x, axis=None, keepdims=False: x.sum(dim=axis, keepdim=keepdims),
        params=REDUCE_PARAMS,
    ),
    OpSpec(
        ops.Mean,
        ag.mean,
        [((2, 3, 4),)],
        np.mean,
        lambda t, x, axis=None, keepdims=False: x.mean(dim=axis, keepdim=keepdims),
        params=REDUCE_PARAMS,
    ),
    OpSpec(
        ops.Max,
        ag.amax,
        [((2, 3, 4),)],
        np.max,
        lambda t, x, axis=None, keepdims=False: x.amax(
            dim=axis if axis is not None else tuple(range(x.ndim)), keepdim=keepdims
        ),
        params=REDUCE_PARAMS,
    ),
    OpSpec(
        ops.Min,
        ag.amin,
        [((2, 3, 4),)],
        np.min,
        lambda t, x, axis=None, keepdims=False: x.amin(
            dim=axis if axis is not None else tuple(range(x.ndim)), keepdim=keepdims
        ),
        params=REDUCE_PARAMS,
    ),
    OpSpec(
        ops.Var,
        lambda x, axis=None, ddof=0, keepdims=False: ag.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
        [((2, 3, 4),)],
        np.var,
        lambda t, x, axis=None, ddof=0, keepdims=False: x.var(dim=axis, correction=ddof, keepdim=keepdims),
        params=REDUCE_PARAMS + [dict(axis=1, ddof=1)],
    ),
    OpSpec(
        ops.LogSumExp,
        ag.logsumexp,
        [((2, 3, 4),)],
        lambda x, dim, keepdim=False: np.log(np.exp(x).sum(axis=dim, keepdims=keepdim)),
        lambda t, x, dim, keepdim=False: t.logsumexp(x, dim, keepdim),
        params=[dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(dim=-1, keepdim=True)],
        low=-3,
        high=3,
    ),
    OpSpec(
        ops.Cumsum,
        ag.cumsum,
        [((2, 3, 4),), ((5,),)],
        lambda x, dim: np.cumsum(x, dim),
        lambda t, x, dim: t.cumsum(x, dim),
        params=[dict(dim=0), dict(dim=-1)],
    ),
    OpSpec(
        ops.Cumsum,
        lambda x, dim: ops.Cumsum.apply(x, axis=dim, reverse=True),
        [((2, 3, 4),)],
        lambda x, dim: np.flip(np.cumsum(np.flip(x, dim), dim), dim),
        lambda t, x, dim: t.flip(t.cumsum(t.flip(x, [dim]), dim), [dim]),
        params=[dict(dim=1)],
    ),
    # activations
    OpSpec(
        ops.Sigmoid, ag.sigmoid, UNARY_SHAPES, lambda x: 1 / (1 + np.exp(-x)), lambda t, x: x.sigmoid(), low=-4, high=4
    ),
    OpSpec(ops.Tanh, ag.tanh, UNARY_SHAPES, np.tanh, lambda t, x: x.tanh(), low=-3, high=3),
    OpSpec(ops.ReLU, ag.relu, UNARY_SHAPES, lambda x: np.maximum(x, 0), lambda t, x: x.relu()),
    OpSpec(
        ops.LeakyReLU,
        ag.leaky_relu,
        UNARY_SHAPES,
        lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
        lambda t, x, negative_slope=0.01: t.nn.functional.leaky_relu(x, negative_slope),
        params=[dict(), dict(negative_slope=0.2)],
    ),
    OpSpec(
        ops.ELU,
        ag.elu,
        UNARY_SHAPES,
        lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1)),
        lambda t, x, alpha=1.0: t.nn.functional.elu(x, alpha),
        params=[dict(), dict(alpha=0.5)],
        low=-2,
        high=2,
    ),
    OpSpec(
        ops.Softplus,
        ag.softplus,
        UNARY_SHAPES,
        lambda x, beta=1.0, threshold=20.0: np.where(x * beta > threshold, x, np.log1p(np.exp(beta * x)) / beta),
        lambda t, x, **p: t.nn.functional.softplus(x, **p),
        params=[dict(), dict(beta=2.0, threshold=1.0), dict(beta=0.5)],
        low=-3,
        high=3,
    ),
    OpSpec(
        ops.GELU,
        ag.gelu,
        UNARY_SHAPES,
        lambda x, approximate="none": (
            x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))) / 2
            if approximate == "none"
            else x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))) / 2
        ),
        lambda t, x, **p: t.nn.functional.gelu(x, **p),
        params=[dict(), dict(approximate="tanh")],
        low=-3,
        high=3,
    ),
    OpSpec(
        ops.Sigmoid,
        ag.silu,
        UNARY_SHAPES,
        lambda x: x / (1 + np.exp(-x)),
        lambda t, x: t.nn.functional.silu(x),
        low=-3,
        high=3,
        name="silu",
    ),
    OpSpec(
        ops.Softmax,
        ag.softmax,
        [((3, 5),), ((2, 3, 4),)],
        lambda x, axis=-1: _softmax(x, axis),
        lambda t, x, axis=-1: x.softmax(axis),
        params=[dict(), dict(axis=0)],
        low=-3,
        high=3,
    ),
    OpSpec(
        ops.LogSoftmax,
        ag.log_softmax,
        [((3, 5),), ((2, 3, 4),)],
        lambda x, axis=-1: np.log(_softmax(x, axis)),
        lambda t, x, axis=-1: x.log_softmax(axis),
        params=[dict(), dict(axis=0)],
        low=-3,
        high=3,
    ),
    # convolution and pooling
    OpSpec(
        ops.Conv2d,
        ag.conv2d,
        [((2, 3, 7, 7), (4, 3, 3, 3), (4,)), ((1, 4, 6, 5), (6, 4, 2, 3), (6,))],
        conv2d_loop,
        lambda t, x, w, b, **p: t.nn.functional.conv2d(x, w, b, **p),
        params=[dict(), dict(stride=2, padding=1), dict(padding=(1, 2), dilation=2), dict(stride=(1, 2), groups=1)],
    ),
    OpSpec(
        ops.Conv2d,
        lambda x, w, b, **p: ag.conv2d(x, w, b, groups=2, **p),
        [((2, 4, 6, 6), (6, 2, 3, 3), (6,))],
        lambda x, w, b, **p: conv2d_loop(x, w, b, groups=2, **p),
        lambda t, x, w, b, **p: t.nn.functional.conv2d(x, w, b, groups=2, **p),
        params=[dict(), dict(stride=2, padding=1, dilation=1)],
    ),
    OpSpec(
        # Four channels per group: the GEMM matrix is built row by row (fewer: column by column).
        ops.Conv2d,
        lambda x, w, b, **p: ag.conv2d(x, w, b, groups=2, **p),
        [((2, 8, 5, 5), (4, 4, 3, 3), (4,))],
        lambda x, w, b, **p: conv2d_loop(x, w, b, groups=2, **p),
        lambda t, x, w, b, **p: t.nn.functional.conv2d(x, w, b, groups=2, **p),
        params=[dict(padding=1)],
    ),
    OpSpec(
        ops.Conv2d,
        lambda x, w, b, **p: ag.conv2d(x, w, b, groups=3, **p),
        [((2, 3, 5, 6), (6, 1, 3, 3), (6,))],
        lambda x, w, b, **p: conv2d_loop(x, w, b, groups=3, **p),
        lambda t, x, w, b, **p: t.nn.functional.conv2d(x, w, b, groups=3, **p),
        params=[dict(stride=2, padding=1)],
    ),
    OpSpec(
        ops.Conv2d,
        lambda x, w: ag.conv2d(x, w),
        [((2, 2, 5, 5), (3, 2, 2, 2))],
        lambda x, w: conv2d_loop(x, w),
        lambda t, x, w: t.nn.functional.conv2d(x, w),
    ),
    OpSpec(
        ops.MaxPool2d,
        ag.max_pool2d,
        [((2, 3, 6, 7),)],
        pool2d_loop,
        lambda t, x, **p: t.nn.functional.max_pool2d(x, **p),
        params=POOL_PARAMS,
    ),
    OpSpec(
        ops.AvgPool2d,
        ag.avg_pool2d,
        [((2, 3, 6, 7),)],
        lambda x, **p: pool2d_loop(x, reduce=np.mean, fill=0.0, **p),
        lambda t, x, **p: t.nn.functional.avg_pool2d(x, **p),
        params=POOL_PARAMS,
    ),
    OpSpec(
        ops.Conv2dInputGrad,
        ops.Conv2dInputGrad.apply,
        [((2, 4, 4, 4), (4, 3, 3, 3))],
        _conv_input_grad_ref,
        lambda t, g, w, input_size, **p: t.nn.grad.conv2d_input((g.shape[0], w.shape[1], *input_size), w, g, **p),
        params=[dict(input_size=(7, 7), stride=2, padding=1), dict(input_size=(9, 9), stride=2)],
    ),
    OpSpec(
        ops.Conv2dInputGrad,
        ops.Conv2dInputGrad.apply,
        [((1, 6, 5, 4), (6, 2, 3, 2))],
        _conv_input_grad_ref,
        lambda t, g, w, input_size, **p: t.nn.grad.conv2d_input((g.shape[0], 4, *input_size), w, g, **p),
        params=[dict(input_size=(7, 6), padding=(1, 0), dilation=2, groups=2)],
    ),
    OpSpec(
        ops.Conv2dWeightGrad,
        _conv_weight_grad,
        [((2, 3, 7, 7), (2, 4, 4, 4))],
        _conv_weight_grad_ref,
        _torch_conv_weight_grad,
        params=[
            dict(kernel_size=(3, 3), stride=2, padding=1),
            dict(kernel_size=(3, 3), stride=2, padding=(1, 2), dilation=(1, 2)),
        ],
    ),
    OpSpec(
        ops.Conv2dWeightGrad,
        _conv_weight_grad,
        [((1, 4, 7, 6), (1, 6, 5, 4))],
        _conv_weight_grad_ref,
        _torch_conv_weight_grad,
        params=[dict(kernel_size=(3, 2), padding=(1, 0), dilation=2, groups=2)],
    ),
    *[
        OpSpec(
            ops.MaxPool2dGrad,
            _max_pool_grad,
            [(_pool_out_shape(p),)],
            lambda g, **p: adjoint(lambda x: gather_loop(x, _winners(p), **p), POOL_INPUT, g),
            params=[p],
        )
        for p in POOL_PARAMS
    ],
    OpSpec(
        ops.MaxPool2dGather,
        lambda x, **p: ops.MaxPool2dGather.apply(x, _winners(p), **p),
        [(POOL_INPUT,)],
        lambda x, **p: gather_loop(x, _winners(p), **p),
        params=POOL_PARAMS,
    ),
    *[
        OpSpec(
            ops.AvgPool2dGrad,
            lambda g, **p: ops.AvgPool2dGrad.apply(g, input_size=POOL_INPUT[2:], **p),
            [(_pool_out_shape(p),)],
            _avg_pool_grad_ref,
            _torch_avg_pool_grad,
            params=[p],
        )
        for p in POOL_PARAMS
    ],
    # normalization and regularization
    OpSpec(
        ops.BatchNorm,
        _bn,
        [((6, 3), (3,), (3,)), ((4, 3, 2, 3), (3,), (3,)), ((5, 3, 4), (3,), (3,))],
        _bn_ref,
        _torch_bn,
        params=[dict(training=True), dict(training=False)],
    ),
    OpSpec(
        ops.LayerNorm,
        lambda x, w, b: ag.layer_norm(x, w.shape, w, b),
        [((4, 5), (5,), (5,)), ((2, 3, 4), (3, 4), (3, 4)), ((3,), (3,), (3,))],
        lambda x, w, b: _layer_norm_ref(x, w, b, w.ndim),
        lambda t, x, w, b: t.nn.functional.layer_norm(x, w.shape, w, b),
    ),
    OpSpec(
        ops.LayerNorm,
        lambda x: ag.layer_norm(x, x.shape[-1]),
        [((3, 4),)],
        _layer_norm_ref,
        lambda t, x: t.nn.functional.layer_norm(x, x.shape[-1:]),
    ),
    OpSpec(ops.Dropout, _dropout, [((4, 5),), ((2, 3, 4),)], _dropout_ref, None, params=[dict(p=0.3), dict(p=0.8)]),
    # losses
    OpSpec(
        ops.CrossEntropy,
        lambda x, **p: ag.cross_entropy(x, _targets(x.shape), **p),
        [((5, 4),), ((1, 3),)],
        lambda x, reduction: _reduced(-np.log(_softmax(x, 1))[np.arange(len(x)), _targets(x.shape)], reduction),
        lambda t, x, **p: t.nn.functional.cross_entropy(x, t.as_tensor(_targets(x.shape)), **p),
        params=REDUCTIONS,
        low=-3,
        high=3,
    ),
    OpSpec(
        ops.NLLLoss,
        lambda x, **p: ag.nll_loss(x, _targets(x.shape), **p),
        [((5, 4),)],
        lambda x, reduction: _reduced(-x[np.arange(len(x)), _targets(x.shape)], reduction),
        lambda t, x, **p: t.nn.functional.nll_loss(x, t.as_tensor(_targets(x.shape)), **p),
        params=REDUCTIONS,
    ),
    OpSpec(
        ops.CrossEntropy,
        lambda x, **p: ag.cross_entropy(x, _class_params(p, CLASS_TARGET)[0], **p),
        [((5, 4),)],
        lambda x, **p: _class_loss_ref(_log_softmax(x, 1), p),
        lambda t, x, **p: t.nn.functional.cross_entropy(
            x, t.as_tensor(_class_params(p, CLASS_TARGET)[0]), **_torch_class_params(t, p)
        ),
        params=[dict(p, reduction=r) for p in CLASS_LOSS_PARAMS for r in ("mean", "sum", "none")],
        low=-3,
        high=3,
        name="CrossEntropy-weighted",
    ),
    OpSpec(
        ops.NLLLoss,
        lambda x, **p: ag.nll_loss(x, _class_params(p, CLASS_TARGET)[0], **p),
        [((5, 4),)],
        lambda x, **p: _class_loss_ref(x, p),
        lambda t, x, **p: t.nn.functional.nll_loss(
            x, t.as_tensor(_class_params(p, CLASS_TARGET)[0]), **_torch_class_params(t, p)
        ),
        params=[dict(p, reduction=r) for p in CLASS_LOSS_PARAMS[:2] for r in ("mean", "sum", "none")],
        name="NLLLoss-weighted",
    ),
    OpSpec(
        ops.MultiMarginLoss,
        lambda x, **p: ag.multi_margin_loss(x, _targets(x.shape), **p),
        [((6, 4),)],
        lambda x, reduction, margin=1.0: _reduced(
            (np.maximum(0, margin - x[np.arange(len(x)), _targets(x.shape)][:, None] + x).sum(1) - margin) / x.shape[1],
            reduction,
        ),
        lambda t, x, **p: t.nn.functional.multi_margin_loss(x, t.as_tensor(_targets(x.shape)), **p),
        params=REDUCTIONS + [dict(reduction="mean", margin=0.5)],
        low=-2,
        high=2,
        torch_second_order=False,
    ),
    OpSpec(
        ops.BCEWithLogits,
        ag.binary_cross_entropy_with_logits,
        [((4, 3), (4, 3)), ((5,), (5,))],
        lambda x, t, reduction: _reduced(
            -(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x)))), reduction
        ),
        lambda t, x, y, **p: t.nn.functional.binary_cross_entropy_with_logits(x, y, **p),
        params=REDUCTIONS,
        low=0.05,
        high=0.95,
    ),
    OpSpec(
        ops.MSELoss,
        ag.mse_loss,
        [((4, 3), (4, 3)), ((5,), (5,))],
        lambda a, b, reduction: _reduced((a - b) ** 2, reduction),
        lambda t, a, b, **p: t.nn.functional.mse_loss(a, b, **p),
        params=REDUCTIONS,
    ),
]
