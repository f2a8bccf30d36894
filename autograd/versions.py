"""In-place version tracking: a backward never runs on arrays that were changed after forward saved them.

Every tensor counts its in-place changes (`t.value += 1` assigns the same array back, which counts);
a view counts with the tensor whose memory it views, and an op's output counts on the OpNode that
made it too (`output_edits`). An op that saves arrays for backward notes the count of each array's
owner, and backward refuses to run when a count moved. Where the node can read a count without
holding the tensor, it does: its own outputs through its `output_edits` (holding its output would
be a reference cycle), an input through the edge it came in on (see note_saved).
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
            output._base._viewed = True  # in-place changes of it can no longer be recorded: autograd/inplace.py
            return


INPUT, OUTPUT, VIEW = "input", "output", "view"


def saved_role(array, in_arrays: list, out_arrays: tuple):
    """What a saved array is: (INPUT, i) or (OUTPUT, k) when it is that array, (VIEW, (INPUT, i)) or
    (VIEW, (OUTPUT, k)) when it only shares that array's memory, else None."""
    if array is None:
        return None
    for i, a in enumerate(in_arrays):
        if a is array:
            return (INPUT, i)
    for k, out in enumerate(out_arrays):
        if out is array:
            return (OUTPUT, k)
    return _view_role(array, in_arrays, out_arrays) if isinstance(array, np.ndarray) else None


def _view_role(array, in_arrays: list, out_arrays: tuple):
    """saved_role for an array that is none of the inputs and outputs: the view of one whose memory it shares."""
    candidates = [((INPUT, i), a) for i, a in enumerate(in_arrays) if isinstance(a, np.ndarray)]
    candidates += [((OUTPUT, k), o) for k, o in enumerate(out_arrays) if isinstance(o, np.ndarray)]
    if array.base is None and all(a.base is None for _, a in candidates):
        return None  # every array here owns its memory, so only identity could have matched
    root = memory_root(array)
    return next(((VIEW, place) for place, a in candidates if memory_root(a) is root), None)


def note_saved(saved: tuple, in_arrays: list, out_arrays: tuple, inputs: tuple, outputs: tuple) -> tuple:
    """(roles, versions) of the arrays an op saved for backward.

    roles: per saved array, its saved_role. versions: flat (key, edits, key, edits, ...), one pair per
    tensor whose memory a saved array is or views: where its in-place edits are counted, and their
    count now. A key is
    - None for the op's own outputs, whose edits the node counts (output_edits, 0 when forward
      returns): a node holding its own output would be a reference cycle;
    - an int i for input i when it owns its memory and enters the graph on an edge (a leaf that
      requires grad, or the output of a one-output op): its edits are read through that edge;
    - the owner tensor otherwise (a view's base, a tensor without gradient, an output of an op
      with several outputs).
    Ints, not tensors, wherever the edge already leads to the owner: the node then keeps no tensor
    alive, and the collector stops scanning the tuple (half an object fewer that it tracks per op of a
    100,000-op chain; `python -m benchmarks.collector`).
    """
    roles, versions = [], []
    for array in saved:
        role = saved_role(array, in_arrays, out_arrays)
        roles.append(role)
        if role is None:
            continue
        kind, position = role[1] if role[0] is VIEW else role
        if kind is OUTPUT:
            owner = outputs[position]._base  # None unless the output views an input (share_version)
            versions += (None, 0) if owner is None else (owner, owner._version)
        elif hasattr(inputs[position], "_version"):
            versions += _input_version(inputs[position], position)
        # else a number or an array passed in: nothing counts its edits
    return tuple(roles), tuple(versions)


def _input_version(tensor, position: int) -> tuple:
    """(key, edits) of input `position` for note_saved."""
    if tensor._base is None and tensor._requires_grad:  # it owns its memory and enters on an edge
        if tensor.source is None:
            return (position, tensor._version)
        if len(tensor.source.output_meta) == 1:  # output_edits counts the edits of every output
            return (position, tensor.source.output_edits)
    owner = version_owner(tensor)
    return (owner, owner._version)


def _edits(node, key) -> int:
    """What note_saved's `key` of `node` counts now."""
    if key is None:
        return node.output_edits
    if not isinstance(key, int):
        return key._version
    producer = node.inputs[key][0]
    return producer._version if hasattr(producer, "_version") else producer.output_edits  # a leaf, or an OpNode


def _shape(node, key) -> tuple:
    """The shape of the tensor that note_saved's `key` of `node` names (for the error)."""
    if key is None:
        return node.output_meta[0][0]
    return node.input_meta[key][0] if isinstance(key, int) else key.shape


def check_versions(node) -> None:
    """Refuse to run backward on saved arrays that were changed in place since the forward pass."""
    versions = node.saved_versions
    for j in range(0, len(versions), 2):
        key = versions[j]
        if _edits(node, key) != versions[j + 1]:
            raise RuntimeError(
                f"backward: an array that {node.op.__name__} saved for backward was modified in place "
                f"after the forward pass (tensor of shape {_shape(node, key)}); replace .value with a new "
                "array instead of changing it in place, or run the forward again"
            )
