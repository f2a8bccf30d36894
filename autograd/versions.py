"""In-place version tracking: a backward never runs on arrays that were changed after forward saved them.

Every tensor counts its in-place changes (`t.value += 1` assigns the same array back, which counts);
a view counts with the tensor whose memory it views. An op that saves arrays for backward notes
the count of each array's owner, and backward refuses to run when a count moved. An op's own
output is counted on its OpNode (`output_edits`) instead: the node must not hold its output, or
the two would keep each other alive.
"""

import numpy as np


def memory_root(array):
    """The object that owns the memory `array` views (the array itself when it owns its data)."""
    base = array.base
    while base is not None:
        array, base = base, getattr(base, "base", None)
    return array


def version_owner(tensor):
    """The tensor whose version counter `tensor` shares: views count changes with their base."""
    return tensor if tensor._base is None else tensor._base


def count_edit(tensor) -> None:
    """Record an in-place change of `tensor`'s value."""
    owner = version_owner(tensor)
    owner._version += 1
    if owner.source is not None:
        owner.source.output_edits += 1


def share_version(output, inputs: tuple) -> None:
    """An output that views an input's memory counts its in-place changes with that input."""
    root = memory_root(output._value)
    for t in inputs:
        if hasattr(t, "_version") and memory_root(t._value) is root:
            output._base = version_owner(t)
            return


def saved_versions(inputs: tuple, outputs: tuple, saved: tuple) -> tuple:
    """Flat (owner, version, owner, version, ...) for the tensors whose memory the saved arrays view.

    An owner None stands for the op's own outputs, whose edits the node counts (output_edits,
    0 when forward returns): a node holding its own output would be a reference cycle.
    """
    items = []
    for array in saved:
        if not isinstance(array, np.ndarray):
            continue
        owner = _owner(array, inputs, outputs)
        if owner is False or owner in items[::2]:
            continue
        items += (None, 0) if owner is None else (owner, owner._version)
    return tuple(items)


def _owner(array, inputs, outputs):
    """The version owner of the tensor whose memory `array` is or views; None for an output, False for none."""
    tensors = [t for t in inputs if hasattr(t, "_version")] + list(outputs)
    views = array.base is not None
    for t in tensors:
        if t._value is array:
            return _output_or_owner(t, outputs)
        views = views or t._value.base is not None
    if not views:
        return False  # every array here owns its memory, so only identity could have matched
    root = memory_root(array)
    for t in tensors:
        if memory_root(t._value) is root:
            return _output_or_owner(t, outputs)
    return False


def _output_or_owner(tensor, outputs):
    owner = version_owner(tensor)
    for o in outputs:
        if owner is o:
            return None
    return owner


def check_versions(node) -> None:
    """Refuse to run backward on saved arrays that were changed in place since the forward pass."""
    versions = node.saved_versions
    for owner, version in zip(versions[::2], versions[1::2]):
        edits = node.output_edits if owner is None else owner._version
        if edits != version:
            shape = node.output_meta[0][0] if owner is None else owner.shape
            raise RuntimeError(
                f"backward: an array that {node.op.__name__} saved for backward was modified in place "
                f"after the forward pass (tensor of shape {shape}); replace .value with a new "
                "array instead of changing it in place, or run the forward again"
            )
