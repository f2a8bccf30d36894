"""nn.save / nn.load: exact round trips without pickle, atomic writes, and clear errors on damaged files."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

import autograd as ag
import nn
from nn import checkpoint


def _assert_identical(a, b, where="root"):
    """Equal values of equal types all the way down; arrays equal bit for bit with equal dtypes."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_identical(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_identical(x, y, f"{where}/{i}")
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), where
    elif isinstance(a, float):
        assert a.hex() == b.hex() if a == a else b != b, where
    else:
        assert a == b, where


def _everything():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3, dtype=np.float64))
    model(np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32))
    return {
        "model": model.state_dict(),
        "optimizer": {
            "state": {0: {"momentum": np.linspace(0, 1, 5), "step": 12}, 1: {}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False}],
        },
        "solver": {
            "epoch": 3,
            "best_val_acc": 0.8125,
            "history": [1.5, 0.75, float("nan"), -0.0, float("inf")],
            "name": "solver ✓ ü",
            "note": None,
            "big": 2**80,
        },
        "arrays": [
            np.zeros((0, 3), np.float16),
            np.array(7, np.uint8),
            np.asfortranarray(np.eye(3, 2)),
            np.array([True, False]),
            np.array(["a", "bc"]),
            np.arange(6, dtype=np.int8).reshape(2, 3)[:, ::2],
        ],
        "scalars": (np.float32(1.25), np.int64(-3), np.bool_(True)),
        "nested": {"": {"a/b": np.ones(1), "..": np.ones(2)}, "a": {"b": np.zeros(1)}, 3: [[], {}, ()]},
    }


def test_round_trip_is_exact(tmp_path):
    obj = _everything()
    path = tmp_path / "ckpt.npz"
    assert nn.save(obj, path) is None
    _assert_identical(obj, nn.load(path))
    assert nn.load(str(path))["model"]["1.num_batches_tracked"].dtype == np.int64


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"model": {"fc.weight": np.ones((2, 2))}, "step": 1}, path)
    with np.load(path, allow_pickle=False) as contents:
        assert sorted(contents.files) == ["__nodegrad__", "model/fc.weight"]
        assert contents["__nodegrad__"].dtype == np.uint8
        meta = json.loads(contents["__nodegrad__"].tobytes())
    assert meta["format"] == "nodegrad-checkpoint" and meta["version"] == 1


def test_model_state_survives_a_checkpoint(tmp_path):
    source = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    source(np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32))
    nn.save({"model": source.state_dict()}, tmp_path / "m.npz")
    target = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    target.load_state_dict(nn.load(tmp_path / "m.npz")["model"])
    x = np.random.default_rng(1).normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_array_equal(source.eval()(x).value, target.eval()(x).value)


@pytest.mark.parametrize(
    "obj, error, message",
    [
        ({"f": lambda: 0}, TypeError, "save: values must be ndarrays.*got function at 'f'"),
        ({"a": {"set": {1, 2}}}, TypeError, "got set at 'a/set'"),
        ({1.5: 0}, TypeError, "save: dict keys must be str or int, got float"),
        ({True: 0}, TypeError, "save: dict keys must be str or int, got bool"),
        ({"o": np.array([object()])}, TypeError, "save: object arrays would need pickle"),
        ({"t": ag.tensor([1.0])}, TypeError, "got TensorNode at 't'"),
    ],
)
def test_save_rejects_what_needs_pickle(tmp_path, obj, error, message):
    with pytest.raises(error, match=message):
        nn.save(obj, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_self_containing_objects(tmp_path):
    loop = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match=f"nested deeper than the limit of {checkpoint.MAX_DEPTH} levels"):
        nn.save(loop, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def _nested(depth: int, container) -> object:
    """`depth` containers around an empty one, so the deepest value sits at `depth`."""
    obj = container()
    for _ in range(depth):
        obj = {"k": obj} if container is dict else [obj]
    return obj


@pytest.mark.parametrize("container", [dict, list])
def test_the_deepest_checkpoint_round_trips_and_one_level_more_is_refused(tmp_path, container):
    deepest = _nested(checkpoint.MAX_DEPTH, container)
    nn.save(deepest, tmp_path / "deep.npz")
    assert nn.load(tmp_path / "deep.npz") == deepest
    limit = checkpoint.MAX_DEPTH
    path = "/".join(("k" if container is dict else "0") for _ in range(limit + 1))
    with pytest.raises(ValueError, match=rf"^save: '{path}' is nested deeper than the limit of {limit} levels"):
        nn.save(_nested(checkpoint.MAX_DEPTH + 1, container), tmp_path / "deeper.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["deep.npz"]


def _raw_meta(text: bytes) -> np.ndarray:
    return np.frombuffer(b'{"format": "nodegrad-checkpoint", "version": 1, "tree": ' + text + b"}", np.uint8)


def test_metadata_nested_too_deep_for_the_json_parser_is_refused(tmp_path):
    path = tmp_path / "deep.npz"
    levels = 100_000  # json.loads would recurse this deep
    _write_zip(path, {"__nodegrad__": _raw_meta(b'{"list": [' * levels + b"1" + b"]}" * levels)})
    why = rf"the metadata nests {2 * levels + 1} levels deep, deeper than the limit of {checkpoint.MAX_JSON_DEPTH} "
    with pytest.raises(ValueError, match=rf"^load: {path} is not a valid nodegrad checkpoint: {why}"):
        nn.load(path)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    obj = {"[": "[{" * 5000, "quoted": '\\"[' * 2000 + "\\", '"{': ["]", "}"]}
    nn.save(obj, tmp_path / "strings.npz")
    assert nn.load(tmp_path / "strings.npz") == obj


def _good_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    nn.save({"model": {"w": np.arange(4.0)}, "epoch": 1}, path)
    return path, path.read_bytes()


def test_a_failure_midway_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path, before = _good_checkpoint(tmp_path)
    write_array = np.lib.format.write_array
    calls = []

    def crash_on_second_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash_on_second_array)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"model": {"w": np.zeros(4), "b": np.zeros(2)}, "epoch": 2}, path)
    assert len(calls) == 2  # the new file was half written when the failure came
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]
    monkeypatch.undo()
    assert nn.load(path)["epoch"] == 1


def test_a_failure_at_the_rename_or_an_interrupt_leaves_no_temp_file(tmp_path, monkeypatch):
    path, before = _good_checkpoint(tmp_path)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nn.save({"epoch": 2}, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


@pytest.mark.parametrize("name", ["c.npz", "c.safetensors"])  # both formats go through one atomic writer
def test_writes_are_flushed_and_fsynced_before_the_rename(tmp_path, monkeypatch, name):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(checkpoint.os, "fsync", lambda fd: events.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(checkpoint.os, "replace", lambda a, b: events.append("replace") or real_replace(a, b))
    nn.save({"x": np.ones(2)}, tmp_path / name)
    assert events[:2] == ["fsync", "replace"]


def test_overwriting_replaces_the_old_checkpoint(tmp_path):
    path, _ = _good_checkpoint(tmp_path)
    nn.save({"epoch": 2}, path)
    assert nn.load(path) == {"epoch": 2} and [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_truncated_files_are_reported_clearly(tmp_path):
    path, data = _good_checkpoint(tmp_path)
    for cut in range(0, len(data), max(1, len(data) // 60)):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"^load: {path} is not a valid nodegrad checkpoint: "):
            nn.load(path)


def test_flipped_bits_are_detected_or_harmless(tmp_path):
    path, data = _good_checkpoint(tmp_path)
    expected = nn.load(path)
    rng = np.random.default_rng(0)
    detected = 0
    for _ in range(300):
        damaged = bytearray(data)
        damaged[rng.integers(len(data))] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(damaged))
        try:
            loaded = nn.load(path)
        except ValueError as error:
            assert "is not a valid nodegrad checkpoint" in str(error)
            detected += 1
            continue
        _assert_identical(expected, loaded)  # the flip hit a field nobody reads (a timestamp, say)
    assert detected > 200


def _write_zip(path, members: dict):
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in members.items():
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=True)


def _meta(tree, **overrides):
    fields = {"format": "nodegrad-checkpoint", "version": 1, "tree": tree, **overrides}
    return np.frombuffer(json.dumps(fields).encode(), np.uint8)


@pytest.mark.parametrize(
    "members, reason",
    [
        ({"w": np.ones(2)}, "the metadata member '__nodegrad__' is missing"),
        ({"__nodegrad__": np.frombuffer(b"{not json", np.uint8)}, "Expecting property name"),
        ({"__nodegrad__": _meta(1, format="other")}, "the metadata does not name the format"),
        ({"__nodegrad__": _meta(1, version=9)}, "version 1 expected, got 9"),
        ({"__nodegrad__": _meta({"array": "w"})}, "the array 'w' is missing"),
        ({"__nodegrad__": _meta({"mystery": 1})}, "unknown entry"),
        ({"__nodegrad__": _meta({"dict": [[1, 2, 3]]})}, r"a dict entry is not a \[key, value\] pair"),
        ({"__nodegrad__": _meta(1), "w": np.ones(1)}, r"arrays \['w'\] are not referenced"),
        ({"__nodegrad__": _meta({"array": "w"}), "w": np.array([{}])}, "allow_pickle=False"),
        (
            {"__nodegrad__": _meta({"dict": [["a", {"array": "w"}], ["b", {"array": "w"}]]}), "w": np.ones(2)},
            "the array 'w' is referenced twice",
        ),
        ({"__nodegrad__": _meta({"list": [{"array": "w"}, {"scalar": "w"}]}), "w": np.ones(())}, "referenced twice"),
    ],
)
def test_invalid_contents_are_reported_clearly(tmp_path, members, reason):
    path = tmp_path / "bad.npz"
    _write_zip(path, members)
    with pytest.raises(ValueError, match=rf"^load: {path} is not a valid nodegrad checkpoint: .*{reason}"):
        nn.load(path)


def test_other_files_are_reported_clearly(tmp_path):
    for name, content in [("empty.npz", b""), ("text.npz", b"hello world"), ("pickle.npz", b"\x80\x04K\x01.")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match="is not a valid nodegrad checkpoint"):
            nn.load(tmp_path / name)
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"it holds a single array of shape \(3,\), not an archive"):
        nn.load(tmp_path / "array.npy")
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    "claimed",
    ["(1000000000000000,)", "(100000000, 100000000)", "(5,)", "(-4, -1)"],
    ids=["8-petabytes", "2-d-80-petabytes", "one-too-many", "negative"],
)
def test_an_array_header_claiming_more_than_the_file_holds_is_refused_before_allocating(tmp_path, claimed):
    path, _ = _good_checkpoint(tmp_path)
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    # The shape grows into the header's padding, so the member keeps its length; the archive is then
    # written anew, with valid sizes and checksums, as a crafted file would be.
    old, new = b"'shape': (4,), }", f"'shape': {claimed}, }}".encode()
    header = members["model/w.npy"]
    at = header.index(old)
    assert header[at + len(old) : at + len(new)] == b" " * (len(new) - len(old))
    members["model/w.npy"] = header[:at] + new + header[at + len(new) :]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=rf"^load: {path} .*: the array 'model/w' claims shape \({claimed[1:-1]}\) of"):
        nn.load(path)


def test_compressed_members_are_refused(tmp_path):
    # A compressed member's sizes cannot be checked against the file without inflating it; save() never
    # writes one, and this one's header claims 8 petabytes.
    path = tmp_path / "deflated.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__nodegrad__.npy", _npy(_meta({"array": "w"})), compress_type=zipfile.ZIP_STORED)
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**15,)})
        archive.writestr("w.npy", header.getvalue() + bytes(32))
    with pytest.raises(ValueError, match=rf"^load: {path} .*: the member 'w.npy' is compressed"):
        nn.load(path)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()
