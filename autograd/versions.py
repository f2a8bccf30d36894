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


INPUT, OUTPUT, VIEW = "input", "output", "view"


def saved_role(array, in_arrays: list, out_arrays: tuple):
    """What a saved array is: (INPUT, i), (OUTPUT, k), (VIEW, None) for a float view of one, else None."""
    for i, a in enumerate(in_arrays):
        if a is array:
            return (INPUT, i)
    for k, out in enumerate(out_arrays):
        if out is array:
            return (OUTPUT, k)
    if isinstance(array, np.ndarray) and array.base is not None and array.dtype.kind in "fc":
        root = memory_root(array)
        arrays = [a for a in (*in_arrays, *out_arrays) if isinstance(a, np.ndarray)]
        if any(memory_root(a) is root for a in arrays):
            return (VIEW, None)
    return None


def saved_versions(inputs: tuple, outputs: tuple, saved: tuple, roles: tuple) -> tuple:
    """Flat (owner, version, owner, version, ...) for the tensors whose memory the saved arrays are or view.

    `roles` are the saved arrays' saved_role. An owner None stands for the op's own outputs, whose
    edits the node counts (output_edits, 0 when forward returns): a node holding its own output
    would be a reference cycle.
    """
    items = []
    for array, role in zip(saved, roles):
        if role is None or role[0] == VIEW:
            owner = _owner_of_view(array, inputs, outputs) if isinstance(array, np.ndarray) else False
        elif role[0] == INPUT:
            owner = version_owner(inputs[role[1]]) if hasattr(inputs[role[1]], "_version") else False
        else:
            owner = outputs[role[1]]._base  # None unless the output views an input (autograd.versions.share_version)
        if owner is not False:
            items += (None, 0) if owner is None else (owner, owner._version)
    return tuple(items)


def _owner_of_view(array, inputs, outputs):
    """The version owner of the tensor whose memory `array` views; None for an output, False for none."""
    tensors = [t for t in (*inputs, *outputs) if hasattr(t, "_version")]
    if array.base is None and all(t._value.base is None for t in tensors):
        return False  # every array here owns its memory: it is none of theirs
    root = memory_root(array)
    for t in tensors:
        if memory_root(t._value) is root:
            return _output_or_owner(t, outputs)
    return False


def _output_or_owner(tensor, outputs):
    owner = version_owner(tensor)
    return None if any(owner is o for o in outputs) else owner


def check_versions(node) -> None:
    """Refuse to run backward on saved arrays that were changed in place since the forward pass."""
    versions = node.saved_versions
    for j in range(0, len(versions), 2):
        owner, version = versions[j], versions[j + 1]
        edits = node.output_edits if owner is None else owner._version
        if edits != version:
            shape = node.output_meta[0][0] if owner is None else owner.shape
            raise RuntimeError(
                f"backward: an array that {node.op.__name__} saved for backward was modified in place "
                f"after the forward pass (tensor of shape {shape}); replace .value with a new "
                "array instead of changing it in place, or run the forward again"
            )
