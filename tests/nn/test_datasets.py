"""nn.datasets: IDX and CIFAR readers on tiny files written here, their errors, a download through a fake
opener, the restricted unpickler, and the synthetic and bundled sets. No test needs the network or real data."""

import gzip
import hashlib
import io
import os
import pickle
import urllib.error
import urllib.request

import numpy as np
import pytest

from nn import datasets
from nn.datasets import mnist as mnist_module

MNIST_NAMES = [name for name, _ in mnist_module.FILES.values()]


def idx_bytes(array: np.ndarray, magic_type: int = 0x08) -> bytes:
    header = bytes([0, 0, magic_type, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(">u1").tobytes()


def tiny_mnist(n_train: int = 6, n_test: int = 4, size: int = 28, seed: int = 0) -> dict:
    """name -> decompressed IDX bytes of a tiny MNIST-shaped set."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_train, size, size))),
        "train-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_train)),
        "t10k-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n_test, size, size))),
        "t10k-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, n_test)),
    }


def write_mnist(folder, files: dict, gzipped: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if gzipped:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.fixture
def no_data_env(monkeypatch, tmp_path):
    """No dataset environment variables, and a cache folder inside tmp_path."""
    for var in ("NODEGRAD_MNIST", "NODEGRAD_CIFAR10", "NODEGRAD_DATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "nodegrad"


# ----- IDX and MNIST -----
@pytest.mark.parametrize("gzipped", [True, False], ids=["gz", "plain"])
def test_read_idx_reads_gzipped_and_plain_files(tmp_path, gzipped):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(idx_bytes(array)) if gzipped else idx_bytes(array))
    read = datasets.read_idx(path)
    assert read.dtype == np.uint8 and read.shape == (2, 3, 4)
    np.testing.assert_array_equal(read, array)


def test_read_idx_reads_big_endian_ints_in_native_order(tmp_path):
    array = np.array([1, -2, 70000], ">i4")
    path = tmp_path / "ints.idx"
    path.write_bytes(bytes([0, 0, 0x0C, 1]) + np.array([3], ">u4").tobytes() + array.tobytes())
    read = datasets.read_idx(path)
    assert read.dtype == np.dtype("=i4") and read.tolist() == [1, -2, 70000]


@pytest.mark.parametrize(
    "data, match",
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "two zero bytes"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX type 0x07"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x01", "cut short"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x06", r"shape \(3,\) \(3 bytes of values\), got 2 bytes"),
    ],
)
def test_parse_idx_rejects_malformed_files_clearly(data, match):
    with pytest.raises(ValueError, match=match):
        datasets.parse_idx(data, "bad.idx")


@pytest.mark.parametrize("gzipped", [True, False], ids=["gz", "plain"])
def test_load_mnist_from_a_folder(tmp_path, gzipped):
    files = tiny_mnist()
    write_mnist(tmp_path, files, gzipped)
    X_train, y_train, X_test, y_test = datasets.load_mnist(tmp_path)
    assert X_train.shape == (6, 1, 28, 28) and X_train.dtype == np.float32
    assert X_test.shape == (4, 1, 28, 28) and y_test.shape == (4,) and y_train.dtype == np.int64
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    raw = datasets.read_idx(tmp_path / ("train-images-idx3-ubyte" + (".gz" if gzipped else "")))
    np.testing.assert_allclose(X_train[:, 0] * 255, raw, atol=1e-4)
    X_flat, _, _, _ = datasets.load_mnist(tmp_path, flatten=True, normalize=False)
    assert X_flat.shape == (6, 784) and X_flat.dtype == np.uint8


def test_mnist_dataset_gives_images_and_int_labels_and_feeds_a_data_loader(tmp_path):
    from nn.data import DataLoader

    write_mnist(tmp_path, tiny_mnist())
    X_train, y_train, X_test, y_test = datasets.load_mnist(tmp_path)
    train, test = datasets.MNIST(tmp_path), datasets.MNIST(str(tmp_path), train=False)
    assert len(train) == 6 and len(test) == 4 and train.data.shape == (6, 28, 28) and train.data.dtype == np.uint8
    image, label = train[2]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and type(label) is int
    np.testing.assert_array_equal(image, X_train[2])
    assert label == y_train[2] and test[3][1] == y_test[3] and train.targets.dtype == np.int64
    flipped = datasets.MNIST(tmp_path, transform=lambda x: x[:, ::-1], target_transform=lambda t: t + 100)
    image, label = flipped[0]
    np.testing.assert_array_equal(image, X_train[0][:, ::-1])
    assert label == y_train[0] + 100
    images, labels = next(iter(DataLoader(test, batch_size=3)))
    np.testing.assert_array_equal(images, X_test[:3])
    assert labels.tolist() == y_test[:3].tolist()


def test_mnist_dataset_names_the_missing_files(tmp_path, no_data_env):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.MNIST(tmp_path / "empty")


def test_load_mnist_finds_the_folder_through_the_environment(tmp_path, no_data_env, monkeypatch):
    write_mnist(tmp_path / "data" / "mnist", tiny_mnist())
    monkeypatch.setenv("NODEGRAD_DATA", str(tmp_path / "data"))
    assert len(datasets.load_mnist()[0]) == 6
    write_mnist(tmp_path / "elsewhere", tiny_mnist(n_train=3, n_test=2))
    monkeypatch.setenv("NODEGRAD_MNIST", str(tmp_path / "elsewhere"))
    assert len(datasets.load_mnist()[0]) == 3  # NODEGRAD_MNIST comes first


def test_load_mnist_rejects_a_wrong_magic_number(tmp_path):
    files = tiny_mnist()
    files["t10k-labels-idx1-ubyte"] = idx_bytes(np.zeros((4, 2, 2)))  # an images file under a labels name
    write_mnist(tmp_path, files)
    with pytest.raises(
        ValueError,
        match=r"t10k-labels-idx1-ubyte.gz must have the IDX magic number 0x00000801, "
        r"got 0x00000803",
    ):
        datasets.load_mnist(tmp_path)


def test_load_mnist_rejects_counts_that_disagree(tmp_path):
    files = tiny_mnist()
    files["train-labels-idx1-ubyte"] = idx_bytes(np.zeros(5))
    write_mnist(tmp_path, files)
    with pytest.raises(ValueError, match="as many labels as images, got 6 images and 5 labels"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_rejects_train_and_test_images_of_different_sizes(tmp_path):
    files = tiny_mnist()
    files["t10k-images-idx3-ubyte"] = idx_bytes(np.zeros((4, 27, 27)))
    write_mnist(tmp_path, files)
    with pytest.raises(ValueError, match=r"same size, got \(28, 28\) and \(27, 27\)"):
        datasets.load_mnist(tmp_path)


def test_missing_mnist_raises_one_error_naming_every_file_and_every_folder(tmp_path, no_data_env, monkeypatch):
    monkeypatch.setenv("NODEGRAD_MNIST", str(tmp_path / "env"))
    monkeypatch.setenv("NODEGRAD_DATA", str(tmp_path / "data"))
    write_mnist(tmp_path / "env", {"train-images-idx3-ubyte": tiny_mnist()["train-images-idx3-ubyte"]})
    with pytest.raises(FileNotFoundError) as caught:
        datasets.load_mnist()
    message = str(caught.value)
    for name in MNIST_NAMES:
        assert name in message
    for folder in (tmp_path / "env", tmp_path / "data" / "mnist", no_data_env / "mnist"):
        assert str(folder) in message
    assert "missing train-labels-idx1-ubyte" in message and "no such folder" in message
    assert "download=True" in message


class FakeOpener:
    """Serves `served[url]` (bytes, or an exception to raise) in place of the network."""

    def __init__(self, served: dict):
        self.served, self.requested = served, []

    def __call__(self, url, timeout=None):
        self.requested.append(url)
        answer = self.served.get(url, urllib.error.URLError("no route to host"))
        if isinstance(answer, Exception):
            raise answer
        return io.BytesIO(answer)


def test_download_mnist_tries_the_mirrors_and_keeps_files_with_the_right_checksum(tmp_path, no_data_env, monkeypatch):
    files = tiny_mnist()
    for name, data in files.items():
        monkeypatch.setitem(mnist_module.MD5, name, hashlib.md5(data).hexdigest())
    opener = FakeOpener({f"https://second/{name}.gz": gzip.compress(data) for name, data in files.items()})
    monkeypatch.setattr(urllib.request, "urlopen", opener)
    monkeypatch.setattr(mnist_module, "MIRRORS", ("https://first/", "https://second/"))
    X_train, y_train, X_test, y_test = datasets.load_mnist(tmp_path / "mnist", download=True)
    assert X_train.shape == (6, 1, 28, 28) and len(y_test) == 4
    assert sorted(os.listdir(tmp_path / "mnist")) == sorted(f"{name}.gz" for name in files)
    assert opener.requested[:2] == [
        "https://first/train-images-idx3-ubyte.gz",
        "https://second/train-images-idx3-ubyte.gz",
    ]
    datasets.load_mnist(tmp_path / "mnist", download=True)  # present now: nothing fetched again
    assert len(opener.requested) == 8


def test_download_mnist_rejects_a_checksum_mismatch_and_writes_nothing(tmp_path, no_data_env, monkeypatch):
    files = tiny_mnist()  # the published MD5s are of the real files: these do not match
    monkeypatch.setattr(
        urllib.request,
        "urlopen",
        FakeOpener({f"https://only/{name}.gz": gzip.compress(data) for name, data in files.items()}),
    )
    with pytest.raises(
        RuntimeError,
        match=r"https://only/train-images-idx3-ubyte.gz: MD5 of the decompressed file "
        r"is [0-9a-f]{32}, expected 6bbc9ace898e44ae57da46a324031adb",
    ):
        datasets.download_mnist(tmp_path, mirrors=("https://only/",))
    assert os.listdir(tmp_path) == []


def test_published_checksums_are_the_documented_ones():
    assert mnist_module.MD5 == {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }


# ----- CIFAR-10 -----
def write_cifar(folder, n: int = 3, protocol: int = 2, seed: int = 0) -> dict:
    """Six batches of n images each, as the official ones are laid out; returns name -> (data, labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in [*datasets.cifar.TRAIN_BATCHES, datasets.cifar.TEST_BATCH]:
        data, labels = rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()
        batch = {b"batch_label": name.encode(), b"labels": labels, b"data": data, b"filenames": [b"x.png"] * n}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        written[name] = data, labels
    return written


@pytest.mark.parametrize("protocol", [2, 5])
def test_load_cifar10_reads_written_batches(tmp_path, protocol):
    written = write_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol)
    X_train, y_train, X_test, y_test = datasets.load_cifar10(tmp_path)  # finds the unpacked folder inside
    assert X_train.shape == (15, 3, 32, 32) and X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_test.shape == (3, 3, 32, 32) and y_test.tolist() == written["test_batch"][1]
    data, _ = written["data_batch_2"]
    np.testing.assert_array_equal(np.round(X_train[3:6] * 255).astype(np.uint8).reshape(3, -1), data)
    # The first 1024 values of a row are the red plane.
    np.testing.assert_array_equal(X_train[3, 0].ravel() * 255, data[0, :1024].astype(np.float32))
    assert datasets.load_cifar10(tmp_path, flatten=True, normalize=False)[0].shape == (15, 3072)


def test_missing_cifar10_names_every_batch_and_folder(tmp_path, no_data_env, monkeypatch):
    monkeypatch.setenv("NODEGRAD_CIFAR10", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as caught:
        datasets.load_cifar10()
    message = str(caught.value)
    for name in ["data_batch_1", "data_batch_5", "test_batch"]:
        assert name in message
    for folder in (tmp_path / "env", tmp_path / "env" / "cifar-10-batches-py", no_data_env / "cifar10"):
        assert str(folder) in message
    assert "cifar-10-python.tar.gz" in message


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def test_restricted_unpickler_refuses_a_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / "ran"
    batch = tmp_path / "data_batch_1"
    batch.write_bytes(pickle.dumps({b"data": Exploit(marker), b"labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load the global builtins.exec"):
        datasets.read_cifar_batch(batch)
    assert not marker.exists()


def test_read_cifar_batch_rejects_a_batch_of_the_wrong_shape(tmp_path):
    batch = tmp_path / "b"
    batch.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"uint8 \(N, 3072\), got uint8 \(2, 100\)"):
        datasets.read_cifar_batch(batch)


# ----- bundled and synthetic sets, helpers -----
def test_load_digits_shapes_dtypes_and_disjoint_splits():
    pytest.importorskip("sklearn")
    X_train, y_train, X_val, y_val, X_test, y_test = datasets.load_digits(seed=0)
    assert (len(X_train), len(X_val), len(X_test)) == (1258, 180, 359)
    assert X_train.shape[1:] == (1, 8, 8) and X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0 and set(y_test.tolist()) == set(range(10))
    from sklearn.datasets import load_digits as sklearn_load_digits

    images, labels = sklearn_load_digits(return_X_y=True)
    parts = np.concatenate([X_train, X_val, X_test]), np.concatenate([y_train, y_val, y_test])
    assert np.bincount(parts[1]).tolist() == np.bincount(labels).tolist()  # every image in exactly one part
    np.testing.assert_allclose(parts[0].sum(), images.sum() / 16, rtol=1e-5)
    again = datasets.load_digits(seed=0)
    np.testing.assert_array_equal(again[4], X_test)
    assert not np.array_equal(datasets.load_digits(seed=1)[4], X_test)


def test_spirals_and_synth_have_their_shapes_and_repeat_by_seed():
    X, y = datasets.make_spirals(40, classes=3, noise=0.1, seed=3)
    assert X.shape == (120, 2) and X.dtype == np.float32 and np.bincount(y).tolist() == [40, 40, 40]
    assert np.abs(X).max() <= 1.0 + 1e-6
    np.testing.assert_array_equal(X, datasets.make_spirals(40, classes=3, noise=0.1, seed=3)[0])
    assert not np.array_equal(X, datasets.make_spirals(40, classes=3, noise=0.1, seed=4)[0])
    X_train, y_train, X_val, y_val = datasets.load_synth(500, seed=1)
    assert X_train.shape == (400, 2) and X_val.shape == (100, 2) and y_val.dtype == np.int64
    assert 0.2 < y_train.mean() < 0.8  # both classes are well represented
    np.testing.assert_array_equal(X_val, datasets.load_synth(500, seed=1)[2])


def test_moons_and_blobs_through_scikit_learn():
    pytest.importorskip("sklearn")
    X, y = datasets.make_moons(60, noise=0.05, seed=0)
    assert X.shape == (60, 2) and X.dtype == np.float32 and y.dtype == np.int64 and set(y.tolist()) == {0, 1}
    X, y = datasets.make_blobs(30, centers=3, seed=0)
    assert X.shape == (30, 2) and set(y.tolist()) == {0, 1, 2}


def test_normalize_uses_train_statistics_per_channel():
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((50, 3, 4, 4)) * [[[[1.0]], [[5.0]], [[0.1]]]] + 7).astype(np.float32)
    Xn, mean, std = datasets.normalize(X)
    assert Xn.dtype == np.float32 and mean.shape == (3,) and std.shape == (3,)
    np.testing.assert_allclose(Xn.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(Xn.std(axis=(0, 2, 3)), 1, atol=1e-5)
    X_val = X[:5] + 1
    np.testing.assert_allclose(
        datasets.normalize(X_val, mean, std)[0], (X_val - mean[:, None, None]) / std[:, None, None], rtol=1e-6
    )
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        datasets.normalize(X, mean[:2], std)


def test_normalize_statistics_of_float32_far_from_zero_match_float64():
    """Over the batch axis float32 running sums drift: the statistics must keep float64's digits."""
    X = (1e4 + np.random.default_rng(0).standard_normal((25_000, 3, 2, 2))).astype(np.float32)
    _, mean, std = datasets.normalize(X)
    exact = X.astype(np.float64)
    assert mean.dtype == std.dtype == np.float32
    np.testing.assert_allclose(mean, exact.mean(axis=(0, 2, 3)), rtol=1e-7)
    np.testing.assert_allclose(std, exact.std(axis=(0, 2, 3)), rtol=1e-5)


def test_one_hot_and_flatten():
    np.testing.assert_array_equal(datasets.one_hot(np.array([1, 0, 1]), 2), [[0, 1], [1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\), got values from 0 to 2"):
        datasets.one_hot(np.array([0, 2]), 2)
    assert datasets.flatten(np.zeros((4, 3, 2, 2))).shape == (4, 12)
    import nn.data

    assert datasets.train_val_split is nn.data.train_val_split


def test_datasets_import_optional_packages_only_inside_functions():
    """`import nn.datasets` needs only numpy and the standard library: scikit-learn loads when called."""
    import ast
    import pathlib
    import sys

    allowed = {"nn", "numpy"} | set(sys.stdlib_module_names)
    for path in sorted(pathlib.Path(datasets.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{path.name} must start with a docstring"
        top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        names = {alias.name.split(".")[0] for node in top_level if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module.split(".")[0] for node in top_level if isinstance(node, ast.ImportFrom)}
        assert names <= allowed, f"{path.name} imports {sorted(names - allowed)} at module level"


def test_standardize_mnist_centres_and_scales_by_the_training_set_statistics():
    X = np.array([[datasets.MNIST_MEAN, datasets.MNIST_MEAN + datasets.MNIST_STD, 0.0]], dtype=np.float32)
    out = datasets.standardize_mnist(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 1.0, -datasets.MNIST_MEAN / datasets.MNIST_STD]], rtol=1e-6, atol=1e-6)
