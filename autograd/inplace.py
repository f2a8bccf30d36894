"""In-place methods (`+=`, `add_`, `zero_`, `copy_`, ...): they change a tensor's array and count the change.

PyTorch's rules:
- A leaf that requires grad may change in place only inside `no_grad()` (a hand-written update,
  `w -= lr * w.grad`, keeps `w` the same tensor, still requiring grad); outside, a RuntimeError.
- Where nothing is recorded (no_grad, or no input requires grad) the array is written, and its
  version counted (autograd/versions.py): a backward through an op that saved it refuses to run.
- Where the change is recorded, the op runs out of place (on a recorded clone of the old values,
  which it may save for backward), its result is written into the tensor's memory and the tensor
  stands for that result from then on (its source is the new OpNode), so gradients flow through the
  change, and a retained `.grad` is the new values' gradient. An earlier op that saved the old array
  refuses backward, as in PyTorch.
  A tensor that is a view, or that has views, is refused there: PyTorch rewrites the views'
  history too, nodegrad does not, and a view would silently keep the history of the old values.

>>> import autograd as ag
>>> w = ag.tensor([1.0, 2.0], requires_grad=True)
>>> (w * w).sum().backward()
>>> with ag.no_grad():
...     w -= 0.5 * w.grad
>>> w.tolist(), w.requires_grad
([0.0, 0.0], True)
"""

import numpy as np

from autograd.modes import MODE
from autograd.random import generator
from autograd.versions import count_edit

ops = None  # the op functions import TensorNode, which inherits these methods: set by autograd/tensor.py


class InPlaceMethods:
    """TensorNode's in-place methods; each returns the tensor itself."""

    __slots__ = ()

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def add_(self, other, *, alpha=1):
        return in_place(self, "add_", ops.add, other if alpha == 1 else ops.mul(other, alpha))

    def sub_(self, other, *, alpha=1):
        return in_place(self, "sub_", ops.sub, other if alpha == 1 else ops.mul(other, alpha))

    def mul_(self, other):
        return in_place(self, "mul_", ops.mul, other)

    def div_(self, other):
        return in_place(self, "div_", ops.div, other)

    def pow_(self, exponent):
        return in_place(self, "pow_", ops.pow, exponent)

    def clamp_(self, min=None, max=None):
        return in_place(self, "clamp_", lambda t: ops.clip(t, min, max))

    def zero_(self):
        return overwrite(self, "zero_", 0)

    def fill_(self, value):
        return overwrite(self, "fill_", value)

    def copy_(self, src):
        """Write `src` (broadcast to this shape) into this tensor; the gradient flows to `src`."""
        return overwrite(self, "copy_", src)

    def __setitem__(self, index, value):
        """`t[index] = value`: an in-place write (see the module docstring); gradient flows to the rest of t.

        `value` may be a number, an array or a tensor that does not require grad.
        """
        if getattr(value, "_requires_grad", False):
            raise RuntimeError(
                f"setitem: the value (shape {value.shape}) requires grad, which an indexed write does not pass on; "
                "got one, use ag.where or torch-style index ops (scatter_add, masked_fill) instead"
            )
        index = _arrays_in(index)
        if not (MODE.grad_enabled and self._requires_grad):  # nothing to record: write only the indexed part
            if not self._value.flags.writeable:
                raise _unwritable(self, "setitem")
            try:
                self._value[index] = getattr(value, "_value", value)
            except ValueError as error:
                raise ValueError(f"setitem: {error} (a tensor of shape {self.shape}), got {value!r}") from None
            count_edit(self)
            return
        keep = np.ones(self.shape, dtype=bool)
        keep[index] = False
        src = self._value.copy()
        src[index] = getattr(value, "_value", value)
        return in_place(self, "setitem", lambda t: ops.where(keep, t, src), casting="unsafe")

    def normal_(self, mean: float = 0.0, std: float = 1.0):
        """Fill with samples of N(mean, std^2) from the engine's generator (`manual_seed`)."""
        return overwrite(self, "normal_", generator().normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0):
        """Fill with samples of U(a, b) from the engine's generator."""
        return overwrite(self, "uniform_", generator().uniform(a, b, self.shape))


def in_place(tensor, where: str, fn, *args, casting: str = "same_kind"):
    """Make `tensor` hold `fn(tensor, *args)` (an out-of-place op) in its own memory: see the module docstring."""
    from autograd.ops.write import _WriteInto  # an Op: its module imports TensorNode, which inherits from here

    if tensor.source is None and tensor._requires_grad and MODE.grad_enabled:
        raise RuntimeError(f"{where}: a leaf Variable that requires grad is being used in an in-place operation.")
    recorded = MODE.grad_enabled and any(getattr(a, "_requires_grad", False) for a in (tensor, *args))
    if recorded:
        _check_no_views(tensor, where)
    result = fn(_copy_in_place_of(tensor) if recorded else tensor, *args)
    if result.shape != tensor.shape:
        raise RuntimeError(
            f"{where}: output with shape {tensor.shape} doesn't match the broadcast shape {result.shape}"
        )
    if not np.can_cast(result.dtype, tensor.dtype, casting):
        raise RuntimeError(
            f"{where}: result type {result.dtype} can't be cast to the desired output type {tensor.dtype}"
        )
    try:
        if recorded:  # the tensor becomes the output of an op that wrote its memory: its edits count there
            written = _WriteInto.apply(result, out=tensor._value, casting=casting)
        else:
            np.copyto(tensor._value, result._value, casting=casting)
    except ValueError:
        raise _unwritable(tensor, where) from None
    count_edit(tensor)
    if recorded:
        if tensor._retains_grad:  # as in PyTorch, .grad stays the gradient of the tensor's current values
            tensor.source.remove_hook(tensor._index, tensor._retains_grad)
            written.source.add_hook(0, tensor._retains_grad)
        tensor._requires_grad, tensor.source, tensor._index = True, written.source, 0
    return tensor


def _unwritable(tensor, where: str) -> RuntimeError:
    return RuntimeError(
        f"{where}: the tensor's array (shape {tensor.shape}) is read-only, a broadcast view (expand?) or a "
        "constant; clone() it first"
    )


def _copy_in_place_of(tensor):
    """A copy of `tensor`'s old values for the recorded op, which may save it for backward, since the
    tensor's own array is about to be overwritten.

    A non-leaf's copy is a recorded clone, a tensor of its own in the graph: the edits of the tensor,
    this one included, are counted where it came from (autograd/versions.py), and must not count
    against what the op saves of the copy.
    """
    from autograd.tensor import TensorNode  # not type(tensor): a Parameter's constructor would require grad

    if tensor.source is None:  # a leaf without gradient (a buffer that `+= w` brings into the graph)
        return TensorNode(tensor._value.copy())
    return tensor.clone()


def overwrite(tensor, where: str, src):
    """`src` broadcast into `tensor`; recorded as a `where` whose gradient goes to `src` only."""
    keep = np.zeros(tensor.shape, dtype=bool)
    return in_place(tensor, where, lambda t, s: ops.where(keep, t, s), src, casting="unsafe")


def _arrays_in(index):
    """An index with its tensors (a bool mask, integer positions) replaced by their arrays, for numpy."""
    if isinstance(index, tuple):
        return tuple(_arrays_in(i) for i in index)
    return getattr(index, "_value", index)


def _check_no_views(tensor, where: str) -> None:
    if tensor._base is not None or getattr(tensor, "_viewed", False):
        raise RuntimeError(
            f"{where}: an in-place change of a tensor of shape {tensor.shape} that shares its memory with a view "
            "(reshape, indexing, transpose, ...) cannot be recorded: the view would keep the history of the old "
            "values (PyTorch rewrites it, nodegrad does not); use the out-of-place op"
        )
