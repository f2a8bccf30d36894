"""nn.save and nn.load: the file's suffix picks the format.

| suffix               | module           | holds                                                             |
| -------------------- | ---------------- | ----------------------------------------------------------------- |
| `.safetensors`       | `nn.safetensors` | a flat {name: array} dict, e.g. a state dict, read by PyTorch too |
| anything else (.npz) | `nn.checkpoint`  | nested dicts and lists of arrays, numbers and strings: a whole run |

Both write atomically and refuse damaged or crafted files with a ValueError naming the file.
"""

import os

from nn import checkpoint, safetensors

SAFETENSORS_SUFFIX = ".safetensors"


def _is_safetensors(path) -> bool:
    return os.fsdecode(path).lower().endswith(SAFETENSORS_SUFFIX)


def save(obj, path: str | os.PathLike) -> None:
    """Write `obj` to `path` atomically: safetensors for a `.safetensors` path, else an .npz checkpoint.

    Args:
        obj: for `.safetensors`, a flat {name: array} dict such as `model.state_dict()`; otherwise any nesting
            of dicts, lists and tuples of arrays, numbers, strings and None (see `nn.checkpoint.save`).
        path: the file to write; its suffix picks the format.

    Raises:
        TypeError: a value the format cannot hold (for safetensors: anything but a flat dict of arrays).

    >>> import tempfile, os
    >>> import nn
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     net = nn.Linear(3, 2)
    ...     save(net.state_dict(), os.path.join(folder, "net.safetensors"))
    ...     net.load_state_dict(load(os.path.join(folder, "net.safetensors")))
    IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    if _is_safetensors(path):
        safetensors.save_file(obj, path)
    else:
        checkpoint.save(obj, path)


def load(path: str | os.PathLike):
    """Read what `save` wrote: {name: ndarray} from a `.safetensors` file, else the .npz checkpoint's object.

    Raises:
        ValueError: `load: <path> is not a valid ...: <why>` for a truncated, corrupt or crafted file.
        FileNotFoundError: there is no file at `path`.
    """
    return safetensors.load_file(path) if _is_safetensors(path) else checkpoint.load(path)
