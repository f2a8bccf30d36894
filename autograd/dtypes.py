"""PyTorch's dtype names (numpy dtypes here), `device` (the CPU only) and `cuda.is_available()`.

>>> import autograd as ag
>>> ag.tensor([1.0]).dtype == ag.float32, ag.device("cuda" if ag.cuda.is_available() else "cpu")
(True, device(type='cpu'))
"""

import builtins
import types

import numpy as np

float32 = float = np.float32
float64 = double = np.float64
float16 = half = np.float16
int64 = long = np.int64
int32 = int = np.int32
int16 = short = np.int16
int8 = np.int8
uint8 = np.uint8
bool = np.bool_


class device:
    """Where a tensor lives, as torch.device: nodegrad computes on the CPU only ("cpu" or "cpu:0")."""

    def __init__(self, type_: "str | device", index=None):
        if isinstance(type_, device):
            type_, index = type_.type, type_.index
        name, _, number = str(type_).partition(":")
        self.type, self.index = name, (builtins.int(number) if number else index)

    def __eq__(self, other) -> "bool":
        other = device(other) if isinstance(other, str) else other
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return f"device(type={self.type!r}" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self) -> str:
        return self.type + ("" if self.index is None else f":{self.index}")


CPU = device("cpu")

# torch.cuda's questions, answered for a CPU-only engine, so `device("cuda" if cuda.is_available() else "cpu")` ports.
cuda = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)


def check_device(where: str, where_to) -> None:
    """Refuse any device but the CPU."""
    if where_to is not None and device(where_to).type != "cpu":
        raise RuntimeError(f"{where}: nodegrad runs on the CPU only, got device {str(where_to)!r}")


def to_dtype(tensor, args: tuple, dtype, where_to):
    """The dtype that `tensor.to(*args, dtype=, device=)` asks for (its own when none is given)."""
    for a in args:
        if isinstance(a, (str, device)):
            where_to = a
        elif hasattr(a, "_value"):
            dtype = a.dtype
        else:
            dtype = a
    check_device("to", where_to)
    return tensor.dtype if dtype is None else np.dtype(dtype)
