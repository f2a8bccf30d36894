"""The two ways to ask for gradients: `tensor.backward()` fills the leaves' `.grad`; `grad()` returns them.

>>> import autograd as ag
>>> x = ag.tensor(2.0, requires_grad=True)
>>> (dx,) = ag.grad(x ** 3, x, create_graph=True)       # 3 x^2 = 12, recorded as a graph
>>> (dxx,) = ag.grad(dx, x)                             # 6 x = 12
>>> dx.item(), dxx.item()
(12.0, 12.0)
"""

import weakref

import numpy as np

from autograd import graph
from autograd.tensor import TensorNode

# id(leaf) -> (weak reference to the leaf, the functions to call with it once a backward has added to its
# .grad); an entry goes when its leaf does. Kept here rather than in a slot of every TensorNode, and in a
# plain dict (a WeakKeyDictionary's len() alone costs 0.2 us), so backward pays nothing when it is empty.
_POST_ACCUMULATE: dict = {}
# One list per backward running (a hook may start another): functions to call once it has finished.
_FINAL_CALLBACKS: list = []


def _as_tuple(tensors) -> tuple:
    return tuple(tensors) if isinstance(tensors, (tuple, list)) else (tensors,)


def _seeds(where: str, outputs: tuple, grad_outputs, create_graph: bool) -> list:
    """One starting gradient per output: given, or ones for a one-element output."""
    given = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(given) != len(outputs):
        raise ValueError(f"{where}: expected one grad_output per output ({len(outputs)}), got {len(given)}")
    seeds = []
    for i, out in enumerate(outputs):
        if not isinstance(out, TensorNode) or not out._requires_grad:
            raise RuntimeError(f"{where}: output {i} does not require grad and has no source op")
        value, g = out._value, given[i]
        if g is None:
            if value.size != 1:
                raise RuntimeError(
                    f"{where}: a gradient can be created implicitly only for one-element outputs, got shape "
                    f"{value.shape} for output {i}; pass its gradient"
                )
            # Ones of shape (1,) * ndim, the output's: np.ones is a Python function, 0.6 us more.
            g = np.array(1, dtype=value.dtype, ndmin=value.ndim)
        else:
            if not (create_graph and isinstance(g, TensorNode)):
                g = np.asarray(g.value if isinstance(g, TensorNode) else g, dtype=value.dtype)
            if g.shape != value.shape:
                raise RuntimeError(
                    f"{where}: the gradient of output {i} must have its shape {value.shape}, got {g.shape}"
                )
        seeds.append(TensorNode(g) if create_graph and not isinstance(g, TensorNode) else g)
    return seeds


def run_backward(roots: tuple, gradients=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate d(roots)/d(leaf) . gradients into every leaf's `.grad` (an ndarray, as always).

    A leaf with post-accumulate-grad hooks gets its `.grad` as soon as its gradient is final, during the
    walk, and its hooks run then; every other leaf's after the walk. Callbacks queued by hooks run last.
    """
    seeds = _seeds("backward", roots, gradients, create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    # Seeds the caller passed, or that the new graph holds, count as handed out already: one that
    # reaches a leaf as it is gets copied. An implicit seed of ones is this backward's own.
    if create_graph:
        stored = {id(s._value) for s in seeds}
    else:
        stored = set() if gradients is None else {id(s) for s in seeds}

    def store(leaf, g) -> None:
        g = g._value if isinstance(g, TensorNode) else g
        # A gradient the engine did not allocate for this leaf alone (a broadcast view, a seed, one
        # array handed to two inputs) is copied, so that editing one .grad cannot change another.
        if g.base is not None or id(g) in stored or not g.flags.writeable:  # the flags are an object made per call
            g = np.array(g)  # np.array, not .copy(): a numpy scalar (0-d sums) must become a writable array
        stored.add(id(g))
        # asarray: the sum of two 0-d arrays is a numpy scalar, which `.grad.fill(0)` could not change.
        leaf.grad = g if leaf.grad is None else np.asarray(leaf.grad + g)
        if watch:
            for hook in watch.get(leaf, ()):
                hook(leaf)

    watch = {ref(): hooks for ref, hooks in _POST_ACCUMULATE.values()} if _POST_ACCUMULATE else {}
    _FINAL_CALLBACKS.append([])
    try:
        leaf_grads = graph.backward(roots, seeds, retain, create_graph, watch=watch, deliver=store)
        for (leaf, _), g in leaf_grads.items():
            store(leaf, g)
    finally:
        callbacks = _FINAL_CALLBACKS.pop()
    for callback in callbacks:
        callback()


def post_accumulate_grad_hook(tensor: TensorNode, hook) -> "PostAccumulateHandle":
    """TensorNode.register_post_accumulate_grad_hook: see there."""
    if tensor.source is not None or not tensor.requires_grad:
        kind = "a non-leaf" if tensor.source is not None else "a leaf"
        raise RuntimeError(
            "register_post_accumulate_grad_hook: only a leaf that requires grad accumulates a .grad, "
            f"got {kind} ({_describe(tensor)})"
        )
    key = id(tensor)
    if key not in _POST_ACCUMULATE:
        weakref.finalize(tensor, _POST_ACCUMULATE.pop, key, None)
    _POST_ACCUMULATE[key] = (weakref.ref(tensor), (*_POST_ACCUMULATE.get(key, (None, ()))[1], hook))
    return PostAccumulateHandle(tensor, hook)


class PostAccumulateHandle:
    """What register_post_accumulate_grad_hook returns: `remove()` takes the hook off again."""

    def __init__(self, tensor: TensorNode, hook):
        self._tensor, self._hook = weakref.ref(tensor), hook

    def remove(self) -> None:
        tensor = self._tensor()
        entry = None if tensor is None else _POST_ACCUMULATE.get(id(tensor))
        hooks = () if entry is None else tuple(h for h in entry[1] if h is not self._hook)
        if hooks:
            _POST_ACCUMULATE[id(tensor)] = (entry[0], hooks)
        elif entry is not None:  # no hook left: backward need not watch this leaf any more
            del _POST_ACCUMULATE[id(tensor)]


def queue_callback(callback) -> None:
    """Call `callback()` once the backward that is running has filled every `.grad`.

    For hooks that start work on gradients (a distributed all-reduce) and must finish it before
    `backward()` returns, as `torch.autograd.Variable._execution_engine.queue_callback`. Not called
    when the backward raises.

    Raises:
        RuntimeError: no backward is running.
    """
    if not _FINAL_CALLBACKS:
        raise RuntimeError("queue_callback: callbacks can be queued only while a backward runs (from a hook)")
    _FINAL_CALLBACKS[-1].append(callback)


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
