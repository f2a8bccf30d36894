"""nn.save / nn.load with a .safetensors path: exact round trips, files the `safetensors` package and PyTorch
read and write, atomic writes, and a clear ValueError naming the file for each kind of damage."""

import json
import re

import numpy as np
import pytest

import autograd as ag
import nn
from nn import checkpoint
from nn import safetensors as st_format

INSTALL = "needs the safetensors package as the oracle: pip install safetensors (or pip install nodegrad[interop])"

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.uint16]
DTYPES += [np.uint32, np.uint64, np.bool_, np.complex64]


def _state() -> dict:
    """One array of every dtype, plus the shapes that trip writers up: 0-d, empty, strided, Fortran order."""
    rng = np.random.default_rng(0)
    state = {np.dtype(d).name: (np.abs(rng.standard_normal((2, 3))) * 50).astype(d) for d in DTYPES}
    state["scalar"] = np.array(7, np.int64)
    state["empty"] = np.zeros((0, 3), np.float32)
    state["strided"] = np.arange(12, dtype=np.float64).reshape(3, 4)[:, ::2]
    state["fortran"] = np.asfortranarray(rng.standard_normal((3, 2)).astype(np.float32))
    state["big-endian"] = np.arange(4, dtype=">i4")
    return state


def _assert_same(expected: dict, loaded: dict) -> None:
    assert list(loaded) == list(expected)
    for name, array in expected.items():
        assert loaded[name].dtype == array.dtype.newbyteorder("="), name
        assert loaded[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded[name], array, err_msg=name)


def test_round_trip_keeps_values_dtypes_shapes_and_order(tmp_path):
    state = _state()
    path = tmp_path / "state.safetensors"
    assert nn.save(state, path) is None
    loaded = nn.load(path)
    _assert_same(state, loaded)
    assert all(a.flags.writeable and a.flags.c_contiguous for a in loaded.values())


def test_the_suffix_picks_the_format(tmp_path):
    state = {"w": np.ones((2, 2), np.float32)}
    nn.save(state, tmp_path / "a.SafeTensors")
    nn.save(state, tmp_path / "a.npz")
    assert (tmp_path / "a.SafeTensors").read_bytes()[8:9] == b"{"
    assert (tmp_path / "a.npz").read_bytes()[:2] == b"PK"
    _assert_same(state, nn.load(tmp_path / "a.SafeTensors"))
    _assert_same(state, nn.load(str(tmp_path / "a.npz")))


def test_layout_is_aligned_and_tiles_the_data(tmp_path):
    path = tmp_path / "state.safetensors"
    nn.save(_state(), path)
    data = path.read_bytes()
    size = int.from_bytes(data[:8], "little")
    assert size % 8 == 0
    header = json.loads(data[8 : 8 + size])
    spans = sorted(tuple(entry["data_offsets"]) for entry in header.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(data) - 8 - size
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    for name, entry in header.items():
        itemsize = st_format.DTYPES[entry["dtype"]].itemsize
        assert entry["data_offsets"][0] % itemsize == 0, name


def test_metadata_round_trips(tmp_path):
    path = tmp_path / "m.safetensors"
    st_format.save_file({"w": np.zeros(2)}, path, metadata={"format": "pt", "epoch": "3"})
    assert st_format.load_metadata(path) == {"format": "pt", "epoch": "3"}
    assert list(st_format.load_file(path)) == ["w"]
    nn.save({"w": np.zeros(2)}, path)
    assert st_format.load_metadata(path) == {}


def test_tensor_nodes_are_saved_by_value(tmp_path):
    net = nn.Linear(3, 2)
    nn.save(dict(net.named_parameters()), tmp_path / "p.safetensors")
    _assert_same(net.state_dict(), nn.load(tmp_path / "p.safetensors"))


@pytest.mark.parametrize(
    "state, error, message",
    [
        ({"model": {"w": np.ones(2)}}, TypeError, r"flat dict of name -> array, got dict at 'model' .*\.npz"),
        ({"w": [1.0, 2.0]}, TypeError, r"flat dict of name -> array, got list at 'w'"),
        ({"epoch": 3}, TypeError, r"got int at 'epoch'"),
        ([np.ones(2)], TypeError, r"flat dict of name -> array, got list \("),
        ({1: np.ones(2)}, TypeError, r"names must be str, got int 1"),
        ({"__metadata__": np.ones(2)}, ValueError, r"'__metadata__' is reserved"),
        ({"s": np.array(["a"])}, TypeError, r"'s' has dtype <U1; safetensors holds bool, uint8"),
        ({"t": np.zeros(2, np.complex128)}, TypeError, r"'t' has dtype complex128"),
    ],
    ids=["nested", "list-value", "int-value", "not-a-dict", "int-name", "reserved-name", "strings", "complex128"],
)
def test_what_safetensors_cannot_hold_is_refused(tmp_path, state, error, message):
    path = tmp_path / "x.safetensors"
    with pytest.raises(error, match=rf"^save: .*{message}"):
        nn.save(state, path)
    assert list(tmp_path.iterdir()) == []


def test_a_solver_checkpoint_is_pointed_to_npz(tmp_path):
    import optim

    X, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int64)
    solver = optim.Solver(nn.Linear(2, 2), dict(X_train=X, y_train=y, X_val=X, y_val=y), verbose=False)
    with pytest.raises(TypeError, match=r"save nested state such as a Solver checkpoint as \.npz"):
        solver.save(tmp_path / "run.safetensors")
    solver.save(tmp_path / "run.npz")


def test_metadata_must_map_str_to_str(tmp_path):
    with pytest.raises(TypeError, match=r"^save: metadata must map str to str, got \{'epoch': 3\}"):
        st_format.save_file({"w": np.ones(1)}, tmp_path / "m.safetensors", metadata={"epoch": 3})


# ----- atomic writes: the checkpoint module's writer -----
def test_a_failure_before_the_rename_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    events = []

    def full_disk(fd):
        events.append("fsync")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "fsync", full_disk)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"w": np.zeros(5)}, path)
    assert events == ["fsync"]
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


# ----- damaged and crafted files -----
def _file(header: dict, data: bytes = b"", pad: bytes = b"") -> bytes:
    text = json.dumps(header).encode() + pad
    return len(text).to_bytes(8, "little") + text + data


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)) -> dict:
    return {"dtype": dtype, "shape": shape, "data_offsets": offsets}  # json writes tuples as lists


def _raw(text: bytes, size: int | None = None) -> bytes:
    """A header of `text`, of the length it has unless `size` claims another."""
    return (len(text) if size is None else size).to_bytes(8, "little") + text


GOOD = _file({"w": _entry()}, bytes(8))
CASES = {
    "empty": (b"", r"the file is 0 bytes long, shorter than the 8-byte header length"),
    "five-bytes": (b"\x05\x00\x00\x00\x00", r"the file is 5 bytes long"),
    "header-length-past-the-end": (_raw(b"{}", size=10**6), r"the header length 1000000 exceeds the 2 bytes after it"),
    "header-length-8-exabytes": (_raw(b"{}", size=2**63), r"the header length 9223372036854775808 exceeds"),
    "not-json": (_raw(b"{not json"), r"the header is not JSON: Expecting property name"),
    "not-an-object": (_raw(b"[]"), r"the header must be a JSON object starting with '\{', got b'\[\]'"),
    "not-utf8": (_raw(b'{"\xff":1}'), r"the header is not UTF-8"),
    "nested-too-deep": (_raw(b"{" + b'"a":[' * 1333 + b"]" * 1333 + b"}"), r"nests 1334 levels deep"),
    "duplicate-name": (_raw(b'{"w": 1, "w": 2}'), r"the header names \['w'\] more than once"),
    "entry-not-a-dict": (_file({"w": [1, 2]}), r"the entry of 'w' must have exactly the keys"),
    "entry-missing-a-key": (_file({"w": {"dtype": "F32", "shape": [2]}}, bytes(8)), r"exactly the keys"),
    "entry-with-an-extra-key": (_file({"w": {**_entry(), "strides": [4]}}, bytes(8)), r"exactly the keys"),
    "unknown-dtype": (_file({"w": _entry("F99")}, bytes(8)), r"the tensor 'w' has the unknown dtype 'F99'"),
    "dtype-not-a-string": (_file({"w": _entry(["F32"])}, bytes(8)), r"the tensor 'w' has the unknown dtype \['F32'\]"),
    "metadata-not-a-dict": (_file({"__metadata__": [], "w": _entry()}, bytes(8)), r"the __metadata__ must map str"),
    "shape-not-a-list": (_file({"w": _entry(shape=2)}, bytes(8)), r"the shape of 'w' must be a list"),
    "negative-shape": (_file({"w": _entry(shape=(-2,))}, bytes(8)), r"non-negative ints, got \[-2\]"),
    "bool-in-shape": (_file({"w": _entry(shape=(True, 2))}, bytes(8)), r"the shape of 'w' must be"),
    "offsets-not-a-pair": (_file({"w": _entry(offsets=(0,))}, bytes(8)), r"data_offsets of 'w' must be \[begin, end\]"),
    "size-mismatch": (
        _file({"w": _entry(shape=(3,), offsets=(0, 8))}, bytes(8)),
        r"the tensor 'w' of shape \(3,\) and dtype F32 needs 12 bytes, but its data_offsets \[0, 8\] hold 8",
    ),
    "end-before-begin": (_file({"w": _entry(shape=(0,), offsets=(8, 0))}, bytes(8)), r"needs 0 bytes"),
    "offsets-out-of-range": (
        _file({"w": _entry(offsets=(8, 16))}, bytes(8)),
        r"the data_offsets \[8, 16\] of 'w' reach past the end of the data \(8 bytes\)",
    ),
    "8-petabytes-claimed": (
        _file({"w": _entry(shape=(10**15,), offsets=(0, 4 * 10**15))}, bytes(8)),
        r"reach past the end of the data \(8 bytes\)",
    ),
    "overlapping": (
        _file({"a": _entry(), "b": _entry(shape=(1,), offsets=(4, 8))}, bytes(8)),
        r"the data_offsets \[4, 8\] of 'b' overlap the tensor before it",
    ),
    "gap": (
        _file({"a": _entry(shape=(1,), offsets=(0, 4)), "b": _entry(shape=(1,), offsets=(8, 12))}, bytes(12)),
        r"the data_offsets \[8, 12\] of 'b' leave bytes 4\.\.8 unused",
    ),
    "trailing-bytes": (GOOD + b"extra", r"the tensors take 8 bytes of data, but the file holds 13 after the header"),
    "truncated-data": (GOOD[:-1], r"the data_offsets \[0, 8\] of 'w' reach past the end of the data \(7 bytes\)"),
    "metadata-not-strings": (
        _file({"__metadata__": {"epoch": 3}, "w": _entry()}, bytes(8)),
        r"the __metadata__ must map str to str",
    ),
}


@pytest.mark.parametrize("content, reason", CASES.values(), ids=CASES.keys())
def test_damaged_files_are_reported_clearly(tmp_path, content, reason):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"^load: {re.escape(str(path))} is not a valid safetensors file: .*{reason}"):
        nn.load(path)


def test_padded_header_and_null_metadata_are_accepted(tmp_path):
    path = tmp_path / "ok.safetensors"
    path.write_bytes(_file({"__metadata__": None, "w": _entry()}, np.ones(2, "<f4").tobytes(), pad=b"     "))
    np.testing.assert_array_equal(nn.load(path)["w"], np.ones(2, np.float32))


def test_every_truncation_is_reported(tmp_path):
    path = tmp_path / "cut.safetensors"
    nn.save({"a": np.arange(6.0), "b": np.ones((2, 2), np.int32)}, path)
    data = path.read_bytes()
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=rf"^load: {re.escape(str(path))} is not a valid safetensors file: "):
            nn.load(path)


def test_dtypes_numpy_cannot_hold_are_named(tmp_path):
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(_file({"w": _entry("BF16", shape=(4,))}, bytes(8)))
    with pytest.raises(ValueError, match=r"cannot be read into numpy: the tensor 'w' is BF16, .*v\.float\(\)"):
        nn.load(path)


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.safetensors")


# ----- the safetensors package as the oracle -----
def _contiguous_native(state: dict) -> dict:
    # safetensors.numpy writes a strided array's memory as it lies, not its values: give it C-ordered arrays.
    return {k: np.ascontiguousarray(v, dtype=v.dtype.newbyteorder("=")) for k, v in state.items()}


def test_files_we_write_read_the_same_in_the_safetensors_package(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy", reason=INSTALL)
    state = _state()
    path = tmp_path / "ours.safetensors"
    st_format.save_file(state, path, metadata={"format": "np"})
    loaded = st_numpy.load_file(str(path))
    _assert_same(state, {name: loaded[name] for name in state})
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as file:
        assert file.metadata() == {"format": "np"}


def test_files_the_safetensors_package_writes_read_the_same_here(tmp_path):
    st_numpy = pytest.importorskip("safetensors.numpy", reason=INSTALL)
    state = _contiguous_native(_state())
    path = tmp_path / "theirs.safetensors"
    st_numpy.save_file(state, str(path), metadata={"epoch": "3"})
    loaded = nn.load(path)
    _assert_same(state, {name: loaded[name] for name in state})
    assert st_format.load_metadata(path) == {"epoch": "3"}


# ----- PyTorch both ways -----
def _both_nets():
    torch = pytest.importorskip("torch", reason="needs PyTorch as the oracle: pip install torch==2.13.0 (pinned)")
    pytest.importorskip("safetensors.torch", reason=INSTALL)
    torch.manual_seed(0)
    ag.manual_seed(1)  # a different start: the values must come through the file
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(36, 5),
    )
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5)
    )
    x = np.random.default_rng(0).standard_normal((8, 1, 6, 6)).astype(np.float32)
    theirs(torch.from_numpy(x))  # one training step's worth of running statistics, so the buffers matter
    theirs.eval()
    ours.eval()
    return torch, theirs, ours, x


def _outputs(torch, theirs, ours, x) -> tuple:
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    with ag.no_grad():
        return expected, ours(x).numpy()


def test_a_state_dict_pytorch_writes_loads_here_and_gives_its_outputs(tmp_path):
    torch, theirs, ours, x = _both_nets()
    from safetensors.torch import save_file

    path = tmp_path / "torch.safetensors"
    save_file(theirs.state_dict(), str(path))
    assert ours.load_state_dict(nn.load(path)) == ([], [])
    expected, got = _outputs(torch, theirs, ours, x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert int(nn.load(path)["1.num_batches_tracked"]) == 1


def test_a_state_dict_written_here_loads_in_pytorch_and_gives_the_same_outputs(tmp_path):
    torch, theirs, ours, x = _both_nets()
    from safetensors.torch import load_file

    rng = np.random.default_rng(1)
    state = ours.state_dict()
    state["1.weight"], state["1.bias"] = rng.uniform(0.5, 2.0, (2, 4)).astype(np.float32)
    ours.load_state_dict(state)
    with ag.no_grad():
        ours.train()
        ours(x)  # running statistics of our own
        ours.eval()
    assert not ours.state_dict()["5.weight"].flags.c_contiguous  # Linear's (out, in) weight is a transposed view
    path = tmp_path / "ours.safetensors"
    nn.save(ours.state_dict(), path)
    missing, unexpected = theirs.load_state_dict(load_file(str(path)))
    assert missing == [] and unexpected == []
    expected, got = _outputs(torch, theirs, ours, x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
