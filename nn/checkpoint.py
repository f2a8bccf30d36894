"""Checkpoints: save() and load() nested dicts of arrays, numbers and strings as one .npz, without pickle.

Every ndarray (and numpy scalar) becomes one .npy member named by its flattened key path
(`model/fc.weight`); the nesting and the plain Python values (None, bool, int, float, str, lists,
tuples, dicts with str or int keys) are kept as JSON in the member `__nodegrad__`, a uint8 array.
Loading needs no pickle (allow_pickle=False) and restores every value exactly, dtypes included.

save() writes through write_atomically(), which the safetensors writer shares: a temporary file in the
destination's folder, fsynced and renamed over the destination, so a crash leaves either the old file or
the new one, never half of one. `nn.save` and `nn.load` come here for every suffix but `.safetensors`.

load() reads only what save() writes and trusts nothing in the file: the members must be stored
(uncompressed) and fit in the file, each array's header must describe exactly the bytes its member
holds, and the metadata's nesting is measured before the (recursive) JSON parser sees it. So a damaged
or crafted file is refused with a ValueError before anything large is allocated.
"""

import contextlib
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

META = "__nodegrad__"
FORMAT = "nodegrad-checkpoint"
VERSION = 1
# How deep save() nests: far beyond what a training run stores (a Solver checkpoint is 5 levels deep), and
# shallow enough that the JSON of the deepest checkpoint stays well within the json module's recursion.
MAX_DEPTH = 100
# Each level of a checkpoint is at most three of JSON ({"dict": [[key, value]]}), plus the metadata's own
# dict around the tree and the two levels of an empty container at the bottom.
MAX_JSON_DEPTH = 3 * MAX_DEPTH + 3
_PLAIN = (type(None), bool, int, float, str)


def _member_name(path: str, taken: dict) -> str:
    """A zip-safe, unique member name for the array at `path`."""
    segments = [re.sub(r"[^A-Za-z0-9_.\-]", "_", s) for s in path.split("/")] if path else ["_"]
    base = "/".join("_" if s in ("", ".", "..") else s for s in segments)
    name, n = base, 1
    while name in taken or name == META:
        name, n = f"{base}~{n}", n + 1
    return name


def _child(path: str, key) -> str:
    return f"{path}/{key}" if path else str(key)


def _encode(obj, arrays: dict):
    """The JSON tree of `obj`; its arrays go into `arrays` under their member names."""
    root = [None]
    stack = [(obj, "", root, 0, 0)]
    while stack:
        value, path, parent, slot, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(
                f"save: {path!r} is nested deeper than the limit of {MAX_DEPTH} levels (does it contain itself?)"
            )
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"save: dict keys must be str or int, got {type(key).__name__} {key!r} in {path!r}")
                items.append([key, None])
                stack.append((item, _child(path, key), items[-1], 1, depth + 1))
            node = {"dict": items}
        elif isinstance(value, (list, tuple)):
            items = [None] * len(value)
            for i, item in enumerate(value):
                stack.append((item, _child(path, i), items, i, depth + 1))
            node = {"list" if isinstance(value, list) else "tuple": items}
        elif isinstance(value, (np.ndarray, np.generic)):
            array = np.asarray(value)
            if array.dtype.hasobject:
                raise TypeError(f"save: object arrays would need pickle, got dtype {array.dtype} at {path!r}")
            name = _member_name(path, arrays)
            arrays[name] = array
            node = {"array" if isinstance(value, np.ndarray) else "scalar": name}
        elif type(value) in _PLAIN:
            node = value
        else:
            raise TypeError(
                f"save: values must be ndarrays, numpy scalars, None, bool, int, float, str, lists, tuples or dicts, "
                f"got {type(value).__name__} at {path!r}"
            )
        parent[slot] = node
    return root[0]


def _fsync_folder(folder: str) -> None:
    # The rename is durable only once the folder's entry reaches the disk (POSIX; Windows cannot open folders).
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Let `write` fill a temporary file in `path`'s folder, fsync it and rename it over `path`.

    A crash or an exception (raised by `write` or by the disk) leaves either the old file or the new one,
    never half of one, and no temporary file behind. Every format nodegrad writes goes through here.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def save(obj, path: str | os.PathLike) -> None:
    """Write `obj` (a nested dict of arrays, numbers, strings and lists) to the .npz file `path`, atomically.

    Raises:
        TypeError: a value or key of a type that cannot be stored without pickle.
        ValueError: `obj` nests deeper than MAX_DEPTH levels (the message names the key path).

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save({"model": {"w": np.arange(3.0)}, "epoch": 2}, os.path.join(folder, "ckpt.npz"))
    ...     load(os.path.join(folder, "ckpt.npz"))
    {'model': {'w': array([0., 1., 2.])}, 'epoch': 2}
    """
    arrays = {}
    tree = _encode(obj, arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}).encode("utf-8")
    members = {META: np.frombuffer(meta, dtype=np.uint8), **arrays}

    def write(file: BinaryIO) -> None:
        with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in members.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)

    write_atomically(path, write)


def _pairs(body) -> list:
    if not all(isinstance(p, list) and len(p) == 2 and type(p[0]) in (str, int) for p in body):
        raise ValueError("a dict entry is not a [key, value] pair")
    return body


_LEAVES = {"array": lambda array: array, "scalar": lambda array: array[()]}
# tag -> (empty container, its (key, child) pairs, what turns the filled container into the value)
_CONTAINERS = {
    "dict": (lambda body: {}, _pairs, None),
    "list": (lambda body: [None] * len(body), enumerate, None),
    "tuple": (lambda body: [None] * len(body), enumerate, tuple),
}


def _decode(tree, arrays: dict):
    root = [None]
    used = set()
    stack = [(tree, root, 0, None)]
    while stack:
        node, parent, slot, finish = stack.pop()
        if finish is not None:  # every child of this container is filled in
            parent[slot] = finish(parent[slot])
            continue
        if type(node) in _PLAIN:
            parent[slot] = node
            continue
        if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in {*_LEAVES, *_CONTAINERS}:
            raise ValueError(f"unknown entry {str(node)[:60]}")
        tag, body = next(iter(node.items()))
        if tag in _LEAVES:
            if body not in arrays:
                raise ValueError(f"the array {body!r} is missing")
            # save() writes every array to a member of its own. Two keys sharing one array would make an
            # in-place update of one (an optimizer's buffers, a BatchNorm's statistics) silently change the
            # other, and a copy would hide that the file is not what save() wrote: refuse it.
            if body in used:
                raise ValueError(f"the array {body!r} is referenced twice by the metadata")
            used.add(body)
            parent[slot] = _LEAVES[tag](arrays[body])
            continue
        if not isinstance(body, list):
            raise ValueError(f"a {tag} entry must hold a list, got {type(body).__name__}")
        make, children, finish = _CONTAINERS[tag]
        container = parent[slot] = make(body)
        if finish is not None:
            stack.append((None, parent, slot, finish))
        for key, child in children(body):
            container[key] = None  # dicts keep the saved key order
            stack.append((child, container, key, None))
    unused = sorted(set(arrays) - used)
    if unused:
        raise ValueError(f"arrays {unused} are not referenced by the metadata")
    return root[0]


# What reads the header of each .npy format version. Version 3.0 differs from 2.0 only in allowing utf-8
# field names, which the size check does not need (it reads the shape and the item size).
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
    (3, 0): np.lib.format.read_array_header_2_0,
}


def _array_header(file) -> tuple[tuple, np.dtype, int]:
    """(shape, dtype, header length) of the .npy array starting at `file`'s position, reading no data."""
    version = np.lib.format.read_magic(file)
    if version not in _HEADER_READERS:
        raise ValueError(f".npy format version {version} is unknown")
    shape, _, dtype = _HEADER_READERS[version](file)
    return shape, dtype, file.tell()


def _check_members(archive: zipfile.ZipFile, file_size: int) -> dict:
    """{name: member} after checking, without reading any data, that every array fits in the file.

    numpy allocates the array its header describes before reading the data, so a header claiming a huge
    shape would ask for terabytes: every header must describe exactly the bytes its member holds, and the
    members (stored, as save() writes them) must fit in the file together, without overlapping.
    """
    members = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise ValueError(f"the member {info.filename!r} is not an .npy array")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise ValueError(f"the member {info.filename!r} is compressed; save() stores members uncompressed")
        name = info.filename[: -len(".npy")]
        if name in members:
            raise ValueError(f"the member {info.filename!r} appears twice")
        members[name] = info
    claimed = sum(info.file_size for info in members.values())
    if claimed > file_size:
        raise ValueError(f"its members claim {claimed} bytes, more than the file's {file_size}")
    for name, info in members.items():
        with archive.open(info) as member:
            shape, dtype, header = _array_header(member)
        if dtype.hasobject:
            raise ValueError(f"the array {name!r} holds objects, which cannot be loaded with allow_pickle=False")
        data = math.prod(shape) * dtype.itemsize
        if any(n < 0 for n in shape) or header + data != info.file_size:
            raise ValueError(
                f"the array {name!r} claims shape {shape} of {dtype} ({data} bytes), "
                f"but its member holds {info.file_size - header} bytes of data"
            )
    return members


def json_depth(text: bytes) -> int:
    """How deep the brackets of the JSON `text` nest, measured without recursion."""
    outside_strings = re.sub(rb'"(?:[^"\\]+|\\.)*"', b"", text)
    chars = np.frombuffer(outside_strings, np.uint8)
    steps = np.isin(chars, list(b"[{")).astype(np.int64) - np.isin(chars, list(b"]}"))
    return int(np.cumsum(steps).max(initial=0))


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _read(archive: zipfile.ZipFile, file_size: int):
    members = _check_members(archive, file_size)
    if META not in members:
        raise ValueError(f"the metadata member {META!r} is missing")
    text = _read_array(archive, members.pop(META)).tobytes()
    # json.loads recurses once per level and would end in a RecursionError on deep (crafted) metadata.
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"the metadata nests {depth} levels deep, deeper than the limit of {MAX_JSON_DEPTH} "
            f"that a checkpoint of at most {MAX_DEPTH} levels needs"
        )
    meta = json.loads(text.decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"the metadata does not name the format {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise ValueError(f"version {VERSION} expected, got {meta.get('version')!r}")
    return _decode(meta.get("tree"), {name: _read_array(archive, info) for name, info in members.items()})


def load(path: str | os.PathLike):
    """Read a checkpoint written by save(), exactly as it was saved (no pickle involved).

    Raises:
        ValueError: `load: <path> is not a valid nodegrad checkpoint: <why>` for truncated, corrupt or
            crafted files (an array header claiming more data than the file holds, metadata nested too deep).
        FileNotFoundError: there is no file at `path`.
    """
    path = os.fspath(path)
    # What a damaged zip can raise; the OSErrors of a missing or unreadable file pass through unchanged.
    damage = (ValueError, EOFError, KeyError, TypeError, OSError, NotImplementedError, zipfile.BadZipFile)
    try:
        with open(path, "rb") as file:
            file_size = os.fstat(file.fileno()).st_size
            if file.read(len(np.lib.format.MAGIC_PREFIX)) == np.lib.format.MAGIC_PREFIX:
                file.seek(0)
                shape, _, _ = _array_header(file)
                raise ValueError(f"it holds a single array of shape {shape}, not an archive")
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                return _read(archive, file_size)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except damage as error:
        why = str(error) or type(error).__name__
        raise ValueError(f"load: {path} is not a valid nodegrad checkpoint: {why}") from error
