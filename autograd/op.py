"""Op, its Context, and the registry that every Op subclass joins by being defined.

An Op is a pair of static functions over raw ndarrays. `Op.apply` unwraps TensorNodes, runs
`forward`, wraps the outputs and, when a gradient is wanted, records one OpNode in the graph.
"""

import numpy as np

from autograd.graph import OpNode
from autograd.modes import MODE, check_forward_anomaly
from autograd.tensor import TensorNode
from autograd.versions import share_version

OP_REGISTRY: dict[str, type["Op"]] = {}


class Context:
    """What one op application keeps for its backward: saved arrays and settings as attributes."""

    saved = ()

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays) -> None:
        """Keep `arrays` for backward; read them back as the tuple `ctx.saved`."""
        self.saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """PyTorch's name for `saved`."""
        return self.saved


class Op:
    """Base class of every differentiable operation.

    Subclasses define `forward(ctx, *arrays, **params)` and `backward(ctx, *grads)` as static
    methods. `backward` returns one gradient per array input (None where there is none); a gradient
    may have the broadcast shape of the output, the engine reduces it.

    What `save_for_backward` promises: backward gets exactly the arrays forward saved, and refuses
    to run if any of them, or the tensor whose memory it views, was changed in place since.

    Gradients of gradients: backward is one formula for both orders. For a first derivative it runs
    on ndarrays; under `create_graph=True` it runs on TensorNodes: the gradients, and every saved
    array that is an input or output of the op (by identity) become tensors of the graph, so the
    operators and numpy functions the formula applies are recorded and can be differentiated again.
    Saved masks and indices (bool and int arrays) stay constants; a saved float array that is
    neither input nor output is refused then, since its dependence on the inputs is unknown (keep a
    true constant, a dropout mask, as a ctx attribute). A backward that works on arrays only (reads
    `.value`, calls a numpy function TensorNodes do not support) still serves first derivatives;
    differentiating through it again raises an error naming the op.

    >>> class Square(Op):
    ...     '''y = x**2;  dx = 2 x g.'''
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved
    ...         return (2 * x * grad,)
    >>> x = TensorNode(np.array([3.0]), requires_grad=True)
    >>> Square.apply(x).backward(np.ones(1)); x.grad.tolist()
    [6.0]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # private bases share code between ops; they are not ops
            OP_REGISTRY[cls.__name__] = cls

    @staticmethod
    def forward(ctx: Context, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on TensorNodes, ndarrays or Python numbers; returns TensorNode(s)."""
        arrays, needs_grad = _unwrap(inputs)
        record = True in needs_grad and MODE.grad_enabled
        ctx = Context(needs_grad if record else (False,) * len(inputs))
        out = cls.forward(ctx, *arrays, **params)
        out_arrays = out if isinstance(out, tuple) else (out,)
        if MODE.anomaly:
            check_forward_anomaly(cls, ctx, arrays, out_arrays)
        node = OpNode(cls, ctx, inputs, params, out_arrays) if record else None
        if len(out_arrays) == 1:  # most ops: 6% less forward per op than the comprehension below
            outputs = (TensorNode._wrap(out_arrays[0], node, 0),)
        else:
            outputs = tuple([TensorNode._wrap(o, node, k) for k, o in enumerate(out_arrays)])
        for output in outputs:
            if output._value.base is not None:
                share_version(output, inputs)
        if record and ctx.saved:
            node.note_saved(inputs, arrays, out_arrays, outputs)
        return outputs if isinstance(out, tuple) else outputs[0]

    @classmethod
    def call(cls, *inputs, **params):
        """`apply` when an input is a TensorNode, else the bare forward on arrays (a first-order backward's path)."""
        if any(isinstance(x, TensorNode) for x in inputs):
            return cls.apply(*inputs, **params)
        return cls.forward(Context((False,) * len(inputs)), *_unwrap(inputs)[0], **params)


def _unwrap(inputs: tuple) -> tuple:
    """The inputs' arrays, and whether each needs a gradient.

    Python numbers become arrays of the dtype of the floating arrays they meet (float32 stays float32).
    """
    arrays, needs_grad, numbers = [], [], False
    for x in inputs:
        if isinstance(x, TensorNode):
            arrays.append(x._value)
            needs_grad.append(x._requires_grad)
        else:
            arrays.append(x)
            needs_grad.append(False)
            numbers = numbers or not (x is None or isinstance(x, np.ndarray))
    if numbers:
        floats = [a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        dtype = floats[0] if floats else np.float32
        arrays = [a if a is None or isinstance(a, np.ndarray) else np.asarray(a, dtype=dtype) for a in arrays]
    return arrays, tuple(needs_grad)


def elementwise(where: str, fn, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`fn(a, b)` with numpy broadcasting, and an error naming the op when shapes do not broadcast."""
    try:
        return fn(a, b)
    except ValueError:
        raise ValueError(f"{where}: shapes {np.shape(a)} and {np.shape(b)} do not broadcast") from None


def normalize_axes(where: str, axis, ndim: int) -> tuple:
    """`axis` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    axes = range(ndim) if axis is None else (axis,) if isinstance(axis, (int, np.integer)) else axis
    normalized = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{where}: axis must lie in [{-ndim}, {ndim}), got {a} for a tensor of {ndim} dims")
        normalized.append(int(a) % max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{where}: repeated axis in {axis}")
    return tuple(sorted(normalized))
