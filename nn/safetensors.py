"""The safetensors format in numpy: save_file() and load_file() a flat {name: array} dict, the way PyTorch,
JAX and the Hugging Face Hub exchange weights, without the `safetensors` package.

A file is three parts (https://huggingface.co/docs/safetensors):

    8 bytes      N, the header's length, a little-endian uint64
    N bytes      JSON: {name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
                 "__metadata__": {str: str}} (optional), padded with spaces
    the data     each tensor's bytes, C order, little-endian, at [begin, end) counted from the data's start

save_file() pads the header to a multiple of 8 bytes and lays the tensors out by decreasing item size, so
every tensor starts at a multiple of its item size (what a reader that maps the file needs). It writes
through `nn.checkpoint.write_atomically`: a crash leaves the old file or the new one.

load_file() trusts nothing in the file: the header must fit in the file, parse as the format says, and
give every tensor a known dtype and offsets covering exactly the bytes of its shape; the tensors must tile
the data from its start to the end of the file, without gaps or overlaps. Anything else is a ValueError
naming the file and the fault, raised before a tensor is allocated.
"""

import json
import math
import os
from collections import Counter
from collections.abc import Mapping
from typing import BinaryIO

import numpy as np

from autograd import TensorNode
from nn.checkpoint import json_depth, write_atomically

METADATA = "__metadata__"
# The largest header the reference implementation accepts; a bigger one is damage or a crafted file.
MAX_HEADER = 100_000_000
# The deepest a valid header nests: {name: {"shape": [...]}}. json.loads recurses once per level.
MAX_HEADER_DEPTH = 3
ALIGNMENT = 8

DTYPES = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "C64": np.dtype("<c8"),
}
_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in DTYPES.items()}
# Codes of the format that numpy has no dtype for: named in the error, with the way around it.
_WITHOUT_NUMPY = ("BF16", "F8_E4M3", "F8_E4M3FNUZ", "F8_E5M2", "F8_E5M2FNUZ", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4")
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


class _NoNumpyDtype(ValueError):
    """A valid file holding a dtype that numpy cannot represent."""


def _dtype_code(name: str, array: np.ndarray) -> str:
    code = _CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        supported = ", ".join(str(d.newbyteorder("=")) for d in DTYPES.values())
        raise TypeError(f"save: {name!r} has dtype {array.dtype}; safetensors holds {supported}")
    return code


def _checked_arrays(tensors) -> dict:
    """{name: array} of a flat mapping of names to arrays, or a clear refusal."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"save: safetensors holds a flat dict of name -> array, got {type(tensors).__name__} "
            "(save checkpoints with optimizer or solver state as .npz)"
        )
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save: names must be str, got {type(name).__name__} {name!r}")
        if name == METADATA:
            raise ValueError(f"save: the name {METADATA!r} is reserved for metadata; pass metadata= instead")
        if isinstance(value, TensorNode):
            value = value.value
        if not isinstance(value, (np.ndarray, np.generic)):
            raise TypeError(
                f"save: safetensors holds a flat dict of name -> array, got {type(value).__name__} at {name!r} "
                "(save nested state such as a Solver checkpoint as .npz: nn.save(state, 'checkpoint.npz'))"
            )
        arrays[name] = np.asarray(value)
    return arrays


def _checked_metadata(metadata) -> dict | None:
    if metadata is None:
        return None
    text_only = isinstance(metadata, Mapping) and all(isinstance(x, str) for pair in metadata.items() for x in pair)
    if not text_only:
        raise TypeError(f"save: metadata must map str to str, got {metadata!r:.80}")
    return dict(metadata)


def _header_bytes(arrays: dict, metadata: dict | None) -> tuple[bytes, list]:
    """The 8-byte length and padded JSON header for `arrays`, and the arrays in the order of their data."""
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)  # stable: same sizes keep their order
    entries, offset = {}, 0
    for name in order:
        array = arrays[name]
        end = offset + array.nbytes
        entries[name] = {"dtype": _dtype_code(name, array), "shape": list(array.shape), "data_offsets": [offset, end]}
        offset = end
    header = {name: entries[name] for name in arrays}  # the header keeps the caller's order
    if metadata is not None:
        header = {METADATA: metadata, **header}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % ALIGNMENT)
    return len(text).to_bytes(8, "little") + text, [arrays[name] for name in order]


def save_file(tensors: Mapping, path: str | os.PathLike, metadata: Mapping | None = None) -> None:
    """Write a flat {name: array} dict as a .safetensors file, atomically (what `nn.save` does for that suffix).

    Args:
        tensors: name -> ndarray (or TensorNode), e.g. `model.state_dict()`.
        path: the file to write.
        metadata: optional str -> str pairs stored in the header (`"__metadata__"`).

    Raises:
        TypeError: `tensors` is not a flat dict of arrays (nested state belongs in an .npz checkpoint), a
            name is not a str, an array's dtype has no safetensors code, or metadata is not str -> str.
        ValueError: a tensor is named `"__metadata__"`.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_file({"w": np.eye(2, dtype=np.float32)}, os.path.join(folder, "m.safetensors"))
    ...     load_file(os.path.join(folder, "m.safetensors"))
    {'w': array([[1., 0.],
           [0., 1.]], dtype=float32)}
    """
    arrays = _checked_arrays(tensors)
    head, ordered = _header_bytes(arrays, _checked_metadata(metadata))

    def write(file: BinaryIO) -> None:
        file.write(head)
        for array in ordered:
            little = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)
            file.write(little.reshape(-1).view(np.uint8))

    write_atomically(path, write)


def _unique_keys(pairs: list) -> dict:
    # json keeps the last of repeated keys silently; a repeated tensor name is damage, or a crafted file.
    result = dict(pairs)
    if len(result) != len(pairs):
        twice = sorted(name for name, count in Counter(name for name, _ in pairs).items() if count > 1)
        raise ValueError(f"the header names {twice} more than once")
    return result


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_entry(name: str, entry) -> tuple:
    """(numpy dtype, shape, begin, end) of one tensor's header entry, checked."""
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        raise ValueError(f"the entry of {name!r} must have exactly the keys {sorted(_ENTRY_KEYS)}, got {entry!r:.80}")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if code in _WITHOUT_NUMPY:
        raise _NoNumpyDtype(
            f"the tensor {name!r} is {code}, which numpy has no dtype for; "
            "convert it before saving (in PyTorch: {k: v.float() for k, v in state.items()})"
        )
    if not isinstance(code, str) or code not in DTYPES:
        raise ValueError(f"the tensor {name!r} has the unknown dtype {code!r}; expected one of {sorted(DTYPES)}")
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise ValueError(f"the shape of {name!r} must be a list of non-negative ints, got {shape!r:.80}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_count(n) for n in offsets)):
        raise ValueError(
            f"the data_offsets of {name!r} must be [begin, end], two non-negative ints, got {offsets!r:.80}"
        )
    begin, end = offsets
    dtype = DTYPES[code]
    needed = math.prod(shape) * dtype.itemsize
    if end - begin != needed:
        raise ValueError(
            f"the tensor {name!r} of shape {tuple(shape)} and dtype {code} needs {needed} bytes, "
            f"but its data_offsets [{begin}, {end}] hold {end - begin}"
        )
    return dtype, tuple(shape), begin, end


def _parse_header(text: bytes, data_size: int) -> tuple[dict, dict]:
    """({name: (dtype, shape, begin, end)} in the header's order, metadata) of a header checked against the data."""
    if not text.startswith(b"{"):
        raise ValueError(f"the header must be a JSON object starting with '{{', got {text[:20]!r}")
    depth = json_depth(text)
    if depth > MAX_HEADER_DEPTH:
        raise ValueError(f"the header nests {depth} levels deep; a safetensors header nests {MAX_HEADER_DEPTH}")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as error:
        raise ValueError(f"the header is not UTF-8: {error}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"the header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise ValueError(f"the header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop(METADATA, None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"the {METADATA} must map str to str, got {metadata!r:.80}")
    entries = {name: _check_entry(name, entry) for name, entry in header.items()}
    # The tensors must tile the data exactly: no byte read twice (overlaps), none unaccounted for (gaps
    # that could hide another file's contents), and nothing read past the end.
    position = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if end > data_size:
            raise ValueError(
                f"the data_offsets [{begin}, {end}] of {name!r} reach past the end of the data ({data_size} bytes)"
            )
        if begin != position:
            where = "overlap the tensor before it" if begin < position else f"leave bytes {position}..{begin} unused"
            raise ValueError(f"the data_offsets [{begin}, {end}] of {name!r} {where}")
        position = end
    if position != data_size:
        raise ValueError(f"the tensors take {position} bytes of data, but the file holds {data_size} after the header")
    return entries, metadata


def _read_header(file, file_size: int) -> tuple[dict, dict, int]:
    """(entries, metadata, data start) of the file open at its start."""
    if file_size < 8:
        raise ValueError(f"the file is {file_size} bytes long, shorter than the 8-byte header length")
    size = int.from_bytes(file.read(8), "little")
    if size > min(MAX_HEADER, file_size - 8):
        raise ValueError(
            f"the header length {size} exceeds the {file_size - 8} bytes after it (or the limit of {MAX_HEADER})"
        )
    text = file.read(size)
    entries, metadata = _parse_header(text, file_size - 8 - size)
    return entries, metadata, 8 + size


def _read_tensor(file, dtype: np.dtype, shape: tuple, start: int) -> np.ndarray:
    array = np.empty(shape, dtype)
    file.seek(start)
    if file.readinto(array.reshape(-1).view(np.uint8)) != array.nbytes:
        raise ValueError("the file ended before its data did (was it truncated while being read?)")
    # Little-endian in the file; a big-endian machine works in its own byte order.
    return array.astype(dtype.newbyteorder("="), copy=False)


def _open(path, read):
    """`read(file, file size)` on the file at `path`, with damage reported as a ValueError naming the file."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        try:
            return read(file, os.fstat(file.fileno()).st_size)
        except _NoNumpyDtype as error:
            raise ValueError(f"load: {path} cannot be read into numpy: {error}") from error
        except ValueError as error:
            raise ValueError(f"load: {path} is not a valid safetensors file: {error}") from error


def load_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a .safetensors file into {name: ndarray}, in the header's order (what `nn.load` does for the suffix).

    Raises:
        ValueError: `load: <path> is not a valid safetensors file: <why>` for truncated, corrupt or crafted
            files (a header length past the end, a header that is not JSON, offsets out of range,
            overlapping or leaving gaps, a size that does not match shape and dtype, an unknown dtype), and
            for dtypes numpy cannot hold (BF16, float8).
        FileNotFoundError: there is no file at `path`.
    """

    def read(file, file_size):
        entries, _, start = _read_header(file, file_size)
        return {
            name: _read_tensor(file, dtype, shape, start + begin) for name, (dtype, shape, begin, _) in entries.items()
        }

    return _open(path, read)


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The `"__metadata__"` str -> str pairs of a .safetensors file ({} when it has none), reading no tensor.

    Raises:
        ValueError: the file is not a valid safetensors file (as in `load_file`).
    """
    return _open(path, lambda file, file_size: _read_header(file, file_size)[1])
