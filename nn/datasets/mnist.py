"""MNIST from the four standard IDX files (gzipped or not): `read_idx`, `load_mnist`, `download_mnist`, and
the `MNIST` Dataset.

The files are looked for in the folder given, else in $NODEGRAD_MNIST, $NODEGRAD_DATA/mnist and
~/.cache/nodegrad/mnist. `download_mnist` fetches them from the first mirror that answers and keeps
a file only when the MD5 of its decompressed bytes is the published one.
"""

import gzip
import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nn.data import Dataset
from nn.datasets.files import candidate_folders, not_found
from nn.datasets.transforms import prepare_images

# key -> (file name without .gz, IDX magic number)
FILES = {
    "train_images": ("train-images-idx3-ubyte", 0x00000803),
    "train_labels": ("train-labels-idx1-ubyte", 0x00000801),
    "test_images": ("t10k-images-idx3-ubyte", 0x00000803),
    "test_labels": ("t10k-labels-idx1-ubyte", 0x00000801),
}
# MD5 of each decompressed file, as published with the data set.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
ENV_VAR = "NODEGRAD_MNIST"
# IDX type byte -> big-endian numpy dtype
# The training images' pixel mean and spread (pixels scaled to [0, 1]): standardized inputs keep a
# first layer's pre-activations near unit scale.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array held by the bytes of one (decompressed) IDX file.

    The header is two zero bytes, a type byte, the number of dimensions, then each size as a
    big-endian uint32; the values follow in row-major order.

    Raises:
        ValueError: a bad magic number, an unknown type, or a body that is not the size the header says.

    >>> parse_idx(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])).tolist()
    [[1, 2, 3], [4, 5, 6]]
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"read_idx: {name} is not an IDX file: it must start with two zero bytes, got {data[:4]!r}")
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_DTYPES:
        raise ValueError(
            f"read_idx: {name} has the unknown IDX type 0x{type_code:02x}, "
            f"expected one of {', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {name} is cut short: a {ndim}-dim header needs {header} bytes, got {len(data)}")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"read_idx: {name} has a header for shape {shape} ({expected} bytes of values), "
            f"got {len(data) - header} bytes after the header"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read()
    # Decide by content, not by name: some copies are gzipped without the suffix or the reverse.
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def read_idx(path) -> np.ndarray:
    """The array in the IDX file at `path`, gzipped or plain, in native byte order.

    Raises:
        ValueError: the file is not a well-formed IDX file (see `parse_idx`).
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def _file_in(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def download_mnist(path=None, mirrors=None, timeout: float = 30.0) -> Path:
    """Fetch the MNIST files that `path` (default: the first folder `load_mnist` searches) lacks.

    Each file is tried on each of `mirrors` (default `MIRRORS`) in turn; it is kept (gzipped, written
    atomically) only when the MD5 of its decompressed bytes is the one in `MD5`.

    Returns:
        The folder holding the four files.

    Raises:
        RuntimeError: a file could not be fetched with the right checksum from any mirror; the message
            lists each mirror's failure.
    """
    import urllib.request  # only a download needs it

    mirrors = MIRRORS if mirrors is None else mirrors
    folder = candidate_folders(path, ENV_VAR, "mnist")[0]
    folder.mkdir(parents=True, exist_ok=True)
    for name, _ in FILES.values():
        if _file_in(folder, name) is not None:
            continue
        failures = []
        for mirror in mirrors:
            url = f"{mirror}{name}.gz"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    payload = response.read()
                digest = hashlib.md5(gzip.decompress(payload)).hexdigest()
            except (OSError, EOFError, zlib.error) as error:  # URLError, timeouts and bad gzip are OSErrors
                failures.append(f"{url}: {error}")
                continue
            if digest != MD5[name]:
                failures.append(f"{url}: MD5 of the decompressed file is {digest}, expected {MD5[name]}")
                continue
            _write_atomically(folder / f"{name}.gz", payload)
            break
        else:
            raise RuntimeError(
                f"download_mnist: could not fetch {name}.gz with the right checksum from any mirror:\n  "
                + "\n  ".join(failures)
            )
    return folder


def _write_atomically(path: Path, payload: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(payload)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _locate(path, download: bool) -> dict:
    """file name -> path of each of the four files, all from the first folder that has them all."""
    names = [name for name, _ in FILES.values()]
    searched = []
    for folder in candidate_folders(path, ENV_VAR, "mnist"):
        found = {name: _file_in(folder, name) for name in names}
        missing = [name for name, file in found.items() if file is None]
        if not missing:
            return found
        searched.append((folder, missing))
    if not download:
        hint = (
            f"Put the files (from {MIRRORS[0]}) in one of these folders, point ${ENV_VAR} at them, "
            "or call load_mnist(download=True)."
        )
        raise not_found("load_mnist", [f"{n}[.gz]" for n in names], searched, hint)
    folder = download_mnist(path)
    return {name: _file_in(folder, name) for name in names}


def load_mnist(path=None, download: bool = False, flatten: bool = False, normalize: bool = True) -> tuple:
    """The MNIST training and test sets as (X_train, y_train, X_test, y_test).

    Args:
        path: the folder holding the four IDX files (gzipped or not). None searches $NODEGRAD_MNIST,
            $NODEGRAD_DATA/mnist and ~/.cache/nodegrad/mnist, in that order.
        download: fetch the files into the first folder searched when no folder has them all.
        flatten: images as (N, 784) rows instead of (N, 1, 28, 28).
        normalize: images as float32 in [0, 1]; False keeps the raw uint8 values.

    Returns:
        X_train (60000, 1, 28, 28), y_train (60000,) int64, X_test (10000, 1, 28, 28), y_test (10000,) int64.

    Raises:
        FileNotFoundError: no folder searched holds all four files (and download is False); the message
            names the files and every folder searched.
        ValueError: a file is not what its name says: a wrong magic number, or counts and sizes that disagree.
    """
    found = _locate(path, download)
    train_images, train_labels = _read_split(found, "train")
    test_images, test_labels = _read_split(found, "test")
    if train_images.shape[1:] != test_images.shape[1:]:
        raise ValueError(
            f"load_mnist: training and test images must have the same size, "
            f"got {train_images.shape[1:]} and {test_images.shape[1:]} in {_folder(found)}"
        )
    return (
        prepare_images(train_images[:, None], flatten, normalize),
        train_labels,
        prepare_images(test_images[:, None], flatten, normalize),
        test_labels,
    )


def _folder(found: dict) -> Path:
    return next(iter(found.values())).parent


def _read_split(found: dict, split: str) -> tuple:
    """(images (N, H, W) uint8, labels (N,) int64) of the "train" or "test" split, checked."""
    arrays = {}
    for key in (f"{split}_images", f"{split}_labels"):
        name, magic = FILES[key]
        data = _read_bytes(found[name])
        actual = int.from_bytes(data[:4], "big")
        if actual != magic:
            raise ValueError(
                f"load_mnist: {found[name]} must have the IDX magic number 0x{magic:08x}, got 0x{actual:08x}"
            )
        arrays[key] = parse_idx(data, str(found[name]))
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if len(images) != len(labels):
        raise ValueError(
            f"load_mnist: the {split} set must have as many labels as images, "
            f"got {len(images)} images and {len(labels)} labels in {_folder(found)}"
        )
    return images, labels.astype(np.int64)


class MNIST(Dataset):
    """MNIST as a Dataset, spelled as torchvision.datasets.MNIST: sample i is (image, label).

    The image is float32 (1, 28, 28) in [0, 1] (what `load_mnist` returns; torchvision gives a PIL image
    that ToTensor turns into the same array), then `transform(image)` if given; the label an int, then
    `target_transform(label)`. `data` holds the uint8 images (N, 28, 28) and `targets` the int64 labels.

    Args:
        root: the folder holding the IDX files (gzipped or not); None searches as `load_mnist` does.
        train: the 60,000 training images, else the 10,000 test images.
        download: fetch the files (see `download_mnist`) when no folder searched has them all.

    Raises:
        FileNotFoundError, ValueError: as `load_mnist`.
    """

    classes = [
        f"{digit} - {name}"
        for digit, name in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    ]

    def __init__(
        self,
        root=None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ):
        self.root, self.train, self.transform, self.target_transform = root, train, transform, target_transform
        self.data, self.targets = _read_split(_locate(root, download), "train" if train else "test")

    def __getitem__(self, index: int) -> tuple:
        image = prepare_images(self.data[index][None], flatten=False, normalize=True)
        label = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __len__(self) -> int:
        return len(self.data)


def standardize_mnist(X: np.ndarray) -> np.ndarray:
    """(X - MNIST_MEAN) / MNIST_STD in float32, for images loaded with normalize=True (pixels in [0, 1])."""
    return ((X - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)).astype(np.float32)
