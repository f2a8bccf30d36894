"""The recorded graph: OpNode, grad mode, and backward(), the only code that walks the graph.

Forward records one OpNode per op application whose inputs need a gradient. backward() orders
those nodes topologically with an explicit stack (no recursion, so a 100,000-op chain is fine),
runs each op's backward once with the summed gradient of its outputs, and accumulates into the
leaves. Unless asked to retain it, every node is then released down to a light skeleton.
"""

import contextlib
import threading
import traceback
import weakref

import numpy as np

from autograd.broadcast import sum_to_shape


class _Mode(threading.local):
    """This thread's switches; the class attributes are every new thread's defaults."""

    grad_enabled = True
    anomaly = False
    grad_stats = False


MODE = _Mode()


def memory_root(array):
    """The object that owns the memory `array` views (the array itself when it owns its data)."""
    base = array.base
    while base is not None:
        array, base = base, getattr(base, "base", None)
    return array


def version_owner(tensor):
    """The tensor whose version counter `tensor` shares: views count changes with their base."""
    return tensor if tensor._base is None else tensor._base


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` on this thread."""
    return MODE.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    enabled = True

    def __init__(self):
        self._previous = []

    def __enter__(self):
        self._previous.append(MODE.grad_enabled)
        MODE.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        MODE.grad_enabled = self._previous.pop()
        return False


class no_grad(_GradMode):
    """Record nothing inside: a context manager and a decorator, local to the thread.

    >>> import autograd as ag
    >>> x = ag.tensor([1.0], requires_grad=True)
    >>> with ag.no_grad():
    ...     (x * 2).requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):
    """Record again inside a `no_grad` region."""

    enabled = True


class detect_anomaly(contextlib.ContextDecorator):
    """Inside, the first NaN or Inf an op produces, in forward or backward, raises a RuntimeError.

    The error names the op; for backward it also shows where the forward call of that op was made,
    so the line that built the bad part of the graph is found without bisecting. It costs a pass
    over every array, so it is meant for debugging, not for training runs. numpy's own floating
    point warnings are silenced inside: the engine's error says more (which op, where).

    >>> import numpy as np, autograd as ag
    >>> with ag.detect_anomaly():
    ...     ag.log(ag.tensor(np.array([-1.0])))
    Traceback (most recent call last):
    RuntimeError: detect_anomaly: Log produced nan in output 0 (shape (1,)) from inputs of shapes [(1,)]
    """

    def __enter__(self):
        self._previous = MODE.anomaly
        self._errstate = np.errstate(divide="ignore", over="ignore", invalid="ignore")
        self._errstate.__enter__()
        MODE.anomaly = True
        return self

    def __exit__(self, *exc):
        MODE.anomaly = self._previous
        self._errstate.__exit__(*exc)
        return False


def _non_finite(array) -> str | None:
    """'nan' or 'inf' when a float array holds one, else None."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def check_forward_anomaly(op, ctx, arrays, outputs) -> None:
    """Raise when `op`'s forward produced NaN or Inf; remember the call site for backward's errors."""
    for i, out in enumerate(outputs):
        kind = _non_finite(out)
        if kind:
            shapes = [np.shape(a) for a in arrays if a is not None]
            raise RuntimeError(
                f"detect_anomaly: {op.__name__} produced {kind} in output {i} (shape {out.shape}) "
                f"from inputs of shapes {shapes}"
            )
    ctx.forward_trace = "".join(traceback.format_stack(limit=12)[:-3])


def _check_backward_anomaly(node, in_grads) -> None:
    for i, g in enumerate(in_grads):
        kind = _non_finite(g)
        if kind:
            where = getattr(node.ctx, "forward_trace", "") or "(not recorded: forward ran outside detect_anomaly)\n"
            raise RuntimeError(
                f"detect_anomaly: {node.op.__name__}.backward produced {kind} in the gradient of input {i} "
                f"(shape {np.shape(g)}); the forward {node.op.__name__} was called at:\n{where}"
            )


class record_grad_stats(contextlib.ContextDecorator):
    """Inside, backward stores gradient statistics on every OpNode it passes (`node.grad_stats`).

    Off by default so that ordinary training pays nothing; graph drawings use it to colour tensors
    by gradient health.
    """

    def __enter__(self):
        self._previous = MODE.grad_stats
        MODE.grad_stats = True
        return self

    def __exit__(self, *exc):
        MODE.grad_stats = self._previous
        return False


def gradient_summary(grad: np.ndarray) -> dict:
    """Norm, mean and max magnitude, and the fraction of exact zeros of one gradient array."""
    magnitude = np.abs(grad)
    return {
        "norm": float(np.sqrt((magnitude.astype(np.float64) ** 2).sum())),
        "mean_abs": float(magnitude.mean()) if grad.size else 0.0,
        "max_abs": float(magnitude.max()) if grad.size else 0.0,
        "zero_fraction": float((grad == 0).mean()) if grad.size else 0.0,
    }


class OpNode:
    """One application of an op: the op class, its context, its settings, inputs and outputs.

    While the graph is alive, `inputs` holds the input TensorNodes (None for constants that were
    passed as ndarrays or numbers) and `outputs` weak references to the outputs.
    After `release()` only a skeleton stays: the op, its settings, the shapes and dtypes of inputs
    and outputs, `parents` (the OpNodes that produced the inputs) and the leaves that need grad,
    enough to draw the graph without holding any intermediate array.
    """

    # Slots, and no container kept only for bookkeeping: the garbage collector tracks and rescans
    # every object of a live graph, so each op should leave as few behind as it can.
    __slots__ = (
        "op",
        "ctx",
        "params",
        "inputs",
        "_outputs",
        "output_meta",
        "saved_versions",
        "_released_parents",
        "_released_meta",
        "grad_stats",
        "watched",
        "output_edits",
    )

    def __init__(self, op, ctx, inputs, params):
        self.op = op
        self.ctx = ctx
        self.params = params
        self.inputs = inputs
        self._outputs = ()
        self.output_meta = ()
        self.saved_versions = ()
        self._released_parents = self._released_meta = None
        self.grad_stats = None
        # Set when an output asks for its gradient (a hook, retain_grad): only then does backward
        # look at the outputs.
        self.watched = False
        # In-place edits of this node's output, counted by TensorNode.value's setter: the node checks
        # it in backward, when the output itself may be gone (its consumer released it).
        self.output_edits = 0

    def set_outputs(self, outputs) -> None:
        if len(outputs) == 1:
            # The common case keeps the bare weak reference, one container fewer per node.
            self._outputs = weakref.ref(outputs[0])
            value = outputs[0]._value
            self.output_meta = ((value.shape, value.dtype),)
        else:
            self._outputs = tuple(weakref.ref(t) for t in outputs)
            self.output_meta = tuple((t._value.shape, t._value.dtype) for t in outputs)
        if self.ctx.saved:
            self.saved_versions = _saved_versions(self.inputs, outputs, self.ctx.saved)

    @property
    def outputs(self) -> tuple:
        """Per output, a weak reference: call it for the TensorNode, or None once it is gone.

        Weak, because each output holds its node: a strong link back would make a reference cycle
        of every intermediate, which only the garbage collector could free.
        """
        refs = self._outputs
        return refs if refs.__class__ is tuple else (refs,)

    @property
    def released(self) -> bool:
        return self.ctx is None

    @property
    def parents(self) -> tuple:
        """Per input: the OpNode that produced it, or None for leaves and constants."""
        if self._released_parents is not None:
            return self._released_parents
        return tuple(None if t is None else t.source for t in self.inputs)

    @property
    def input_meta(self) -> tuple:
        """Per input: (shape, dtype), or None for a constant that was not a TensorNode."""
        if self._released_meta is not None:
            return self._released_meta
        return tuple(None if t is None else (t.shape, t.dtype) for t in self.inputs)

    def release(self) -> None:
        """Drop the context and the links to intermediate tensors; keep the skeleton."""
        # Per input: the producing node and (shape, dtype), or None. Two flat tuples: the collector
        # stops tracking the one of shapes, and a full collection of a long graph's backward is
        # set off by how many tracked objects it leaves. A plain loop: comprehensions cost a call
        # each, and this runs once per node of every backward.
        parents, meta, leaves = [], [], []
        for t in self.inputs:
            if t is None:
                parents.append(None)
                meta.append(None)
                leaves.append(None)
            else:
                source, value = t.source, t._value
                parents.append(source)
                meta.append((value.shape, value.dtype))
                leaves.append(t if source is None and t._requires_grad else None)
        self._released_parents, self._released_meta = tuple(parents), tuple(meta)
        self.inputs = tuple(leaves)
        self.ctx = None
        self.saved_versions = ()

    def __repr__(self):
        settings = " ".join(f"{k}={v}" for k, v in self.params.items() if _is_setting(v))
        return f"<OpNode {self.op.__name__}{' ' + settings if settings else ''}>"


def _saved_versions(inputs, outputs, saved) -> tuple:
    """Flat (key, version, key, version, ...) for the tensors whose memory the saved arrays view.

    A key is an input's position, or ~0 for the output of a single-output op that owns its memory,
    whose edits the node counts itself (output_edits). Keys, not tensors: a node holding its own
    output would be a reference cycle, and a tuple of ints is one the garbage collector stops
    scanning. A saved output of a multi-output op, or one that views another tensor's memory, is
    kept as the tensor that counts its versions.
    """
    keys, items = [], []
    for array in saved:
        if not isinstance(array, np.ndarray):
            continue
        key = _owner_key(array, inputs, outputs)
        if key is None or key in keys:
            continue
        keys.append(key)
        if key >= 0:
            items += (key, version_owner(inputs[key])._version)
            continue
        owner = version_owner(outputs[~key])
        if len(outputs) == 1 and owner is outputs[0]:
            items += (key, 0)  # output_edits is 0: the output was made and saved in this same call
        else:
            items += (owner, owner._version)
    return tuple(items)


def _owner_key(array, inputs, outputs):
    """Which input (i) or output (~k) `array` belongs to, by identity, else by the memory it views."""
    views = array.base is not None
    for i, t in enumerate(inputs):
        if t is not None:
            if t._value is array:
                return i
            views = views or t._value.base is not None
    for k, t in enumerate(outputs):
        if t._value is array:
            return ~k
        views = views or t._value.base is not None
    if not views:
        return None  # every array here owns its memory, so only identity could have matched
    # A saved view (MatMul saves w.T): match it to a tensor by the memory it views.
    root = _root(array)
    for i, t in enumerate(inputs):
        if t is not None and _root(t._value) is root:
            return i
    for k, t in enumerate(outputs):
        if _root(t._value) is root:
            return ~k
    return None


def _check_versions(node) -> None:
    """Refuse to run backward on saved arrays that were changed in place since the forward pass."""
    versions = node.saved_versions
    for j in range(0, len(versions), 2):
        key = versions[j]
        if key.__class__ is not int:
            changed, shape = key._version != versions[j + 1], key.shape
        elif key >= 0:
            owner = version_owner(node.inputs[key])
            changed, shape = owner._version != versions[j + 1], owner.shape
        else:
            changed, shape = node.output_edits != versions[j + 1], node.output_meta[~key][0]
        if changed:
            raise RuntimeError(
                f"backward: an array that {node.op.__name__} saved for backward was modified in place "
                f"after the forward pass (tensor of shape {shape}); replace .value with a new "
                "array instead of changing it in place, or run the forward again"
            )


def _root(array):
    # The common case, an array that owns its memory, without a function call.
    return array if array.base is None else memory_root(array)


def _is_setting(value) -> bool:
    return isinstance(value, (int, float, str, bool, tuple)) or value is None


def _count_consumers(root) -> dict:
    """Per OpNode that leads to `root`: how many inputs on the way consume its outputs."""
    waiting = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.ctx is None:
            raise RuntimeError(
                f"backward: the graph through {node.op.__name__} was already released by an earlier "
                "backward; pass retain_graph=True to that backward to go through it again"
            )
        for t in node.inputs:
            # Only op outputs have a source, and they always require grad.
            source = None if t is None else t.source
            if source is not None:
                count = waiting.get(source)
                if count is None:
                    waiting[source] = 1
                    stack.append(source)
                else:
                    waiting[source] = count + 1
    return waiting


def _accumulate(grads: dict, key, g) -> None:
    """grads[key] += g, a missing entry counting as zero."""
    previous = grads.get(key)
    grads[key] = g if previous is None else previous + g


def _output_key(node, index: int):
    """Where backward sums the gradient of `node`'s output `index`: the node itself when it has one output."""
    return node if len(node.output_meta) == 1 else (node, index)


def _apply_hooks(tensor, grad):
    for hook in tensor._hooks:
        replaced = hook(grad)
        if replaced is not None:
            grad = np.asarray(replaced)
    return grad


def _check_grad(node, i, grad, tensor):
    """The backward contract: one gradient per input, shaped like it or broadcast from it."""
    if not isinstance(grad, np.ndarray):
        grad = np.asarray(grad, dtype=tensor.dtype)
    if grad.shape != tensor.shape:
        try:
            grad = sum_to_shape(grad, tensor.shape)
        except ValueError:
            raise RuntimeError(
                f"{node.op.__name__}.backward: gradient {i} must have the input's shape {tensor.shape} "
                f"or a shape it broadcasts to, got {grad.shape}"
            ) from None
    if grad.dtype != tensor.dtype:
        grad = grad.astype(tensor.dtype)
    return grad


def backward(root, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) * grad into every leaf's `.grad` that requires it.

    A node runs once all its consumers have (Kahn's order), with the summed gradient of its outputs.
    """
    leaf_grads = {}
    record_stats = MODE.grad_stats
    check_anomaly = MODE.anomaly
    if root.source is None:
        leaf_grads[root] = grad
    else:
        # Counts and gradients in two dicts of plain values, keyed by node (by (node, output) for
        # ops of several outputs), not a container per node: a long graph's backward then leaves
        # the collector nothing new to rescan.
        waiting = _count_consumers(root.source)
        grads = {_output_key(root.source, root._index): grad}
        ready = [root.source]
        while ready:
            node = ready.pop()
            outputs = len(node.output_meta)
            if outputs == 1:  # _output_key(node, 0), without a call per node
                out_grads = [grads.pop(node, None)]
            else:
                out_grads = [grads.pop(_output_key(node, k), None) for k in range(outputs)]
            inputs = node.inputs
            reached = out_grads[0] is not None or any(g is not None for g in out_grads)
            if reached:
                in_grads = _run_backward(node, out_grads, record_stats, check_anomaly)
            else:
                # No gradient reached the node: it runs nothing, but its producers stop waiting for it.
                in_grads = (None,) * len(inputs)
            for i, (tensor, g) in enumerate(zip(inputs, in_grads)):
                if tensor is None:
                    continue
                if g is not None and tensor._requires_grad:
                    value = tensor._value
                    if g.__class__ is not np.ndarray or g.shape != value.shape or g.dtype != value.dtype:
                        g = _check_grad(node, i, g, tensor)
                source = tensor.source
                if source is None:
                    if g is not None and tensor._requires_grad:
                        _accumulate(leaf_grads, tensor, g)
                    continue
                if g is not None:
                    _accumulate(grads, _output_key(source, tensor._index), g)
                count = waiting[source] - 1
                waiting[source] = count
                if not count:
                    ready.append(source)
            if reached and not retain_graph:
                node.release()
    stored = set()
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            g = _apply_hooks(leaf, g)
        # A gradient the engine did not allocate for this leaf alone (a broadcast view, the seed,
        # one array handed to two inputs) is copied so that editing one .grad cannot change another.
        if not g.flags.writeable or g.base is not None or id(g) in stored or g is grad:
            g = g.copy()
        stored.add(id(g))
        leaf.grad = g if leaf.grad is None else leaf.grad + g


def _run_backward(node, out_grads, record_stats: bool, check_anomaly: bool):
    """Run node's op backward on its output gradients, with the checks around it; returns the input gradients."""
    if node.watched:
        _retain_output_grads(node, out_grads)
    if node.saved_versions:
        _check_versions(node)
    if len(out_grads) > 1 and any(g is None for g in out_grads):
        out_grads = [np.zeros(s, d) if g is None else g for g, (s, d) in zip(out_grads, node.output_meta)]
    if record_stats:
        node.grad_stats = tuple(gradient_summary(g) for g in out_grads)
    in_grads = node.op.backward(node.ctx, *out_grads)
    if check_anomaly:
        _check_backward_anomaly(node, in_grads)
    if not isinstance(in_grads, (tuple, list)) or len(in_grads) != len(node.inputs):
        got = len(in_grads) if isinstance(in_grads, (tuple, list)) else type(in_grads).__name__
        raise RuntimeError(
            f"{node.op.__name__}.backward: must return a tuple of {len(node.inputs)} gradients "
            f"(one per input, None where there is none), got {got}"
        )
    return in_grads


def _retain_output_grads(node, out_grads) -> None:
    for ref, g in zip(node.outputs, out_grads):
        tensor = ref()
        if tensor is None or g is None or not (tensor._hooks or tensor._retains_grad):
            continue
        if tensor._hooks:
            g = _apply_hooks(tensor, g)
            out_grads[tensor._index] = g
        if tensor._retains_grad:
            tensor.grad = g.copy() if tensor.grad is None else tensor.grad + g
