"""CIFAR-10 from its standard python batches (data_batch_1..5, test_batch): `read_cifar_batch`, `load_cifar10`.

The batches are pickles, and unpickling runs whatever code a pickle names. They are read with a
restricted Unpickler that resolves only the globals needed to rebuild numpy arrays (ndarray, dtype,
_reconstruct, scalar, _frombuffer, and _codecs.encode for bytes pickled at protocols 0 to 2); any
other global is refused with pickle.UnpicklingError, so a tampered file cannot run code.
"""

import codecs
import pickle
from pathlib import Path

import numpy as np

from nn.datasets.files import candidate_folders, not_found
from nn.datasets.transforms import prepare_images

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
FOLDER = "cifar-10-batches-py"  # what the official archive unpacks to
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ENV_VAR = "NODEGRAD_CIFAR10"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _numpy_globals() -> dict:
    """(module, name) -> object for each global an array pickle may name, under numpy 1 and 2 names."""
    reconstruct = np.ndarray((0,)).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    # _codecs.encode is how Python 3 writes bytes at protocols below 3 (it only re-encodes a string).
    allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype, ("_codecs", "encode"): codecs.encode}
    for core in ("numpy.core", "numpy._core"):
        allowed[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{core}.multiarray", "scalar")] = scalar
        allowed[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that builds dicts, lists, bytes, numbers and numpy arrays, and refuses any other global.

    >>> import io
    >>> RestrictedUnpickler(io.BytesIO(pickle.dumps({b"labels": [1, 2]}))).load()
    {b'labels': [1, 2]}
    """

    ALLOWED = _numpy_globals()

    def find_class(self, module: str, name: str):
        allowed = self.ALLOWED.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"read_cifar_batch: refusing to load the global {module}.{name}: only numpy array "
                "reconstruction is allowed in a data batch"
            )
        return allowed


def read_cifar_batch(path) -> tuple:
    """(X, y) from one CIFAR-10 batch file: X uint8 (N, 3, 32, 32), y int64 (N,).

    Raises:
        pickle.UnpicklingError: the file names a global other than numpy's array reconstruction.
        ValueError: the batch lacks b'data' or b'labels', or their shapes disagree.
    """
    path = Path(path)
    with open(path, "rb") as f:
        # Python 2 pickled these; encoding="bytes" keeps their str keys and values as bytes.
        batch = RestrictedUnpickler(f, encoding="bytes").load()
    if not isinstance(batch, dict):
        raise ValueError(f"read_cifar_batch: {path} must hold a dict, got {type(batch).__name__}")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(
            f"read_cifar_batch: {path} must hold b'data' and b'labels', got keys {sorted(map(str, batch))}"
        )
    data, labels = np.asarray(data), np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"read_cifar_batch: {path} must hold data as uint8 (N, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (len(data),):
        raise ValueError(
            f"read_cifar_batch: {path} must hold one label per image, "
            f"got {len(data)} images and labels of shape {labels.shape}"
        )
    # Each row is the red plane, then green, then blue, each 32x32 row-major: NCHW as it stands.
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _locate(path) -> Path:
    """The first folder searched that holds all six batches."""
    names = [*TRAIN_BATCHES, TEST_BATCH]
    searched = []
    for base in candidate_folders(path, ENV_VAR, "cifar10"):
        for folder in (base, base / FOLDER):
            missing = [name for name in names if not (folder / name).is_file()]
            if not missing:
                return folder
            searched.append((folder, missing))
    hint = f"Download and unpack {URL} into one of these folders, or point ${ENV_VAR} at the unpacked folder."
    raise not_found("load_cifar10", names, searched, hint)


def load_cifar10(path=None, flatten: bool = False, normalize: bool = True) -> tuple:
    """The CIFAR-10 training and test sets as (X_train, y_train, X_test, y_test).

    Args:
        path: the folder holding data_batch_1..5 and test_batch, or the folder that holds
            cifar-10-batches-py. None searches $NODEGRAD_CIFAR10, $NODEGRAD_DATA/cifar10 and
            ~/.cache/nodegrad/cifar10 (and cifar-10-batches-py inside each).
        flatten: images as (N, 3072) rows instead of (N, 3, 32, 32).
        normalize: images as float32 in [0, 1]; False keeps the raw uint8 values.

    Returns:
        X_train (50000, 3, 32, 32), y_train (50000,) int64, X_test (10000, 3, 32, 32), y_test (10000,) int64;
        `CLASSES` names the labels.

    Raises:
        FileNotFoundError: no folder searched holds all six batches; the message names them and every folder.
        pickle.UnpicklingError, ValueError: a batch is not a CIFAR-10 batch (see `read_cifar_batch`).
    """
    folder = _locate(path)
    train = [read_cifar_batch(folder / name) for name in TRAIN_BATCHES]
    X_train, y_train = np.concatenate([X for X, _ in train]), np.concatenate([y for _, y in train])
    X_test, y_test = read_cifar_batch(folder / TEST_BATCH)
    return prepare_images(X_train, flatten, normalize), y_train, prepare_images(X_test, flatten, normalize), y_test
