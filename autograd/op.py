"""Op, and the registry that every Op subclass joins by being defined.

An Op is a pair of static functions over raw ndarrays. `Op.apply` unwraps TensorNodes, runs
`forward`, wraps the outputs and, when a gradient is wanted, records one OpNode in the graph.
"""

import dis

import numpy as np

from autograd.graph import Context, OpNode
from autograd.modes import MODE, check_forward_anomaly
from autograd.tensor import TensorNode
from autograd.versions import note_saved, share_version

OP_REGISTRY: dict[str, type["Op"]] = {}


class Op:
    """Base class of every differentiable operation.

    Subclasses define `forward(ctx, *arrays, **params)` and `backward(ctx, *grads)` as static
    methods. `backward` returns one gradient per array input (None where there is none); a gradient
    may have the broadcast shape of the output, the engine reduces it.

    What `save_for_backward` promises: backward gets exactly the arrays forward saved, and refuses
    to run if any of them, or the tensor whose memory it views, was changed in place since.

    `ctx` is the op's OpNode when the application is recorded (as PyTorch's ctx is its graph node),
    so settings forward keeps (`ctx.axis = axis`) must not take the names of OpNode's fields and
    methods (`inputs`, `op`, `params`, `released`, ...): an op whose forward does is refused when defined.

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
        _refuse_node_names(cls)
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
        arrays, needs_grad, constant_tensors = _unwrap(inputs)
        record = True in needs_grad and MODE.grad_enabled
        # A recorded op's context is its node: forward saves straight into the graph.
        node = OpNode(cls, inputs, params, needs_grad, constant_tensors) if record else None
        ctx = node if record else Context((False,) * len(inputs))
        out = cls.forward(ctx, *arrays, **params)
        out_arrays = out if isinstance(out, tuple) else (out,)
        if MODE.anomaly:
            check_forward_anomaly(cls, ctx, arrays, out_arrays)
        if record:
            node.set_outputs(out_arrays)
        if len(out_arrays) == 1:  # most ops: 6% less forward per op than the comprehension below
            outputs = (TensorNode._wrap(out_arrays[0], node, 0),)
        else:
            outputs = tuple([TensorNode._wrap(o, node, k) for k, o in enumerate(out_arrays)])
        for output in outputs:
            if output._value.base is not None:
                share_version(output, inputs)
        if record and ctx.saved:
            node.saved_roles, node.saved_versions = note_saved(ctx.saved, arrays, out_arrays, inputs, outputs)
        return outputs if isinstance(out, tuple) else outputs[0]

    @classmethod
    def call(cls, *inputs, **params):
        """`apply` when an input is a TensorNode, else the bare forward on arrays (a first-order backward's path)."""
        if any(isinstance(x, TensorNode) for x in inputs):
            return cls.apply(*inputs, **params)
        # A numpy scalar here is a 0-d array that arithmetic unwrapped (x * 2 of a 0-d float64 x): it keeps
        # its dtype, where _unwrap would take it for a Python number (float32 when alone).
        arrays = [np.asarray(x) if isinstance(x, np.generic) else x for x in inputs]
        return cls.forward(Context((False,) * len(inputs)), *_unwrap(arrays)[0], **params)


# What forward may not store on ctx, which is the OpNode when recorded: the node's own names
# (`saved` excepted: setting it is what save_for_backward does).
_NODE_NAMES = frozenset(n for n in (*vars(OpNode), *vars(Context)) if not n.startswith("__")) - {"saved"}


def _refuse_node_names(cls) -> None:
    """Refuse, when the op is defined, a forward that stores a setting on ctx under one of _NODE_NAMES."""
    forward = cls.__dict__.get("forward")
    code = getattr(getattr(forward, "__func__", forward), "__code__", None)
    # co_names lists every attribute name forward touches, so a forward that names none of these cannot
    # store one: disassembling only the others halves what the check adds to `import autograd` (20 -> 9 ms).
    if code is None or _NODE_NAMES.isdisjoint(code.co_names):
        return
    stored = {i.argval for i in dis.get_instructions(code) if i.opname == "STORE_ATTR"}
    clashes = sorted(stored & _NODE_NAMES)
    if clashes:
        raise TypeError(
            f"{cls.__name__}.forward: ctx.{clashes[0]} is a name the graph node uses (a recorded op's ctx is its "
            "OpNode); keep the setting under another name"
        )


def _unwrap(inputs: tuple) -> tuple:
    """The inputs' arrays, whether each needs a gradient, and whether one is a tensor that needs none.

    A Python number becomes a 0-d array of the dtype of the first array of its kind or a higher one
    among the inputs (float32 stays float32, an int tensor plus 2 stays int), else of PyTorch's
    default for its kind (float32, int64, bool): numbers never promote tensors, as in PyTorch.
    """
    arrays, needs_grad, numbers, constant_tensors = [], [], [], False
    for x in inputs:
        if isinstance(x, TensorNode):
            arrays.append(x._value)
            needs_grad.append(x._requires_grad)
            constant_tensors = constant_tensors or not x._requires_grad
        else:
            if not (x is None or isinstance(x, np.ndarray)):
                numbers.append(len(arrays))
            arrays.append(x)
            needs_grad.append(False)
    # A plain loop: the comprehension that was here (a call, and `arrays` a closure cell) cost x * 1.0001's forward 6%.
    given = tuple(arrays) if numbers else ()  # what each number's dtype is read from: the inputs as they came
    for i in numbers:
        arrays[i] = _number_array(given[i], given)
    return arrays, tuple(needs_grad), constant_tensors


# PyTorch's type categories, lowest first: a dtype of a higher one wins whatever the sizes.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_NUMBER_KIND = {bool: "b", int: "i", float: "f", complex: "c"}
_DEFAULT_DTYPE = {"b": np.bool_, "u": np.int64, "i": np.int64, "f": np.float32, "c": np.complex64}


def _number_array(x, arrays) -> np.ndarray:
    """`x` (a number, numpy scalar or list; lists count as floats, as in `tensor`) as an array: see _unwrap."""
    kind = _NUMBER_KIND.get(type(x)) or (x.dtype.kind if isinstance(x, np.generic) else "f")
    rank = _CATEGORY.get(kind, -1)
    for a in arrays:
        if isinstance(a, np.ndarray) and _CATEGORY.get(a.dtype.kind, -1) >= rank:
            return np.asarray(x, dtype=a.dtype)
    return np.asarray(x, dtype=_DEFAULT_DTYPE.get(kind))


def promote(a: np.ndarray, b: np.ndarray) -> tuple:
    """a and b cast to the dtype PyTorch gives their result, where numpy's differs.

    A higher category wins whatever the sizes (int64 with float32 is float32, numpy says float64),
    and a 0-d array does not promote a dimensioned one of its own category (float32 times a 0-d
    float64 stays float32). Other cases, and complex or object arrays, keep numpy's rules.
    """
    ka, kb = _CATEGORY.get(a.dtype.kind), _CATEGORY.get(b.dtype.kind)
    if ka is None or kb is None or a.dtype == b.dtype:
        return a, b
    if ka != kb:
        dtype = (a if ka > kb else b).dtype
    elif (a.ndim == 0) != (b.ndim == 0):
        dtype = (b if a.ndim == 0 else a).dtype
    else:
        return a, b
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


def elementwise(where: str, fn, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`fn(a, b)` with numpy broadcasting and PyTorch's dtype promotion, and errors naming the op."""
    if a.dtype is not b.dtype:  # builtin dtypes are singletons: the common case costs one identity test
        a, b = promote(a, b)
    try:
        return fn(a, b)
    except ValueError as error:
        try:
            np.broadcast_shapes(np.shape(a), np.shape(b))
        except ValueError:
            raise ValueError(f"{where}: shapes {np.shape(a)} and {np.shape(b)} do not broadcast") from None
        # numpy's own reason (integers to negative integer powers), with the op and its inputs named
        raise ValueError(f"{where}: {error} got {a.dtype} {np.shape(a)} and {b.dtype} {np.shape(b)}") from None
    except TypeError:
        raise TypeError(f"{where}: dtypes {a.dtype} and {b.dtype} cannot be combined") from None


def as_int(where: str, name: str, value, minimum: int | None = None, expected: str = "", got=None) -> int:
    """`value` as an int: TypeError for another type (a float, a bool, a string), ValueError below `minimum`.

    The one check of every int setting (axes, strides, sizes); `expected` and `got` let a caller that
    takes several ints (a pair, a shape) describe the whole argument.
    """
    wrong_type = isinstance(value, bool) or not isinstance(value, (int, np.integer))
    if wrong_type or (minimum is not None and value < minimum):
        expected = expected or ("an int" if minimum is None else f"an int >= {minimum}")
        shown = value if got is None else got
        raise (TypeError if wrong_type else ValueError)(f"{where}: {name} must be {expected}, got {shown!r}")
    return int(value)


def normalize_axis(where: str, axis, ndim: int, name: str = "axis") -> int:
    """One axis as an int in [0, ndim); a 0-d tensor takes 0 and -1, as in PyTorch."""
    bound = max(ndim, 1)
    axis = as_int(where, name, axis)
    if not -bound <= axis < bound:
        raise ValueError(f"{where}: {name} must lie in [{-bound}, {bound}), got {axis} for a tensor of {ndim} dims")
    return axis % bound


def normalize_axes(where: str, axis, ndim: int) -> tuple:
    """`axis` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes.

    A 0-d tensor has no axes to reduce: axis 0 (or -1) of it gives (), so reductions and softmax
    leave its one value in place, as PyTorch's do.
    """
    axes = range(ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
    normalized = [normalize_axis(where, a, ndim) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{where}: repeated axis in {axis}")
    return tuple(sorted(normalized)) if ndim else ()
