"""Tracing: run a model once and keep every op application with the arrays it was given.

The recorded graph (OpNode) is not enough to export a model: it keeps only the ops that need a
gradient, and of a constant input (a number, an ndarray, a tensor without grad) only its shape.
So the exporter runs the model inside `tracing()`, which swaps `Op.apply` for a recording wrapper
for that one call and puts it back after: a normal forward pays nothing for export's sake.

    x ──> Conv2d ──> ReLU ──> ...        trace: [Application(Conv2d, inputs=(x, weight, bias),
           ^  ^                                               arrays=(x, w, b), params=..., outputs=(h,)),
      weight  bias                                   Application(ReLU, ...), ...]

Applications come in the order they ran, which is a topological order. The comparison operators
of TensorNode (`x > 0`), whose results carry no gradient and so pass no op, are recorded too (as
the numpy function that computed them), so that a mask computed from the input stays a function of
it instead of being frozen at the example's values.
"""

import contextlib
import threading
from dataclasses import dataclass

import numpy as np

from autograd.op import Op, _unwrap
from autograd.ops import numpy_api

# The comparisons that TensorNode's operators compute through numpy_api.constant.
COMPARISONS = (np.greater, np.greater_equal, np.less, np.less_equal)

# One export traces at a time: the swapped functions are the process's.
_LOCK = threading.Lock()


@dataclass
class Application:
    """One op application: the op (an Op class, or a numpy comparison), its settings, what it got and made.

    inputs:  as passed (TensorNodes, ndarrays, numbers or None), for identity with other applications
    arrays:  per input, the array the op computed with (numbers converted as Op.apply converts them)
    outputs: the TensorNodes it returned
    """

    op: object
    params: dict
    inputs: tuple
    arrays: list
    outputs: tuple


@contextlib.contextmanager
def tracing():
    """Record every `Op.apply` and tensor comparison made by this thread inside the block.

    Yields the list the Applications are appended to. Other threads run ops as usual meanwhile.

    >>> import autograd as ag
    >>> with tracing() as trace:
    ...     y = ag.relu(ag.tensor([-1.0, 2.0]) * 3)
    >>> [a.op.__name__ for a in trace]
    ['Mul', 'ReLU']
    """
    trace, thread = [], threading.get_ident()
    apply, constant = Op.__dict__["apply"], numpy_api.constant

    def traced_apply(cls, *inputs, **params):
        out = apply.__func__(cls, *inputs, **params)
        if threading.get_ident() == thread:
            trace.append(
                Application(cls, params, inputs, _unwrap(inputs)[0], out if isinstance(out, tuple) else (out,))
            )
        return out

    def traced_constant(fn, *args, **kwargs):
        out = constant(fn, *args, **kwargs)
        if threading.get_ident() == thread and fn in COMPARISONS and not kwargs:
            trace.append(Application(fn, {}, args, _unwrap(args)[0], (out,)))
        return out

    with _LOCK:
        Op.apply, numpy_api.constant = classmethod(traced_apply), traced_constant
        try:
            yield trace
        finally:
            Op.apply, numpy_api.constant = apply, constant
