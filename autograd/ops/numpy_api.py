"""numpy's functions on TensorNodes: what lets one gradient formula, written with numpy, run on
arrays for a first derivative and on TensorNodes when the gradient is to be differentiated again.

`np.exp(t)`, `ndarray * t` or `np.where(mask, g, 0)` with a TensorNode among the arguments come
here (TensorNode.__array_ufunc__ / __array_function__) and run the engine's op, so the result is a
TensorNode in the graph. Comparisons and other functions whose result has no gradient run on the
values and give a plain array (the operators `<`, `>`, ... give tensors without gradient, as
PyTorch's). Any other numpy function runs on the values,
as on any array-like, except while a backward is being differentiated (create_graph=True): there
a TensorNode that requires grad would silently drop out of the graph, so it is refused.

>>> import numpy as np, autograd as ag
>>> x = ag.tensor([1.0, 2.0], requires_grad=True)
>>> np.exp(x).source
<OpNode Exp>
"""

import numpy as np

from autograd import ops
from autograd.modes import MODE, NotDifferentiableError
from autograd.tensor import TensorNode

DIFFERENTIABLE_UFUNCS = {
    np.add: ops.add,
    np.subtract: ops.sub,
    np.multiply: ops.mul,
    np.true_divide: ops.div,
    np.negative: ops.neg,
    np.power: ops.pow,
    np.exp: ops.exp,
    np.log: ops.log,
    np.sqrt: ops.sqrt,
    np.absolute: ops.abs,
    np.tanh: ops.tanh,
    np.sin: ops.sin,
    np.cos: ops.cos,
    np.tan: ops.tan,
    np.sinh: ops.sinh,
    np.cosh: ops.cosh,
    np.log1p: ops.log1p,
    np.expm1: ops.expm1,
    np.maximum: ops.maximum,
    np.minimum: ops.minimum,
    np.matmul: ops.matmul,
}
# Their results are piecewise constant in the inputs: no gradient flows through them.
CONSTANT_UFUNCS = {
    np.sign,
    np.greater,
    np.greater_equal,
    np.less,
    np.less_equal,
    np.equal,
    np.not_equal,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.logical_and,
    np.logical_or,
    np.logical_not,
}
# numpy's signatures, as far as the engine's ops follow them.
FUNCTIONS = {
    np.where: lambda condition, x, y: ops.where(condition, x, y),
    np.broadcast_to: lambda array, shape: ops.expand(array, shape),
    np.expand_dims: lambda a, axis: ops.unsqueeze(a, axis),
    np.swapaxes: lambda a, axis1, axis2: ops.swapaxes(a, axis1, axis2),
    np.reshape: lambda a, shape: ops.reshape(a, shape),
    np.transpose: lambda a, axes=None: ops.transpose(a, axes),
    np.squeeze: lambda a, axis=None: ops.Squeeze.apply(a, axis=axis),
    np.sum: lambda a, axis=None, keepdims=False: ops.sum(a, axis, keepdims),
    np.mean: lambda a, axis=None, keepdims=False: ops.mean(a, axis, keepdims),
    np.max: lambda a, axis=None, keepdims=False: ops.amax(a, axis, keepdims),
    np.min: lambda a, axis=None, keepdims=False: ops.amin(a, axis, keepdims),
    np.var: lambda a, axis=None, ddof=0, keepdims=False: ops.var(a, axis, keepdim=keepdims, correction=ddof),
    np.concatenate: lambda arrays, axis=0: ops.concat(arrays, axis),
    np.stack: lambda arrays, axis=0: ops.stack(arrays, axis),
    np.clip: lambda a, a_min=None, a_max=None: ops.clip(a, a_min, a_max),
}
# They read only shapes and dtypes, so a TensorNode that requires grad may pass through them.
SHAPE_ONLY = {np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.shape, np.ndim, np.size, np.result_type}


def _value(x):
    return x._value if isinstance(x, TensorNode) else x


def constant(fn, *args, **kwargs) -> TensorNode:
    """fn on the values, as a tensor without gradient (comparisons, sign)."""
    return TensorNode(np.asarray(fn(*(_value(a) for a in args), **kwargs)))


def ufunc(fn, method: str, inputs: tuple, kwargs: dict):
    """A numpy ufunc called with a TensorNode among its operands (TensorNode.__array_ufunc__)."""
    if method == "__call__" and not kwargs:
        if fn in DIFFERENTIABLE_UFUNCS:
            return DIFFERENTIABLE_UFUNCS[fn](*inputs)
        if fn in CONSTANT_UFUNCS:
            return fn(*_values(inputs))
    name = f"numpy.{fn.__name__}" + ("" if method == "__call__" else f".{method}")
    return _on_values(name, getattr(fn, method), inputs, kwargs)


def function(fn, args: tuple, kwargs: dict):
    """A numpy function called with a TensorNode among its arguments (TensorNode.__array_function__)."""
    if fn in FUNCTIONS:
        try:
            return FUNCTIONS[fn](*args, **kwargs)
        except TypeError as error:
            if "argument" not in str(error):
                raise
            raise TypeError(
                f"numpy.{fn.__name__} on a TensorNode: takes {FUNCTIONS[fn].__code__.co_varnames}, "
                f"got {len(args)} positional and {sorted(kwargs)} keyword arguments"
            ) from None
    if fn in SHAPE_ONLY:
        return fn(*_values(args), **_values(kwargs))
    return _on_values(f"numpy.{fn.__name__}", fn, args, kwargs)


def _values(arguments):
    """Arguments with each TensorNode, also inside lists and tuples, replaced by its value."""
    if isinstance(arguments, dict):
        return {k: _values(v) for k, v in arguments.items()}
    if isinstance(arguments, (list, tuple)):
        return type(arguments)(_values(a) for a in arguments)
    return _value(arguments)


def _on_values(name: str, fn, args: tuple, kwargs: dict):
    """fn on plain arrays; refused while differentiating a backward if it would drop a tensor out of the graph."""
    if MODE.differentiating is not None and _requires_grad(args, kwargs):
        raise NotDifferentiableError(f"{name} has no differentiable counterpart for TensorNodes")
    return fn(*_values(args), **_values(kwargs))


def _requires_grad(*arguments) -> bool:
    stack = list(arguments)
    while stack:
        a = stack.pop()
        if isinstance(a, dict):
            stack.extend(a.values())
        elif isinstance(a, (list, tuple)):
            stack.extend(a)
        elif isinstance(a, TensorNode) and a.requires_grad:
            return True
    return False
