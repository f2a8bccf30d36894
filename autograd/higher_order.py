"""How an op's backward runs when its result is to be differentiated again (create_graph=True).

The formula is the one first derivatives use; only its arguments change. The gradients arrive as
TensorNodes, and so does every array forward saved that is one of the op's inputs or outputs (by
identity): such an array is rebuilt as a tensor at the same place in the graph. numpy's functions
and the operators on those tensors run the engine's ops, so what backward computes is recorded.

What cannot be recorded is refused, naming the op, instead of turning into a silent zero or a
silent constant: a saved floating-point array that is neither an input nor an output (its
dependence on the inputs is unknown; keep a true constant, such as a dropout mask, as a ctx
attribute), array-only code (a numpy function without a counterpart, `.value`, `float(t)`), or a
gradient returned as a plain array.
"""

import numpy as np

from autograd import graph
from autograd.modes import MODE, NotDifferentiableError
from autograd.tensor import TensorNode
from autograd.versions import INPUT, VIEW


def differentiable_backward(node, out_grads: list):
    """Run node's backward on TensorNodes (gradients, saved inputs and outputs), recording what it computes."""
    ctx = graph.Context(node.needs_input_grad)
    vars(ctx).update(vars(node))  # the settings forward kept beside its saved arrays
    ctx.saved = tuple(_saved_tensor(node, array, role) for array, role in zip(node.saved, node.saved_roles))
    out_grads = [g if isinstance(g, TensorNode) else TensorNode(g) for g in out_grads]
    previous, MODE.differentiating = MODE.differentiating, node.op
    try:
        in_grads = graph.one_per_input(node, node.op.backward(ctx, *out_grads))
    except NotDifferentiableError as error:
        raise _refusal(node, f"it runs array-only code on TensorNodes ({error})") from error
    except AttributeError as error:
        if "TensorNode" not in str(error):
            raise
        raise _refusal(node, f"it uses what TensorNodes do not have ({error})") from error
    finally:
        MODE.differentiating = previous
    for i, g in enumerate(in_grads):
        if g is not None and node.inputs[i] is not None and not isinstance(g, TensorNode):
            raise _refusal(node, f"it returned an array for input {i}, cut off from the graph")
    return in_grads


def _saved_tensor(node, array, role):
    """One saved array as a differentiable backward sees it."""
    if role is None:
        if isinstance(array, np.ndarray) and array.dtype.kind in "fc":
            raise _refusal(
                node,
                "forward saved a float array that is neither an input nor an output, so its dependence on the "
                "inputs is unknown; save the input itself, or keep a true constant as a ctx attribute",
            )
        return array  # indices, masks, None
    kind, position = role
    if kind == VIEW:
        if array.dtype.kind not in "fc":
            return array  # a mask or indices that share memory with an input: still a constant
        raise _refusal(node, "forward saved a view of an input or output; save the array itself")
    e = node.inputs[position] if kind == INPUT else (node, position)
    if e is None:
        return array  # an input that needs no gradient: a constant
    producer = e[0]
    if isinstance(producer, TensorNode):
        if producer._value is not array:
            raise _refusal(node, "a leaf it saved was given a new value after forward; run the forward again")
        return producer
    return TensorNode._wrap(array, producer, e[1])


def _refusal(node, why: str) -> RuntimeError:
    return RuntimeError(
        f"{node.op.__name__}.backward cannot be differentiated again: {why} "
        "(write it with operators and numpy functions TensorNodes support, or differentiate it only once)"
    )
