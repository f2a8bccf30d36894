"""The switches that change how the engine runs, each local to the thread: grad mode, anomaly
detection and gradient statistics.

>>> import autograd as ag
>>> x = ag.tensor([1.0], requires_grad=True)
>>> with ag.no_grad():
...     (x * 2).requires_grad
False
"""

import contextlib
import copy
import threading
import traceback

import numpy as np


class _Mode(threading.local):
    """This thread's switches; the class attributes are every new thread's defaults."""

    grad_enabled = True
    anomaly = False
    grad_stats = False
    # The op whose backward is running on TensorNodes (create_graph=True): array-only code inside it
    # is refused instead of silently dropping out of the graph.
    differentiating = None


MODE = _Mode()


class NotDifferentiableError(TypeError):
    """Array-only code met a TensorNode that requires grad while a backward was being differentiated."""


def is_grad_enabled() -> bool:
    """True unless inside `no_grad()` on this thread."""
    return MODE.grad_enabled


class _Switch(contextlib.ContextDecorator):
    """Sets one attribute of MODE inside a `with` block (or a decorated function), then restores it."""

    attribute = ""
    value = True

    def _recreate_cm(self):
        # A decorated function gets a fresh switch per call, so recursive and concurrent calls each
        # restore what they found.
        return copy.copy(self)

    def __enter__(self):
        self._previous = getattr(MODE, self.attribute)
        setattr(MODE, self.attribute, self.value)
        return self

    def __exit__(self, *exc):
        setattr(MODE, self.attribute, self._previous)
        return False


class no_grad(_Switch):
    """Record nothing inside: a context manager and a decorator, local to the thread."""

    attribute, value = "grad_enabled", False


# PyTorch's inference_mode also skips version counting; here it is no_grad, which records nothing either.
inference_mode = no_grad


class enable_grad(_Switch):
    """Record again inside a `no_grad` region."""

    attribute, value = "grad_enabled", True


class set_grad_enabled(_Switch):
    """Record or not, as `mode` says (PyTorch's `torch.set_grad_enabled`)."""

    attribute = "grad_enabled"

    def __init__(self, mode: bool):
        self.value = bool(mode)


class record_grad_stats(_Switch):
    """Inside, backward stores gradient statistics on every OpNode it passes (`node.grad_stats`).

    Off by default so that ordinary training pays nothing; graph drawings use it to colour tensors
    by gradient health.
    """

    attribute, value = "grad_stats", True


class detect_anomaly(_Switch):
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

    attribute, value = "anomaly", True

    def __enter__(self):
        self._errstate = np.errstate(divide="ignore", over="ignore", invalid="ignore")
        self._errstate.__enter__()
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self._errstate.__exit__(*exc)
        return False


def _non_finite(array) -> str | None:
    """'nan' or 'inf' when a float array (or numpy scalar: what a full reduction returns) holds one, else None."""
    array = getattr(array, "value", array)
    if not isinstance(array, (np.ndarray, np.generic)) or array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def check_forward_anomaly(op, ctx, arrays, outputs) -> None:
    """Raise when `op`'s forward produced NaN or Inf; remember the call site for backward's errors."""
    for i, out in enumerate(outputs):
        kind = _non_finite(out)
        if kind:
            shapes = [np.shape(a) for a in arrays if a is not None]
            inside = MODE.differentiating
            raise RuntimeError(
                f"detect_anomaly: {op.__name__} produced {kind} in output {i} (shape {out.shape}) "
                f"from inputs of shapes {shapes}"
                + (f", inside {inside.__name__}.backward run with create_graph=True" if inside else "")
            )
    ctx.forward_trace = "".join(traceback.format_stack(limit=12)[:-3])


def check_backward_anomaly(node, in_grads) -> None:
    """Raise when `node`'s backward produced NaN or Inf, showing where its forward was called."""
    for i, g in enumerate(in_grads):
        kind = _non_finite(g)
        if kind:
            where = getattr(node, "forward_trace", "") or "(not recorded: forward ran outside detect_anomaly)\n"
            raise RuntimeError(
                f"detect_anomaly: {node.op.__name__}.backward produced {kind} in the gradient of input {i} "
                f"(shape {np.shape(g)}); the forward {node.op.__name__} was called at:\n{where}"
            )


def gradient_summary(grad) -> dict:
    """Norm, mean and max magnitude, and the fraction of exact zeros of one gradient array."""
    magnitude = np.abs(getattr(grad, "value", grad))
    return {
        "norm": float(np.sqrt((magnitude.astype(np.float64) ** 2).sum())),
        "mean_abs": float(magnitude.mean()) if magnitude.size else 0.0,
        "max_abs": float(magnitude.max()) if magnitude.size else 0.0,
        "zero_fraction": float((magnitude == 0).mean()) if magnitude.size else 0.0,
    }
