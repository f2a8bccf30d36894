"""`export`: trace a model once on example inputs and write what it computed as an ONNX file.

    model / fn ──(run once, eval mode, inside tracing())──> applications, in the order they ran
        ──(keep those the outputs depend on)──> one converter per op ──> ONNX nodes + initializers
        ──> onnx.checker.check_model ──> file

The `onnx` package is imported only here, when a model is exported, so `import autograd` never needs it.
"""

import contextlib
import os

import numpy as np

from autograd.modes import no_grad
from autograd.onnx import convert, shape
from autograd.onnx.builder import Graph, Node, UnsupportedOpError
from autograd.onnx.trace import tracing
from autograd.tensor import TensorNode

# Op (an Op class, or a numpy comparison) -> converter(graph, node). Add an entry to export an op of your own.
CONVERTERS = {**convert.CONVERTERS, **shape.CONVERTERS}
MIN_OPSET = 13  # Softmax along one axis, and Squeeze/Unsqueeze/ReduceSum taking axes as an input
BATCH = "batch"  # the name of the symbolic first dim


def export(
    model_or_fn,
    example_inputs,
    path: str | os.PathLike,
    opset_version: int = 17,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_batch: bool = True,
):
    """Write `model_or_fn` as an ONNX model, as `torch.onnx.export` does: traced once on `example_inputs`.

    The model runs once in evaluation mode (its modes are restored after), so Dropout drops out and
    BatchNorm uses its running statistics. Parameters and buffers become initializers named by their
    state-dict names (`0.weight`); the constants a function uses, by the tensor's name or a made-up one.
    Like any trace, it records the path the example took: Python branches on values are frozen, and
    arrays computed outside the engine's ops are stored as constants.

    Args:
        model_or_fn: an nn.Module, or any function of TensorNodes returning a TensorNode or a tuple of them.
        example_inputs: an array or TensorNode, or a tuple of them: the model's inputs.
        path: the .onnx file to write.
        opset_version: the ONNX opset to write (13 or later).
        input_names, output_names: the graph's names for them (default: input, output; input_0, ...).
        dynamic_batch: make the first dim of the inputs, and of the outputs whose first dim is the
            batch, symbolic, so the file runs on any batch size.

    Returns:
        The onnx.ModelProto written.

    Raises:
        ImportError: the onnx package is not installed.
        UnsupportedOpError: the model uses ops without an ONNX counterpart (all of them are named).
        ValueError, TypeError: bad opset, names or inputs.
    """
    onnx = _import_onnx()
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= onnx.defs.onnx_opset_version():
        raise ValueError(
            f"onnx.export: opset_version must be an int in [{MIN_OPSET}, {onnx.defs.onnx_opset_version()}], "
            f"got {opset_version!r}"
        )
    inputs = _example_tensors(example_inputs)
    with _evaluation_mode(model_or_fn), no_grad(), tracing() as trace:
        outputs = _output_tensors(model_or_fn(*inputs))
    input_names = _names("input_names", input_names, len(inputs), "input")
    output_names = _names("output_names", output_names, len(outputs), "output")
    _check_distinct(input_names + output_names)
    graph = Graph(onnx, opset_version, _state_names(model_or_fn))
    graph.used.update(input_names + output_names)
    _write(graph, trace, dict(zip(input_names, inputs)), dict(zip(output_names, outputs)))
    batch = inputs[0].shape[0] if dynamic_batch and inputs and inputs[0].ndim else None
    model = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes,
            "nodegrad",
            [_value_info(onnx, name, t, batch is not None) for name, t in zip(input_names, inputs)],
            [_value_info(onnx, name, t, t.ndim and t.shape[0] == batch) for name, t in zip(output_names, outputs)],
            initializer=graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", opset_version)],
        producer_name="nodegrad",
    )
    # The oldest IR version that holds this opset, so that older runtimes open the file too.
    model.ir_version = onnx.helper.find_min_ir_version_for(list(model.opset_import))
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.fspath(path))
    return model


def supported_ops() -> list[str]:
    """The names of the ops `export` can write, sorted.

    >>> "Conv2d" in supported_ops() and "MultiMarginLoss" not in supported_ops()
    True
    """
    return sorted(op_name(op) for op in CONVERTERS)


def op_name(op) -> str:
    """An Op's class name, or `numpy.greater` for a traced comparison."""
    return op.__name__ if isinstance(op, type) else f"numpy.{op.__name__}"


def _write(graph: Graph, trace: list, inputs: dict, outputs: dict) -> None:
    """The ONNX nodes of every traced application the outputs depend on, in the order they ran."""
    values = {}  # id of a traced tensor, and of its array, -> its name in the graph

    def resolve(x, array):
        """A traced value's name (also for its array passed on, or a tensor sharing it: detach()), else None."""
        return values.get(id(x), values.get(id(array)))

    def name(tensor, value_name):
        values.setdefault(id(tensor), value_name)
        values.setdefault(id(tensor._value), value_name)

    for input_name, tensor in inputs.items():
        name(tensor, input_name)
    wanted = {}  # id(output tensor) -> its output name, the first time a tensor is listed
    for output_name, tensor in outputs.items():
        wanted.setdefault(id(tensor), output_name)
    named = []
    for application in trace:
        out = [wanted.pop(id(t), None) or graph.fresh(op_name(application.op)) for t in application.outputs]
        for tensor, value_name in zip(application.outputs, out):
            name(tensor, value_name)
        named.append(out)
    needed = _needed(trace, named, {resolve(t, t._value) for t in outputs.values()}, resolve)
    for application, out in zip(trace, named):
        if needed.get(id(application)):
            CONVERTERS[application.op](graph, Node(graph, application, out, resolve))
    written = {value_name for out in named for value_name in out}
    for output_name, tensor in outputs.items():
        if output_name not in written:  # an input, a constant, or a tensor listed twice
            source = resolve(tensor, tensor._value) or graph.constant(tensor._value, hint="constant")
            graph.add("Identity", [source], output_name)


def _needed(trace: list, named: list, wanted: set, resolve) -> dict:
    """id(application) -> True for those the wanted values depend on; refuses ops without a converter."""
    needed, missing = {}, set()
    for application, out in zip(reversed(trace), reversed(named)):
        if not wanted.intersection(out):
            continue
        needed[id(application)] = True
        if application.op not in CONVERTERS:
            missing.add(op_name(application.op))
        wanted.update(resolve(x, a) for x, a in zip(application.inputs, application.arrays) if a is not None)
    if missing:
        raise UnsupportedOpError(
            f"onnx.export: no ONNX counterpart for {', '.join(sorted(missing))}; supported: "
            f"{', '.join(supported_ops())}. Add a converter to autograd.onnx.CONVERTERS for an op of your own."
        )
    return needed


def _import_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('onnx.export: needs the onnx package; install it with pip install -e ".[onnx]"') from None
    return onnx


@contextlib.contextmanager
def _evaluation_mode(model):
    """The model (every submodule) in evaluation mode inside the block, each back in its own mode after."""
    modules = list(model.modules()) if hasattr(model, "modules") else [model] if hasattr(model, "training") else []
    modes = [m.training for m in modules]
    if hasattr(model, "eval"):
        model.eval()
    try:
        yield
    finally:
        for module, mode in zip(modules, modes):
            module.training = mode


def _state_names(model) -> dict:
    """id of each parameter's and buffer's array -> its state-dict name (duck-typed: any object with them)."""
    members = [*getattr(model, "named_parameters", tuple)(), *getattr(model, "named_buffers", tuple)()]
    return {id(getattr(member, "value", member)): name for name, member in members}


def _example_tensors(example_inputs) -> list:
    """The example inputs as new TensorNodes without gradient: the graph's inputs."""
    inputs = list(example_inputs) if isinstance(example_inputs, (tuple, list)) else [example_inputs]
    for i, x in enumerate(inputs):
        if not isinstance(x, (TensorNode, np.ndarray)):
            raise TypeError(
                f"onnx.export: example input {i} must be an ndarray or a TensorNode, got {type(x).__name__}"
            )
    return [TensorNode(x) for x in inputs]


def _output_tensors(result) -> list:
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    for i, y in enumerate(outputs):
        if not isinstance(y, TensorNode):
            raise TypeError(
                f"onnx.export: the model must return a TensorNode or a tuple of them, got {type(y).__name__} "
                f"as output {i}"
            )
    return outputs


def _names(where: str, names, count: int, default: str) -> list:
    if names is None:
        return [default] if count == 1 else [f"{default}_{i}" for i in range(count)]
    names = list(names)
    if len(names) != count or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"onnx.export: {where} must be {count} non-empty strings, got {names!r}")
    return names


def _check_distinct(names: list) -> None:
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"onnx.export: input and output names must all differ, got {repeated} more than once")


def _value_info(onnx, name: str, tensor: TensorNode, symbolic_batch: bool):
    shape = list(tensor.shape)
    if symbolic_batch and shape:
        shape[0] = BATCH
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(tensor.dtype), shape)
