"""Converters of the shape ops: Reshape, Expand, Transpose, Squeeze, Unsqueeze, Concat, Stack, Pad and
indexing (GetItem, as Slice, Gather and Unsqueeze).

Shapes are written so that a model traced with one batch size runs with another: a reshape that
keeps the first dim copies it (ONNX's 0), an expand names only the dims it stretches, and slices
keep their open ends open instead of the example's sizes.
"""

import numpy as np

from autograd import ops
from autograd.onnx.builder import INT64_MAX, INT64_MIN, UnsupportedOpError
from autograd.op import normalize_axes


def reshape(g, node):
    target = [int(n) for n in np.reshape(node.settings["shape"], -1)]
    before, after = node.arrays[0].shape, node.out_arrays[0].shape
    if before and after and before[0] == after[0] and target[0] != -1:
        target[0] = 0  # "as in the input": the same at this size, and right at every other batch size
    g.add("Reshape", [node.input(0), g.ints(target, "shape")], node.outputs)


def expand(g, node):
    """Expand to the output's shape, with 1 for every dim the input already has (ONNX broadcasts both ways)."""
    before, after = node.arrays[0].shape, node.out_arrays[0].shape
    aligned = (None,) * (len(after) - len(before)) + before
    target = [1 if n == m else n for n, m in zip(after, aligned)]
    g.add("Expand", [node.input(0), g.ints(target, "shape")], node.outputs)


def transpose(g, node):
    ndim, axes = node.arrays[0].ndim, node.settings["axes"]
    perm = list(range(ndim))[::-1] if axes is None else [int(a) % max(ndim, 1) for a in axes]
    g.add("Transpose", [node.input(0)], node.outputs, perm=perm)


def squeeze(g, node):
    shape, axis = node.arrays[0].shape, node.settings["axis"]
    axes = [i for i, n in enumerate(shape) if n == 1] if axis is None else normalize_axes("squeeze", axis, len(shape))
    if not axes:  # ONNX would read no axes as "every axis of size 1"
        g.add("Identity", [node.input(0)], node.outputs)
        return
    g.add("Squeeze", [node.input(0), g.ints(axes, "axes")], node.outputs)


def unsqueeze(g, node):
    g.add("Unsqueeze", [node.input(0), g.ints(node.settings["axis"], "axes")], node.outputs)


def concat(g, node):
    axis = normalize_axes("concat", node.settings["axis"], node.arrays[0].ndim)[0]
    g.add("Concat", node.inputs(node.dtype), node.outputs, axis=axis)


def stack(g, node):
    axis = node.settings["axis"] % node.out_arrays[0].ndim
    rows = [g.add("Unsqueeze", [x, g.ints([axis], "axes")]) for x in node.inputs(node.dtype)]
    g.add("Concat", rows, node.outputs, axis=axis)


def pad(g, node):
    widths = np.broadcast_to(np.asarray(node.settings["pad_width"], dtype=np.int64), (node.arrays[0].ndim, 2))
    g.add("Pad", [node.input(0), g.ints(np.concatenate([widths[:, 0], widths[:, 1]]), "pads")], node.outputs)


def getitem(g, node):
    """x[index]: one Slice for the slices, a Gather per integer or integer array, an Unsqueeze for the Nones."""
    parts = _index_parts(node.params["index"], node.arrays[0].ndim)
    slices, gathers, new_axes = [], [], []
    axis = position = 0  # the input axis the next part reads, the output axis it makes
    for part in parts:
        if part is None:
            new_axes.append(position)
            position += 1
            continue
        if isinstance(part, slice):
            if part != slice(None):
                slices.append((axis, *_slice_bounds(part)))
            position += 1
        else:
            gathers.append((axis, part))
            position += np.ndim(part)
        axis += 1
    steps = []
    if slices:
        axes, starts, ends, strides = zip(*slices)
        bounds = ((starts, "starts"), (ends, "ends"), (axes, "axes"), (strides, "steps"))
        steps.append(("Slice", [g.ints(values, hint) for values, hint in bounds], {}))
    # From the last axis back: a gather that removes or adds axes leaves the earlier ones where they were.
    steps += [("Gather", [g.constant(np.asarray(i, np.int64), hint="index")], {"axis": a}) for a, i in gathers[::-1]]
    if new_axes:
        steps.append(("Unsqueeze", [g.ints(new_axes, "axes")], {}))
    steps = steps or [("Identity", [], {})]  # x[:] or x[...]
    y = node.input(0)
    for k, (op_type, extra, attributes) in enumerate(steps):
        y = g.add(op_type, [y, *extra], node.outputs if k == len(steps) - 1 else None, **attributes)


def _slice_bounds(part: slice) -> tuple:
    """(start, end, step) for ONNX Slice; an open end stays open (clamped to whatever the size is at run time)."""
    step = 1 if part.step is None else int(part.step)
    start = (0 if step > 0 else INT64_MAX) if part.start is None else int(part.start)
    end = (INT64_MAX if step > 0 else INT64_MIN) if part.stop is None else int(part.stop)
    return start, end, step


def _index_parts(index, ndim: int) -> list:
    """`index` as a list of slices, ints, int64 arrays and Nones, one entry per input axis besides the Nones."""
    parts = []
    for part in index if isinstance(index, tuple) else (index,):
        if part is None or part is Ellipsis or isinstance(part, slice):
            parts.append(part)
        elif isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
            parts.append(int(part))
        else:
            parts.append(_index_array(part))
    ellipses = [k for k, p in enumerate(parts) if p is Ellipsis]
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    fill = [slice(None)] * (ndim - used)
    at = ellipses[0] if ellipses else len(parts)
    parts = parts[:at] + fill + parts[at + 1 if ellipses else at :]
    arrays = [p for p in parts if isinstance(p, np.ndarray)]
    if arrays and sum(1 for p in parts if isinstance(p, (int, np.ndarray))) > 1:
        # numpy moves the dims of several advanced indices in ways one Gather per axis does not follow.
        raise UnsupportedOpError(
            f"onnx export: GetItem takes at most one integer array and then no other integer index, got {index!r}"
        )
    return parts


def _index_array(part) -> np.ndarray:
    array = np.asarray(part)
    if array.dtype == bool and array.ndim == 1:
        return np.flatnonzero(array)  # the mask is a constant of the trace: its positions are what it selects
    if array.dtype.kind not in "iu":
        raise UnsupportedOpError(
            f"onnx export: GetItem supports slices, ints, None, ..., integer arrays and 1-D boolean masks, got {part!r}"
        )
    return array.astype(np.int64)


CONVERTERS = {
    ops.Reshape: reshape,
    ops.Expand: expand,
    ops.Transpose: transpose,
    ops.Squeeze: squeeze,
    ops.Unsqueeze: unsqueeze,
    ops.Concat: concat,
    ops.Stack: stack,
    ops.Pad: pad,
    ops.GetItem: getitem,
}
