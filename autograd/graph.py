"""The recorded graph and the chain rule over it: OpNode and backward(), the only code that walks the graph.

Forward records one OpNode per op application that needs a gradient:

    x (leaf) ──┐
               ├──> OpNode Mul ──> h ──> OpNode Sum ──> loss
    w (leaf) ──┘

An OpNode knows where each input came from (an edge: the OpNode and output that made it, or the
leaf) and the shapes of its inputs and outputs, never the intermediate tensors themselves: those
live as long as the user, or an array saved for backward, holds them. Drawings read the same fields
before and after backward; backward only drops what each node saved for it.

backward runs every op once, after all of its consumers (Kahn's order, with an explicit list: no
recursion, so a 100,000-op chain is fine), on the sum of the gradients its outputs received. With
`create_graph=True` the same backward formulas run on TensorNodes instead of arrays, so the
gradients are recorded as a graph of their own and can be differentiated again.
"""

import numpy as np

from autograd.broadcast import sum_to_shape
from autograd.modes import MODE, check_backward_anomaly, enable_grad, gradient_summary
from autograd.versions import check_versions


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


class OpNode(Context):
    """One recorded application of an op: the op, its settings, where its inputs came from, and (being
    the op's Context, as PyTorch's ctx is its graph node) what forward saved for backward.

    needs_input_grad, saved: as any Context's (which inputs need a gradient; what forward saved)
    inputs:      per input, the edge it came in on: (OpNode, output index) for an op's output,
                 (leaf, 0) for a leaf that requires grad, None for a constant
    output_meta: per output, (shape, dtype)
    constant_meta: per input, (shape, dtype) of a tensor that needs no gradient, else None (None
                 altogether when no input is such a tensor); `input_meta` adds the others' from their edges
    released:    True once backward has run (unless retained): what forward saved is gone
    hooks:       per output index, the functions to call with its gradient (register_hook, retain_grad)
    output_names: per output index, the name given to the output tensor, for drawings
    grad_stats:  per output, gradient statistics, recorded inside `record_grad_stats()`

    Forward's own settings (`ctx.axis = ...`) are ordinary attributes beside these; an op whose
    forward stores one under a name of OpNode's own is refused when it is defined (see Op).
    """

    __slots__ = (
        "op",
        "params",
        "needs_input_grad",
        "saved",
        "released",
        "inputs",
        "constant_meta",
        "output_meta",
        "saved_roles",
        "saved_versions",
        "output_edits",
        "hooks",
        "output_names",
        "grad_stats",
    )

    def __init__(self, op, inputs: tuple, params: dict, needs_input_grad: tuple, constant_tensors: bool):
        self.op, self.params, self.needs_input_grad = op, params, needs_input_grad
        self.saved, self.released = (), False
        self.inputs = edges(inputs)
        # Only a tensor without gradient needs its shape noted; the others' are where they came from.
        # Apply says whether there is one (numbers need nothing): 5% less forward for `x * 2`.
        self.constant_meta = _constant_meta(inputs) if constant_tensors else None
        self.output_meta = ()  # set_outputs, once forward has made them
        self.saved_roles = self.saved_versions = ()
        self.output_edits = 0  # in-place edits of the outputs, counted by autograd.versions
        self.hooks = self.output_names = None
        self.grad_stats = None

    def set_outputs(self, arrays: tuple) -> None:
        """Note each output's (shape, dtype)."""
        # One output (most ops) without a comprehension: 4% less forward of an 8-op graph.
        if len(arrays) == 1:
            self.output_meta = ((arrays[0].shape, arrays[0].dtype),)
        else:
            self.output_meta = tuple([(o.shape, o.dtype) for o in arrays])

    @property
    def ctx(self):
        """The op's Context: the node itself, None once released."""
        return None if self.released else self

    def check_output_dtype(self, index: int, value) -> None:
        """Refuse a complex or object output: it cannot carry a gradient, and would silently leave the graph."""
        if value.dtype.kind in "cO":
            raise TypeError(
                f"{self.op.__name__}: output {index} must be floating point to carry a gradient, got dtype "
                f"{value.dtype} (shape {value.shape}); complex and object arrays are not supported where an "
                "input requires grad"
            )

    @property
    def parents(self) -> tuple:
        """Per input: the OpNode that produced it, or None for leaves and constants."""
        return tuple(e[0] if e is not None and isinstance(e[0], OpNode) else None for e in self.inputs)

    @property
    def input_meta(self) -> tuple:
        """Per input, (shape, dtype), or None for a Python number, an ndarray or None."""
        return tuple(_input_meta(self, i) for i in range(len(self.inputs)))

    def add_hook(self, index: int, hook) -> None:
        if self.hooks is None:
            self.hooks = {}
        self.hooks.setdefault(index, []).append(hook)

    def remove_hook(self, index: int, hook) -> None:
        self.hooks[index] = [h for h in self.hooks[index] if h is not hook]

    def release(self) -> None:
        """Drop what forward saved (arrays and settings); the edges and shapes stay for drawings."""
        self.released = True
        self.saved = self.saved_versions = ()
        del self.__dict__  # forward's settings; clear() would first build an empty dict for a node that has none

    def __repr__(self):
        settings = " ".join(f"{k}={v}" for k, v in self.params.items() if _is_setting(v))
        return f"<OpNode {self.op.__name__}{' ' + settings if settings else ''}>"


def edges(tensors) -> tuple:
    """Where each tensor enters the graph: (its OpNode, output index), (itself, 0) for a leaf, None if no grad."""
    found = []
    for t in tensors:
        found.append((t.source or t, t._index) if getattr(t, "_requires_grad", False) else None)
    return tuple(found)


def edge(tensor):
    """The edge of one tensor: see edges."""
    return edges((tensor,))[0]


def _input_meta(node, i: int):
    """(shape, dtype) of node's input i (None for a number, an ndarray or None); see _edge_meta."""
    e = node.inputs[i]
    if e is None:
        return node.constant_meta[i] if node.constant_meta else None
    return _edge_meta(e)


def _edge_meta(e) -> tuple:
    """(shape, dtype) of what came in on edge `e`: an op's output as recorded, a leaf as it is now."""
    producer, k = e
    return producer.output_meta[k] if isinstance(producer, OpNode) else (producer._value.shape, producer._value.dtype)


def _constant_meta(inputs: tuple) -> tuple:
    """Per input, (shape, dtype) of a tensor that needs no gradient, else None."""
    return tuple([None if getattr(t, "_requires_grad", True) else (t._value.shape, t._value.dtype) for t in inputs])


def _is_setting(value) -> bool:
    return isinstance(value, (int, float, str, bool, tuple)) or value is None


def backward(roots, seeds, retain_graph=False, create_graph=False, inputs=None, watch=(), deliver=None) -> dict:
    """The chain rule from `roots`, seeded with `seeds`, down the graph.

    Returns {edge: summed gradient} for every leaf reached or, when `inputs` (edges) are given, for
    those (ag.grad): then only the nodes on a path to them run. The gradients are arrays, or TensorNodes
    of a new graph when `create_graph`. Leaves' `.grad` is not touched here. A leaf in `watch` is
    handed to `deliver(leaf, gradient)` as soon as its last consumer has run, while the walk goes on
    (what post-accumulate-grad hooks need), instead of being returned.
    """
    grads, starts = {}, {}  # starts: the roots' OpNodes, a dict for an ordered set
    for e, seed in zip(edges(roots), seeds):
        _accumulate(grads, e, seed)
        if isinstance(e[0], OpNode):
            starts[e[0]] = None
    waiting = _count_consumers(starts, watch)
    needed = waiting if inputs is None else _leading_to(waiting, inputs)
    ready = []
    for node in starts:
        if waiting[node] == 0:  # a root no other root consumes
            ready.append(node)
    if create_graph:  # a backward on TensorNodes records what it computes, so grad mode must be on
        with enable_grad():
            captured = _walk(ready, waiting, needed, grads, retain_graph, create_graph, inputs, deliver)
    else:
        captured = _walk(ready, waiting, needed, grads, retain_graph, create_graph, inputs, deliver)
    if inputs is None:  # every node reached has taken its own gradients: the leaves' are left
        return _leaf_hooks(grads)
    return _leaf_hooks({**captured, **{key: grads[key] for key in inputs if key in grads}})


def _walk(ready: list, waiting: dict, needed, grads: dict, retain_graph, create_graph, inputs, deliver) -> dict:
    """Kahn's order: a node runs once every consumer of its outputs has; returns the gradients of `inputs` met."""
    captured = {}
    grad_stats, anomaly = MODE.grad_stats, MODE.anomaly  # a backward runs under the switches it started with
    while ready:
        node = ready.pop()
        if not isinstance(node, OpNode):  # a watched leaf whose consumers have all run: its gradient is final
            g = grads.pop((node, 0), None)
            if g is not None:
                deliver(node, _apply_hooks(node._hooks, g))
            continue
        out_grads = _output_grads(node, grads)
        if inputs is not None and out_grads is not None:
            captured.update(((node, k), g) for k, g in enumerate(out_grads) if (node, k) in inputs)
        reached = out_grads is not None and node in needed
        in_grads = (
            _run_backward(node, out_grads, create_graph, grad_stats, anomaly) if reached else (None,) * len(node.inputs)
        )
        _pass_to_inputs(node, in_grads, grads, waiting, ready)
        if reached and not retain_graph:
            node.release()
    return captured


def _leading_to(nodes, inputs) -> set:
    """The nodes from which a path of inputs leads to one of the edges `inputs`: all that ag.grad must run."""
    consumers, starts = {}, []
    for node in nodes:
        for e in node.inputs:
            if e is not None and e in inputs:
                starts.append(node)
            if e is not None and isinstance(e[0], OpNode):
                consumers.setdefault(e[0], []).append(node)
    needed, stack = set(), starts
    while stack:
        node = stack.pop()
        if node not in needed:
            needed.add(node)
            stack.extend(consumers.get(node, ()))
    return needed


def _count_consumers(nodes, watch=()) -> dict:
    """Per OpNode behind `nodes`, and per leaf in `watch`: how many inputs of nodes behind them consume it."""
    waiting = {}
    stack = []
    for node in nodes:
        if node not in waiting:
            waiting[node] = 0
            stack.append(node)
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                f"backward: the graph through {node.op.__name__} was already released by an earlier "
                "backward; pass retain_graph=True to that backward to go through it again"
            )
        for e in node.inputs:
            if e is not None and isinstance(e[0], OpNode):
                count = waiting.get(e[0])
                if count is None:
                    stack.append(e[0])
                waiting[e[0]] = 1 if count is None else count + 1
            elif watch and e is not None and e[0] in watch:
                waiting[e[0]] = waiting.get(e[0], 0) + 1
    return waiting


def _accumulate(grads: dict, key, g) -> None:
    """The chain rule's sum over paths: grads[key] += g, a missing entry counting as zero."""
    previous = grads.get(key)
    grads[key] = g if previous is None else previous + g


def _output_grads(node, grads: dict):
    """The summed gradient of each of node's outputs (None where none came) after its hooks; None if none came."""
    if len(node.output_meta) == 1:  # most ops have one: 16% less backward per op than the general path
        g = grads.pop((node, 0), None)
        out_grads = None if g is None else [g]
    else:
        out_grads = [grads.pop((node, k), None) for k in range(len(node.output_meta))]
        out_grads = None if all(g is None for g in out_grads) else out_grads
    if node.hooks and out_grads is not None:
        for k, hooks in node.hooks.items():
            if out_grads[k] is not None:
                out_grads[k] = _apply_hooks(hooks, out_grads[k])
    return out_grads


def _leaf_hooks(found: dict) -> dict:
    """`found` ({edge: gradient}) with each leaf's gradient passed through the hooks registered on the leaf.

    An op's output had its own hooks applied when its node ran.
    """
    for key, g in found.items():
        producer = key[0]
        if not isinstance(producer, OpNode) and producer._hooks:
            found[key] = _apply_hooks(producer._hooks, g)
    return found


def _apply_hooks(hooks, grad):
    """Each hook sees the gradient; one that returns something replaces it for the hooks after it and backward."""
    for hook in hooks:
        replaced = hook(grad)
        if replaced is not None:
            grad = replaced if hasattr(replaced, "_value") else np.asarray(replaced)
    # A hook may keep the array it saw, or return one of the caller's: what goes on is a view of it, which
    # is copied before it becomes a leaf's .grad (see differentiate.run_backward), so the two never share.
    return grad.view() if hooks and isinstance(grad, np.ndarray) else grad


def _pass_to_inputs(node, in_grads, grads: dict, waiting: dict, ready: list) -> None:
    """Add each input's gradient to what its producer has received; a producer with no consumer left is ready."""
    for i, e in enumerate(node.inputs):
        if e is None:
            continue
        if in_grads[i] is not None:
            _accumulate(grads, e, _fit(node, i, in_grads[i], e))
        left = waiting.get(e[0])  # None for a leaf nobody watches; else the consumers still to run
        if left is not None:
            waiting[e[0]] = left - 1
            if left == 1:
                ready.append(e[0])


def _fit(node, i: int, grad, e):
    """The backward contract: input i's gradient (for edge e) has its shape (or one it broadcasts to) and dtype."""
    shape, dtype = _edge_meta(e)
    if isinstance(grad, np.generic) or not hasattr(grad, "shape"):  # a numpy scalar (0-d results) or a number
        grad = np.asarray(grad, dtype=dtype)
    if grad.shape == shape and grad.dtype == dtype:
        return grad
    if grad.shape != shape:
        try:
            grad = sum_to_shape(grad, shape)
        except ValueError:
            raise RuntimeError(
                f"{node.op.__name__}.backward: gradient {i} must have the input's shape {shape} "
                f"or a shape it broadcasts to, got {grad.shape}"
            ) from None
    return grad if grad.dtype == dtype else grad.astype(dtype)


def one_per_input(node, in_grads) -> tuple:
    """node's backward result as one gradient per input, or the error naming the op that broke the contract.

    A one-input op may return its gradient bare, as PyTorch's Functions may.
    """
    if isinstance(in_grads, (tuple, list)) and len(in_grads) == len(node.inputs):
        return in_grads
    if len(node.inputs) == 1 and not isinstance(in_grads, (tuple, list)):
        return (in_grads,)
    got = len(in_grads) if isinstance(in_grads, (tuple, list)) else type(in_grads).__name__
    raise RuntimeError(
        f"{node.op.__name__}.backward: must return a tuple of {len(node.inputs)} gradients "
        f"(one per input, None where there is none), got {got}"
    )


def _run_backward(node, out_grads: list, create_graph: bool, grad_stats: bool, anomaly: bool):
    """Run node's op backward on its output gradients, with the checks around it; returns the input gradients."""
    if node.saved_versions:
        check_versions(node)
    if len(out_grads) > 1 and any(g is None for g in out_grads):  # some outputs got no gradient
        out_grads = [np.zeros(s, d) if g is None else g for g, (s, d) in zip(out_grads, node.output_meta)]
    if grad_stats:
        node.grad_stats = tuple(gradient_summary(g) for g in out_grads)
    if create_graph:
        in_grads = higher_order.differentiable_backward(node, out_grads)
    else:
        in_grads = node.op.backward(node, *out_grads)
    if not isinstance(in_grads, (tuple, list)) or len(in_grads) != len(node.inputs):  # the common case skips a call
        in_grads = one_per_input(node, in_grads)
    if anomaly:
        check_backward_anomaly(node, in_grads)
    return in_grads


from autograd import higher_order  # noqa: E402  (it builds TensorNodes, whose module needs OpNode first)
