"""TensorNode: a value, its gradient, and the OpNode that made it; its PyTorch methods are in tensor_methods.py."""

import weakref

import numpy as np

from autograd.modes import MODE, NotDifferentiableError
from autograd.tensor_methods import TensorMethods
from autograd.versions import count_edit, version_owner


def _default_dtype(data) -> np.ndarray:
    # Python numbers and lists become float32, as in PyTorch; ndarrays keep their dtype.
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    return np.asarray(data, dtype=np.float32)


def _check_can_require_grad(dtype) -> None:
    if dtype.kind != "f":
        raise TypeError(f"requires_grad: only floating-point tensors can require gradients, got dtype {dtype}")


class TensorNode(TensorMethods):
    """An ndarray in the graph: `.value`, `.grad`, `.requires_grad`, `.source` (None for leaves).

    Args:
        value: an ndarray (kept as it is, not copied), a Python number or a (nested) list.
        requires_grad: whether backward should compute a gradient for it (float dtypes only).
        name: a label, shown in reprs and graph drawings.

    >>> x = TensorNode(np.array([1.0, 2.0]), requires_grad=True)
    >>> (x * x).sum().backward(); x.grad.tolist()
    [2.0, 4.0]
    """

    __slots__ = (
        "_value",
        "grad",
        "_requires_grad",
        "source",
        "_index",
        "_name",
        "_version",
        "_base",
        "_retains_grad",
        "_hooks",
        "_viewed",  # set by versions.share_version when an op output views this memory
        "__weakref__",
    )

    def __init__(self, value, requires_grad: bool = False, name: str | None = None):
        value = _default_dtype(value.value if isinstance(value, TensorNode) else value)
        if requires_grad:
            _check_can_require_grad(value.dtype)
        self._fill(value, bool(requires_grad), None, 0)
        self.name = name

    @classmethod
    def _wrap(cls, value: np.ndarray, source, index: int) -> "TensorNode":
        """An op's output, without the checks a user's constructor call needs."""
        t = cls.__new__(cls)
        value = value if isinstance(value, np.ndarray) else np.asarray(value)
        requires_grad = source is not None and value.dtype.kind == "f"
        if not requires_grad and source is not None:
            source.check_output_dtype(index, value)
        if requires_grad:
            t._fill(value, True, source, index)
        else:  # a leaf: index 0, as every leaf's (its edge is (itself, 0))
            t._fill(value, False, None, 0)
        return t

    def _fill(self, value, requires_grad: bool, source, index: int) -> None:
        self._value, self._requires_grad, self.source, self._index = value, requires_grad, source, index
        self.grad = self._name = self._base = None
        self._version, self._retains_grad, self._hooks = 0, False, ()

    # ----- value and metadata -----
    @property
    def value(self) -> np.ndarray:
        self._refuse_while_differentiating(".value")
        return self._value

    @value.setter
    def value(self, new) -> None:
        # `t.value += 1` assigns the same array back after changing it in place: count that, so a
        # graph that saved this array refuses to backpropagate through stale values.
        if new is self._value:
            count_edit(self)
        else:
            new = _default_dtype(new)
            if self._requires_grad:
                _check_can_require_grad(new.dtype)
            self._value = new

    @property
    def name(self) -> str | None:
        return self._name

    @name.setter
    def name(self, name: str | None) -> None:
        # The graph keeps the names of op outputs, so drawings show them after the tensors are gone.
        self._name = name
        if self.source is not None:
            self.source.output_names = {**(self.source.output_names or {}), self._index: name}

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if self.source is not None:
            raise RuntimeError("requires_grad: can only be changed on leaf tensors; use detach() for a non-leaf")
        if flag:
            _check_can_require_grad(self._value.dtype)
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> "TensorNode":
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        return self.source is None

    @property
    def shape(self) -> tuple:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def __len__(self) -> int:
        return len(self._value)

    def _refuse_while_differentiating(self, what: str) -> None:
        # Inside a backward run on TensorNodes (create_graph=True), the plain value of a tensor that
        # requires grad would drop out of the recorded graph: a silently wrong higher derivative.
        if MODE.differentiating is not None and self._requires_grad:
            raise NotDifferentiableError(
                f"{what} of a TensorNode of shape {self.shape} that requires grad would cut it off from the graph"
            )

    def __array__(self, dtype=None, copy=None):
        self._refuse_while_differentiating("an array")
        if dtype is not None and dtype != self._value.dtype:
            return self._value.astype(dtype)
        return self._value.copy() if copy else self._value

    # numpy on a TensorNode (`np.exp(t)`, `ndarray * t`) runs the engine's ops: autograd/ops/numpy_api.py.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_api.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_api.function(func, args, kwargs)

    def __float__(self) -> float:
        return float(self.value.item())

    def __int__(self) -> int:
        return int(self.value.item())

    def __bool__(self) -> bool:
        return bool(self.value)

    def __repr__(self) -> str:
        body = np.array2string(self._value, precision=4, threshold=20, edgeitems=2, prefix="TensorNode(")
        extras = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.source is not None:
            extras.append(f"source={self.source.op.__name__}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"TensorNode({body}, {', '.join(extras)})"

    # ----- autograd -----
    def backward(self, gradient=None, retain_graph=None, create_graph=False, *, grad=None) -> None:
        """Accumulate the gradient of this tensor into every leaf that requires it (`.grad`, an ndarray).

        Args:
            gradient: d(something)/d(this tensor), needed unless the tensor has one element (`grad=` too).
            retain_graph: keep the graph for another backward; defaults to `create_graph`.
            create_graph: record the backward pass as a graph (see `autograd.grad` for its gradients).
        Raises:
            RuntimeError: the tensor does not require grad, `gradient` is missing for a non-scalar,
                or the graph was released by an earlier backward.
        """
        gradient = gradient if grad is None else grad
        differentiate.run_backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph)

    def detach(self) -> "TensorNode":
        """A new leaf sharing the value (and its in-place version counter), outside the graph."""
        t = TensorNode(self._value, name=self.name)
        t._base = version_owner(self)
        return t

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward."""
        if self.source is None or self._retains_grad:
            return
        tensor = weakref.ref(self)

        def keep(grad):
            t = tensor()
            if t is not None:
                value = np.array(grad.value if isinstance(grad, TensorNode) else grad)
                t.grad = value if t.grad is None else np.asarray(t.grad + value)

        self._retains_grad = keep  # the hook itself: a recorded in-place change moves it (autograd/inplace.py)
        self.source.add_hook(self._index, keep)

    def register_hook(self, hook) -> "HookHandle":
        """Call `hook(grad)` when this tensor's gradient is computed; a returned array replaces it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.source is None:
            self._hooks = (*self._hooks, hook)
        else:
            self.source.add_hook(self._index, hook)
        return HookHandle(self, hook)

    def register_post_accumulate_grad_hook(self, hook) -> "differentiate.PostAccumulateHandle":
        """Call `hook(self)` in each backward once it has added to this leaf's `.grad`, before the walk ends."""
        return differentiate.post_accumulate_grad_hook(self, hook)


class HookHandle:
    """What register_hook returns: `remove()` takes the hook off again."""

    def __init__(self, tensor, hook):
        # Where the hook went, not the tensor's place at removal time: a recorded in-place change moves it.
        self._tensor, self._node, self._index = tensor, tensor.source, tensor._index
        self._hook = hook

    def remove(self) -> None:
        if self._node is None:
            self._tensor._hooks = tuple(h for h in self._tensor._hooks if h is not self._hook)
        else:
            self._node.remove_hook(self._index, self._hook)


def tensor(data, requires_grad: bool = False, dtype=None, name: str | None = None, device=None) -> TensorNode:
    """A new leaf holding a copy of `data`, as torch.tensor: Python ints make int64, floats float32 and
    bools bool; ndarrays and numpy scalars keep their dtype. (`TensorNode(data)`, like torch.Tensor,
    makes float32 of any Python number.)

    >>> tensor([1, 2]).dtype, tensor([1, 2.5]).dtype, tensor(np.arange(2)).dtype
    (dtype('int64'), dtype('float32'), dtype('int64'))
    """
    dtypes.check_device("tensor", device)
    if isinstance(data, TensorNode):
        data = data.value
    if dtype is not None or isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, dtype=dtype)
    else:
        array = np.array(data)
        array = array.astype(_PYTHON_DTYPES.get(array.dtype.kind, array.dtype), copy=False)
    return TensorNode(array, requires_grad=requires_grad, name=name)


# torch.tensor's dtypes for Python numbers (numpy makes them 64-bit).
_PYTHON_DTYPES = {"f": np.float32, "i": np.int64, "u": np.int64, "c": np.complex64}


# These modules import TensorNode; its methods call them.
from autograd import differentiate, dtypes, inplace, ops, tensor_math, tensor_methods  # noqa: E402
from autograd.op import normalize_axis  # noqa: E402
from autograd.ops import compare, numpy_api  # noqa: E402

inplace.ops = tensor_methods.ops = tensor_math.ops = ops
tensor_methods.numpy_api = tensor_math.numpy_api = numpy_api
tensor_methods.compare = tensor_math.compare = compare
tensor_methods.normalize_axis = normalize_axis
