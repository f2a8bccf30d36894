"""Op, its Context, and the registry that every Op subclass joins by being defined.

An Op is a pair of static functions over raw ndarrays. `Op.apply` unwraps TensorNodes, runs
`forward`, wraps the outputs and, when a gradient is wanted, records one OpNode in the graph.
"""

import numpy as np

from autograd.graph import MODE, OpNode, check_forward_anomaly, memory_root, version_owner
from autograd.tensor import TensorNode

OP_REGISTRY: dict[str, type["Op"]] = {}


class Context:
    """What one op application keeps for its backward: saved arrays and settings as attributes."""

    saved = ()  # until save_for_backward: a class default is one store fewer per op

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays) -> None:
        """Keep `arrays` for backward; read them back as the tuple `ctx.saved`."""
        self.saved = arrays


class Op:
    """Base class of every differentiable operation.

    Subclasses define `forward(ctx, *arrays, **params)` and `backward(ctx, *grads)` as static
    methods over ndarrays. `backward` returns one gradient per array input (None where there is
    none); a gradient may have the broadcast shape of the output, the engine reduces it.

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
        arrays = []
        needs_grad = []
        plain = False  # an input that is not a TensorNode: an ndarray, a number or None
        for x in inputs:
            if isinstance(x, TensorNode):
                arrays.append(x._value)
                needs_grad.append(x._requires_grad)
            else:
                arrays.append(x)
                needs_grad.append(False)
                plain = True
        if plain:
            arrays = _numbers_as_arrays(inputs, arrays)
        record = True in needs_grad and MODE.grad_enabled
        ctx = Context(tuple(needs_grad) if record else ())
        out = cls.forward(ctx, *arrays, **params)
        if MODE.anomaly:
            check_forward_anomaly(cls, ctx, arrays, out if isinstance(out, tuple) else (out,))
        node = None
        if record:
            # All-tensor inputs are already the tuple the node needs; constants are recorded as None.
            tensors = tuple([x if isinstance(x, TensorNode) else None for x in inputs]) if plain else inputs
            node = OpNode(cls, ctx, tensors, params)
        if not isinstance(out, tuple):
            output = TensorNode._wrap(out, node, 0)
            if output._value.base is not None:
                _share_version(output, inputs)
            if record:
                node.set_outputs((output,))
            return output
        outputs = tuple(TensorNode._wrap(o, node, i) for i, o in enumerate(out))
        for output in outputs:
            if output._value.base is not None:
                _share_version(output, inputs)
        if record:
            node.set_outputs(outputs)
        return outputs


def _numbers_as_arrays(inputs: tuple, arrays: list) -> list:
    """Python numbers take the dtype of the tensors they meet, so float32 stays float32."""
    dtype = None
    for i, a in enumerate(arrays):
        if a is not None and not isinstance(a, np.ndarray):
            if dtype is None:
                floats = (x._value.dtype for x in inputs if isinstance(x, TensorNode) and x._value.dtype.kind == "f")
                dtype = next(floats, np.float32)
            arrays[i] = np.asarray(a, dtype=dtype)
    return arrays


def _share_version(output: TensorNode, inputs: tuple) -> None:
    """An output that views an input's memory counts its in-place changes with that input."""
    root = memory_root(output._value)
    for t in inputs:
        if isinstance(t, TensorNode) and memory_root(t._value) is root:
            output._base = version_owner(t)
            return


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
