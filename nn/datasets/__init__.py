"""Data sets for the demos and for your own experiments, as numpy arrays ready for `optim.Solver`.

Nothing here needs more than numpy to import. `make_moons`, `make_blobs` and `load_digits` need
scikit-learn (`pip install scikit-learn`), imported when called. MNIST and CIFAR-10 are read from
their standard files, looked for in the folder given, then $NODEGRAD_MNIST / $NODEGRAD_CIFAR10,
$NODEGRAD_DATA/<name> and ~/.cache/nodegrad/<name>.

>>> from nn import datasets
>>> X_train, y_train, X_val, y_val = datasets.load_synth(200, seed=0)
>>> X_train.shape, datasets.one_hot(y_train, 2).shape
((160, 2), (160, 2))
"""

from nn.datasets.cifar import CLASSES as CIFAR10_CLASSES
from nn.datasets.cifar import RestrictedUnpickler, load_cifar10, read_cifar_batch
from nn.datasets.digits import load_digits
from nn.datasets.files import cache_dir
from nn.datasets.mnist import (
    MNIST,
    MNIST_MEAN,
    MNIST_STD,
    download_mnist,
    load_mnist,
    parse_idx,
    read_idx,
    standardize_mnist,
)
from nn.datasets.synthetic import load_synth, make_blobs, make_moons, make_spirals
from nn.datasets.transforms import flatten, normalize, one_hot, train_val_split

__all__ = [
    "CIFAR10_CLASSES",
    "MNIST",
    "MNIST_MEAN",
    "MNIST_STD",
    "RestrictedUnpickler",
    "cache_dir",
    "download_mnist",
    "flatten",
    "load_cifar10",
    "load_digits",
    "load_mnist",
    "load_synth",
    "make_blobs",
    "make_moons",
    "make_spirals",
    "normalize",
    "one_hot",
    "parse_idx",
    "read_cifar_batch",
    "read_idx",
    "standardize_mnist",
    "train_val_split",
]
