"""The two ways to ask for gradients: `tensor.backward()` fills the leaves' `.grad`; `grad()` returns them.

>>> import autograd as ag
>>> x = ag.tensor(2.0, requires_grad=True)
>>> (dx,) = ag.grad(x ** 3, x, create_graph=True)       # 3 x^2 = 12, recorded as a graph
>>> (dxx,) = ag.grad(dx, x)                             # 6 x = 12
>>> dx.item(), dxx.item()
(12.0, 12.0)
"""

import numpy as np

from autograd import graph
from autograd.tensor import TensorNode


def _as_tuple(tensors) -> tuple:
    return tuple(tensors) if isinstance(tensors, (tuple, list)) else (tensors,)


def _seeds(where: str, outputs: tuple, grad_outputs, create_graph: bool) -> list:
    """One starting gradient per output: given, or ones for a one-element output."""
    given = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(given) != len(outputs):
        raise ValueError(f"{where}: expected one grad_output per output ({len(outputs)}), got {len(given)}")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, given)):
        if not isinstance(out, TensorNode) or not out._requires_grad:
            raise RuntimeError(f"{where}: output {i} does not require grad and has no source op")
        value = out._value
        if g is None:
            if value.size != 1:
                raise RuntimeError(
                    f"{where}: a gradient can be created implicitly only for one-element outputs, got shape "
                    f"{value.shape} for output {i}; pass its gradient"
                )
            g = np.ones(value.shape, dtype=value.dtype)
        else:
            if not (create_graph and isinstance(g, TensorNode)):
                g = np.asarray(g.value if isinstance(g, TensorNode) else g, dtype=value.dtype)
            if g.shape != value.shape:
                raise RuntimeError(
                    f"{where}: the gradient of output {i} must have its shape {value.shape}, got {g.shape}"
                )
        seeds.append(TensorNode(g) if create_graph and not isinstance(g, TensorNode) else g)
    return seeds


def run_backward(tensors, gradients=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate d(tensors)/d(leaf) . gradients into every leaf's `.grad` (an ndarray, as always)."""
    roots = _as_tuple(tensors)
    seeds = _seeds("backward", roots, gradients, create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    leaf_grads = graph.backward(roots, seeds, retain, create_graph)
    stored = set()
    seed_ids = {id(s._value) for s in seeds} if create_graph else {id(s) for s in seeds}
    for (leaf, _), g in leaf_grads.items():
        g = g._value if isinstance(g, TensorNode) else g
        # A gradient the engine did not allocate for this leaf alone (a broadcast view, a seed, one
        # array handed to two inputs) is copied, so that editing one .grad cannot change another.
        if not g.flags.writeable or g.base is not None or id(g) in stored or id(g) in seed_ids:
            g = g.copy()
        stored.add(id(g))
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False) -> tuple:
    """The gradients of `outputs` with respect to `inputs`, as `torch.autograd.grad`.

    Args:
        outputs: a TensorNode or a sequence of them.
        inputs: the TensorNodes (leaves or not) to differentiate with respect to.
        grad_outputs: per output, the vector of the vector-Jacobian product (ones for one-element outputs).
        retain_graph: keep the graph for another backward; defaults to `create_graph`.
        create_graph: record the gradients as a graph of their own, to differentiate them again.
        allow_unused: give None for an input the outputs do not depend on, instead of raising.
    Returns:
        A tuple with one TensorNode (or None) per input; the inputs' `.grad` is left untouched.
    Raises:
        RuntimeError: an output does not require grad, or an input is unused without allow_unused.
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorNode) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} must be a TensorNode that requires grad, got {_describe(t)}")
    seeds = _seeds("grad", outputs, grad_outputs, create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    found = graph.backward(outputs, seeds, retain, create_graph, inputs={graph.edge(t) for t in inputs})
    results = []
    for i, t in enumerate(inputs):
        g = found.get(graph.edge(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} ({_describe(t)}) is not used by the outputs; pass allow_unused=True to get None"
            )
        results.append(None if g is None else g if isinstance(g, TensorNode) else TensorNode(np.array(g)))
    return tuple(results)


def _describe(t) -> str:
    if not isinstance(t, TensorNode):
        return type(t).__name__
    return f"{t.name + ', ' if t.name else ''}shape {t.shape}{'' if t.requires_grad else ', requires_grad=False'}"
