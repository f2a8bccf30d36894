"""Checkpoints: save() and load() nested dicts of arrays, numbers and strings as one .npz, without pickle.

Every ndarray (and numpy scalar) becomes one .npy member named by its flattened key path
(`model/fc.weight`); the nesting and the plain Python values (None, bool, int, float, str, lists,
tuples, dicts with str or int keys) are kept as JSON in the member `__nodegrad__`, a uint8 array.
Loading needs no pickle (allow_pickle=False) and restores every value exactly, dtypes included.

save() writes a temporary file in the destination's folder, fsyncs it and renames it over the
destination, so a crash leaves either the old checkpoint or the new one, never half of one.
"""

import contextlib
import json
import os
import re
import tempfile
import zipfile

import numpy as np

META = "__nodegrad__"
FORMAT = "nodegrad-checkpoint"
VERSION = 1
MAX_DEPTH = 1000
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
            raise ValueError(f"save: {path!r} is nested deeper than {MAX_DEPTH} levels (does it contain itself?)")
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


def save(obj, path: str | os.PathLike) -> None:
    """Write `obj` (a nested dict of arrays, numbers, strings and lists) to the .npz file `path`, atomically.

    Raises:
        TypeError: a value or key of a type that cannot be stored without pickle.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save({"model": {"w": np.arange(3.0)}, "epoch": 2}, os.path.join(folder, "ckpt.npz"))
    ...     load(os.path.join(folder, "ckpt.npz"))
    {'model': {'w': array([0., 1., 2.])}, 'epoch': 2}
    """
    path = os.fspath(path)
    arrays = {}
    tree = _encode(obj, arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}).encode("utf-8")
    members = {META: np.frombuffer(meta, dtype=np.uint8), **arrays}
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for name, array in members.items():
                    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


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


def load(path: str | os.PathLike):
    """Read a checkpoint written by save(), exactly as it was saved (no pickle involved).

    Raises:
        ValueError: `load: <path> is not a valid nodegrad checkpoint: <why>` for truncated or corrupt files.
        FileNotFoundError: there is no file at `path`.
    """
    path = os.fspath(path)

    def invalid(why) -> ValueError:
        return ValueError(f"load: {path} is not a valid nodegrad checkpoint: {str(why) or type(why).__name__}")

    # What a damaged zip can raise; the OSErrors of a missing or unreadable file pass through unchanged.
    damage = (ValueError, EOFError, KeyError, TypeError, OSError, NotImplementedError, zipfile.BadZipFile)
    try:
        contents = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except damage as error:
        raise invalid(error) from error
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise invalid(f"it holds a single array of shape {contents.shape}, not an archive")
    with contents:
        try:
            if META not in contents.files:
                raise ValueError(f"the metadata member {META!r} is missing")
            meta = json.loads(contents[META].tobytes().decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(f"the metadata does not name the format {FORMAT!r}")
            if meta.get("version") != VERSION:
                raise ValueError(f"version {VERSION} expected, got {meta.get('version')!r}")
            arrays = {name: contents[name] for name in contents.files if name != META}
            return _decode(meta.get("tree"), arrays)
        except damage as error:
            raise invalid(error) from error
