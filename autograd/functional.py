"""Derivatives of whole functions, as `torch.autograd.functional`: vjp, jvp, jacobian, hessian, hvp, vhp.

Everything is built on `grad()`. Forward-mode products (jvp, hvp) use the double-vjp trick: the
vector-Jacobian product J^T u is linear in a dummy u, so its gradient with respect to u along v is J v.

    inputs ──func──> outputs               vjp:  grad(outputs, inputs, v)           = v^T J
       ^                │                  jvp:  grad(J^T u, u, v)                  = J v
       └── J^T u <──────┘  (u: zeros)      vhp / hvp: the same, applied to func's gradient

>>> import numpy as np, autograd as ag
>>> from autograd import functional as F
>>> x = ag.tensor(np.array([1.0, 2.0]))
>>> F.jacobian(lambda t: t ** 2, x).value.tolist()
[[2.0, 0.0], [0.0, 4.0]]
>>> F.hessian(lambda t: (t ** 3).sum(), x).value.tolist()
[[6.0, 0.0], [0.0, 12.0]]
"""

from collections.abc import Callable

import numpy as np

from autograd.differentiate import grad
from autograd.modes import enable_grad
from autograd.ops import reshape, stack
from autograd.tensor import TensorNode


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """The outputs of `func(*inputs)` and the vector-Jacobian product v^T J, one per input.

    Args:
        func: takes TensorNodes, returns a TensorNode or a tuple of them.
        inputs: a TensorNode, an ndarray or a tuple of them (differentiated through detached copies).
        v: one vector per output, of its shape; may be omitted for a single one-element output.
        create_graph: record the result as a graph, to differentiate it again (also w.r.t. `inputs`).
        strict: raise instead of giving zeros when the outputs are independent of an input.
    Returns:
        (outputs, vjp): each a TensorNode, or a tuple when func's outputs / the inputs are tuples.
    Raises:
        RuntimeError: v missing or of the wrong shape, or a missing dependence under strict=True.

    >>> import autograd as ag
    >>> x = ag.tensor(np.array([1.0, 2.0]))
    >>> out, vjp_x = vjp(lambda t: t * t, x, v=np.array([1.0, 10.0]))
    >>> vjp_x.value.tolist()
    [2.0, 40.0]
    """
    with enable_grad():
        inputs_are_tuple, inputs = _prepare("vjp", inputs, create_graph)
        outputs_are_tuple, outputs = _call("vjp", func, inputs, strict)
        v = _vectors("vjp", v, outputs, outputs_are_tuple, "output")
        result = _pull_back("vjp", outputs, inputs, v, create_graph, strict)
    return _finish(outputs, outputs_are_tuple, create_graph), _finish(result, inputs_are_tuple, create_graph)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """The outputs of `func(*inputs)` and the Jacobian-vector product J v, one per output.

    Args: as `vjp`, but `v` holds one vector per input (omitted only for a single one-element input).
    Returns:
        (outputs, jvp): each a TensorNode, or a tuple when func's outputs are a tuple.

    >>> import autograd as ag
    >>> x = ag.tensor(np.array([1.0, 2.0]))
    >>> out, jvp_out = jvp(lambda t: (t * t).sum(), x, v=np.array([1.0, 10.0]))
    >>> jvp_out.item()
    42.0
    """
    with enable_grad():
        inputs_are_tuple, inputs = _prepare("jvp", inputs, create_graph)
        v = _vectors("jvp", v, inputs, inputs_are_tuple, "input")
        outputs_are_tuple, outputs = _call("jvp", func, inputs, strict)
        result = _push_forward("jvp", outputs, inputs, v, create_graph, strict, "output")
    return _finish(outputs, outputs_are_tuple, create_graph), _finish(result, outputs_are_tuple, create_graph)


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """The output of the scalar `func(*inputs)` and the vector-Hessian product v^T H, one per input.

    Args: as `vjp`, with `func` returning a single one-element TensorNode and one `v` per input.
    Returns:
        (output, vhp): vhp is a tuple when the inputs are.

    >>> import autograd as ag
    >>> x = ag.tensor(np.array([1.0, 2.0]))
    >>> out, vhp_x = vhp(lambda t: (t ** 3).sum(), x, v=np.array([1.0, 1.0]))
    >>> vhp_x.value.tolist()
    [6.0, 12.0]
    """
    with enable_grad():
        inputs_are_tuple, inputs = _prepare("vhp", inputs, create_graph)
        v = _vectors("vhp", v, inputs, inputs_are_tuple, "input")
        output, gradient = _gradient("vhp", func, inputs, strict)
        result = _pull_back("vhp", gradient, inputs, v, create_graph, strict, "the gradient")
    return _finish((output,), False, create_graph), _finish(result, inputs_are_tuple, create_graph)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False) -> tuple:
    """The output of the scalar `func(*inputs)` and the Hessian-vector product H v, one per input.

    Equal to `vhp` for twice continuously differentiable functions (H is symmetric), and slower: it is
    computed as in PyTorch, by the double-vjp trick on func's gradient.

    >>> import autograd as ag
    >>> x = ag.tensor(np.array([1.0, 2.0]))
    >>> out, hvp_x = hvp(lambda t: (t ** 3).sum(), x, v=np.array([1.0, 1.0]))
    >>> hvp_x.value.tolist()
    [6.0, 12.0]
    """
    with enable_grad():
        inputs_are_tuple, inputs = _prepare("hvp", inputs, create_graph)
        v = _vectors("hvp", v, inputs, inputs_are_tuple, "input")
        output, gradient = _gradient("hvp", func, inputs, strict)
        result = _push_forward("hvp", gradient, inputs, v, create_graph, strict, "gradient")
    return _finish((output,), False, create_graph), _finish(result, inputs_are_tuple, create_graph)


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False):
    """The Jacobian of `func(*inputs)`, one backward pass per output element.

    Args:
        func, inputs, create_graph, strict: as `vjp`.
        vectorize: accepted for PyTorch compatibility; the rows are computed one by one either way.
    Returns:
        J[i][j] of shape outputs[i].shape + inputs[j].shape: a TensorNode, a tuple over inputs (or over
        outputs) when only one of them is a tuple, a tuple of tuples when both are.

    >>> import autograd as ag
    >>> x, y = ag.tensor(np.array([1.0, 2.0])), ag.tensor(np.array(3.0))
    >>> dx, dy = jacobian(lambda a, b: a * b, (x, y))
    >>> dx.value.tolist(), dy.value.tolist()
    ([[3.0, 0.0], [0.0, 3.0]], [1.0, 2.0])
    """
    return _jacobian("jacobian", func, inputs, create_graph, strict, vectorize)


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False):
    """The Hessian of the scalar `func(*inputs)`: the Jacobian of its gradient.

    Returns:
        H[i][j] of shape inputs[i].shape + inputs[j].shape: a TensorNode, or a tuple of tuples when the
        inputs are a tuple.

    >>> import autograd as ag
    >>> x, y = ag.tensor(np.array(2.0)), ag.tensor(np.array(3.0))
    >>> (hxx, hxy), (hyx, hyy) = hessian(lambda a, b: a * a * b, (x, y))
    >>> [hxx.item(), hxy.item(), hyx.item(), hyy.item()]
    [6.0, 4.0, 4.0, 0.0]
    """

    def gradient(*inp):
        found = _gradient("hessian", func, inp, strict)[1]
        return found if isinstance(inputs, tuple) else found[0]

    return _jacobian("hessian", gradient, inputs, create_graph, strict, vectorize, name="gradient")


# ----- helpers: the steps every public function shares -----
def _as_tuple(where: str, what: str, value, types: tuple) -> tuple:
    """(whether `value` was a tuple, `value` as a tuple), checking every entry's type."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for i, t in enumerate(values):
        if not isinstance(t, types):
            names = " or ".join(k.__name__ for k in types)
            at = f" at index {i}" if is_tuple else ""
            raise TypeError(f"{where}: expected {what} to be a {names} or a tuple of them, got {type(t).__name__}{at}")
    return is_tuple, values


def _prepare(where: str, inputs, create_graph: bool) -> tuple:
    """Fresh tensors that require grad; under create_graph they stay linked to inputs that require grad."""
    is_tuple, inputs = _as_tuple(where, "inputs", inputs, (TensorNode, np.ndarray))
    prepared = []
    for t in inputs:
        if create_graph and isinstance(t, TensorNode) and t.requires_grad:
            # A new node in t's graph, so the result can be differentiated w.r.t. t (hessian relies on it).
            prepared.append(reshape(t, t.shape))
        else:
            prepared.append(TensorNode(t.value if isinstance(t, TensorNode) else t, requires_grad=True))
    return is_tuple, tuple(prepared)


def _call(where: str, func: Callable, inputs: tuple, strict: bool) -> tuple:
    """func's outputs as (were they a tuple, the tuple); under strict each must come from the inputs."""
    is_tuple, outputs = _as_tuple(where, "the outputs of func", func(*inputs), (TensorNode,))
    for i, out in enumerate(outputs):
        if strict and not out.requires_grad:
            raise RuntimeError(
                f"{where}: strict=True expects every output of func to be computed from the inputs, "
                f"got output {i} that does not require grad"
            )
    return is_tuple, outputs


def _vectors(where: str, v, refs: tuple, refs_are_tuple: bool, name: str) -> tuple:
    """`v` as one entry per ref, each of its ref's shape; None (ones) only for a single one-element ref."""
    if v is None:
        if len(refs) != 1 or np.size(refs[0]) != 1:
            shapes = [r.shape for r in refs]
            raise RuntimeError(f"{where}: v may be omitted only for a single one-element {name}, got shapes {shapes}")
        return (None,)
    v = _as_tuple(where, "v", v, (TensorNode, np.ndarray))[1]
    if len(v) != len(refs):
        kind = "a tuple" if refs_are_tuple else "a single tensor"
        raise RuntimeError(f"{where}: expected v to be {kind} with one entry per {name} ({len(refs)}), got {len(v)}")
    for i, (vec, ref) in enumerate(zip(v, refs)):
        if vec.shape != ref.shape:
            raise RuntimeError(
                f"{where}: expected v[{i}] to have the shape of {name} {i}, {ref.shape}, got {vec.shape}"
            )
    return v


def _grads(outputs: tuple, inputs: tuple, vectors: tuple, create_graph: bool) -> tuple:
    """`grad()` that skips outputs which are None or do not require grad: None for every unreached input."""
    pairs = [(out, vec) for out, vec in zip(outputs, vectors) if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, vecs = zip(*pairs)
    return grad(outs, inputs, vecs, retain_graph=True, create_graph=create_graph, allow_unused=True)


def _fill(where, grads, refs, strict, create_graph, expects, culprit="input") -> tuple:
    """Zeros shaped as refs[k] where grads[k] is None; under strict, an error naming `culprit` k instead."""
    filled = []
    for k, (g, ref) in enumerate(zip(grads, refs)):
        if g is None and strict:
            raise RuntimeError(f"{where}: strict=True expects {expects}, got {culprit} {k} independent")
        if g is not None and strict and create_graph and not g.requires_grad:
            raise RuntimeError(
                f"{where}: strict=True with create_graph=True expects results that depend on the inputs, "
                f"got result {k} constant (is func linear in its inputs?)"
            )
        filled.append(TensorNode(np.zeros(ref.shape, ref.dtype)) if g is None else g)
    return tuple(filled)


def _pull_back(where, outputs, inputs, v, create_graph, strict, subject="the outputs") -> tuple:
    """v^T J, one entry per input."""
    found = _grads(outputs, inputs, v, create_graph)
    return _fill(where, found, inputs, strict, create_graph, f"{subject} to depend on every input")


def _push_forward(where, outputs, inputs, v, create_graph, strict, name) -> tuple:
    """J v, one entry per output, by the double-vjp trick: J^T u is linear in u, and its vjp along v is J v."""
    # Any finite u would do: it does not appear in the gradient with respect to itself.
    dummies = tuple(TensorNode(np.zeros(out.shape, out.dtype), requires_grad=True) for out in outputs)
    pulled = _grads(outputs, inputs, dummies, create_graph=True)
    _fill(where, pulled, inputs, strict, False, f"the {name}s to depend on every input")
    found = _grads(pulled, dummies, v, create_graph)
    return _fill(where, found, outputs, strict, create_graph, f"every {name} to depend on the inputs", name)


def _gradient(where: str, func: Callable, inputs: tuple, strict: bool) -> tuple:
    """The one-element output of func and its gradient (zeros for unused inputs), recorded as a graph."""
    is_tuple, outputs = _call(where, func, inputs, strict)
    if is_tuple:
        raise RuntimeError(f"{where}: expected func to return a single TensorNode, got a tuple of {len(outputs)}")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"{where}: expected func to return a one-element TensorNode, got shape {outputs[0].shape}")
    found = _grads(outputs, inputs, (None,), create_graph=True)
    gradient = _fill(where, found, inputs, strict, False, "the output to depend on every input")
    for k, g in enumerate(gradient):
        if strict and not g.requires_grad:
            raise RuntimeError(
                f"{where}: strict=True expects a gradient that depends on the inputs, got gradient {k} constant "
                f"(is func twice differentiable, and not linear in input {k}?)"
            )
    return outputs[0], gradient


def _jacobian(where, func, inputs, create_graph, strict, vectorize, name="output"):
    """J[i][j] of shape outputs[i].shape + inputs[j].shape, nested as the outputs and inputs are."""
    if strict and vectorize:
        raise RuntimeError(f"{where}: strict=True and vectorize=True are not supported together, got both")
    with enable_grad():
        inputs_are_tuple, inputs = _prepare(where, inputs, create_graph)
        outputs_are_tuple, outputs = _call(where, func, inputs, strict)
        blocks = tuple(
            _jacobian_rows(where, f"{name} {i}", out, inputs, create_graph, strict) for i, out in enumerate(outputs)
        )
    blocks = tuple(_finish(row, inputs_are_tuple, create_graph) for row in blocks)
    return blocks if outputs_are_tuple else blocks[0]


def _jacobian_rows(where, row_name, out, inputs, create_graph, strict) -> tuple:
    """The blocks d out / d inputs[j], one backward pass per element of `out` (seeded with a one-hot)."""
    rows = []
    for flat in np.eye(np.size(out), dtype=out.dtype):
        found = _grads((out,), inputs, (flat.reshape(out.shape),), create_graph)
        rows.append(_fill(where, found, inputs, strict, create_graph, f"{row_name} to depend on every input"))
    blocks = []
    for j, inp in enumerate(inputs):
        column = [row[j] for row in rows]
        block = stack(column) if column else TensorNode(np.zeros((0,) + inp.shape, inp.dtype))
        blocks.append(reshape(block, out.shape + inp.shape))
    return tuple(blocks)


def _finish(tensors: tuple, is_tuple: bool, create_graph: bool):
    """Detached unless create_graph, and unpacked to a single TensorNode unless the caller passed a tuple."""
    tensors = tuple(t if create_graph else t.detach() for t in tensors)
    return tensors if is_tuple else tensors[0]
