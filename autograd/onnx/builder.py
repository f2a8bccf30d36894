"""Building the ONNX graph: `Graph` collects nodes and initializers under unique names, `Node` is what a
converter sees of one traced op application.

A converter reads its inputs through `node.input(i)`, which names the value in the ONNX graph: the
output of an earlier op, a graph input, a parameter or buffer (an initializer named by its state-dict
name), or a constant made an initializer on first use. It then adds ONNX nodes with `g.add`, writing
the op's results to `node.outputs`.
"""

import inspect

import numpy as np


class UnsupportedOpError(RuntimeError):
    """An op, or an op's setting, that the ONNX exporter cannot write."""


# ONNX Slice's bounds for "to the end" and, with a negative step, "to the beginning".
INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


class Graph:
    """The nodes and initializers of the graph being exported, and the value names in use.

    Args:
        onnx: the imported onnx package (imported by the exporter, so that autograd does not need it).
        opset: the ONNX opset version the nodes are written for.
        state_names: id of a parameter, its array or a buffer array -> its state-dict name.
    """

    def __init__(self, onnx, opset: int, state_names: dict):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers = [], []
        self.state_names = state_names
        self.used = set(state_names.values())
        self.made = {}  # id(array) -> initializer name, so an array shared by several ops is stored once
        self.keep = []  # the arrays behind `made`, alive until export ends so their ids stay unique

    def fresh(self, hint: str) -> str:
        """A value name not used yet: `hint`, else `hint_1`, `hint_2`, ..."""
        name, k = hint, 0
        while name in self.used:
            k += 1
            name = f"{hint}_{k}"
        self.used.add(name)
        return name

    def add(self, op_type: str, inputs: list, outputs=None, **attributes) -> str:
        """Append one ONNX node; returns its (first) output name, a fresh one unless `outputs` names them."""
        outputs = [self.fresh(op_type)] if outputs is None else [outputs] if isinstance(outputs, str) else outputs
        name = self.fresh(f"node_{op_type}")
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, outputs, name=name, **attributes))
        return outputs[0]

    def constant(self, array, dtype=None, hint: str = "constant") -> str:
        """An initializer holding `array` (cast to `dtype`); a parameter or buffer keeps its state-dict name."""
        array = np.asarray(array)
        key = (id(array), None if dtype is None else np.dtype(dtype).str)
        if key in self.made:
            return self.made[key]
        name = self.state_names.get(id(array))
        name = self.fresh(hint) if name is None or key[1] not in (None, array.dtype.str) else name
        self.keep.append(array)
        value = array.astype(array.dtype if dtype is None else dtype, order="C", copy=False)
        self.initializers.append(self.onnx.numpy_helper.from_array(value, name))
        self.made[key] = name
        return name

    def ints(self, values, hint: str = "ints") -> str:
        """A 1-D int64 initializer (axes, shapes, pads): ONNX takes them as inputs, not attributes."""
        return self.constant(np.array(values, dtype=np.int64).reshape(-1), hint=hint)

    def scalar(self, value, dtype, hint: str = "scalar") -> str:
        return self.constant(np.array(value, dtype=dtype), hint=hint)

    def cast(self, name: str, dtype) -> str:
        return self.add("Cast", [name], to=self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))

    def reduce(self, op_type: str, x: str, axes, keepdims: bool, outputs=None) -> str:
        """A Reduce* node over `axes` (ReduceSum takes them as an input from opset 13, the others from 18)."""
        axes = [int(a) for a in axes]
        if not axes:  # a 0-d input: reducing it over nothing is itself (ONNX would read [] as every axis)
            return self.add("Identity", [x], outputs)
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.add(op_type, [x, self.ints(axes, "axes")], outputs, keepdims=int(keepdims))
        return self.add(op_type, [x], outputs, axes=axes, keepdims=int(keepdims))


class Node:
    """One traced op application as a converter sees it.

    Attributes:
        op: the op (an Op class, or the numpy comparison traced).
        params: the op's keyword settings, as it was called.
        arrays: per input, the array it computed with (None for an absent optional input).
        out_arrays: per output, the array it computed (shapes and dtypes for the converter).
        outputs: per output, the name the converter must write it to.
    """

    def __init__(self, graph: Graph, application, outputs: list, resolve):
        self.graph, self.op, self.params = graph, application.op, application.params
        self.arrays, self.out_arrays = application.arrays, [t._value for t in application.outputs]
        self.outputs = outputs
        self._inputs, self._resolve = application.inputs, resolve

    def input(self, i: int, dtype=None) -> str:
        """The graph's name for input i ("" when absent, ONNX's mark of an omitted optional input), as `dtype`."""
        if self.arrays[i] is None:
            return ""
        name = self._resolve(self._inputs[i], self.arrays[i])
        if name is None:  # a constant: cast the array itself rather than add a Cast node
            return self.graph.constant(self.arrays[i], dtype, hint=getattr(self._inputs[i], "name", None) or "constant")
        if dtype is not None and np.dtype(dtype) != self.arrays[i].dtype:
            return self.graph.cast(name, dtype)
        return name

    def inputs(self, dtype=None) -> list:
        """Every input's name, each as `dtype` (numpy promotes mixed operands; ONNX wants them equal)."""
        return [self.input(i, dtype) for i in range(len(self.arrays))]

    @property
    def settings(self) -> dict:
        """The op's keyword settings as it ran: those it was given, and forward's defaults for the others."""
        forward = inspect.signature(self.op.forward).parameters.values()
        return {**{p.name: p.default for p in forward if p.kind is p.KEYWORD_ONLY}, **self.params}

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the first output."""
        return self.out_arrays[0].dtype
