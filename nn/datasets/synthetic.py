"""Small 2-D classification sets: `make_spirals` and `load_synth` in numpy, `make_moons` and `make_blobs`
through scikit-learn (an optional dependency, imported when called). X is float32 (N, 2), y int64.
"""

import numpy as np

from nn.data import train_val_split


def _sklearn_datasets(where: str):
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError(
            f"{where}: needs scikit-learn, got ImportError; run `pip install scikit-learn` "
            "(or `pip install nodegrad[demos]`)"
        ) from None
    return sklearn.datasets


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple:
    """(X, y): two interleaving half circles, n points in all (scikit-learn's generator).

    Raises:
        ImportError: scikit-learn is not installed.
    """
    X, y = _sklearn_datasets("make_moons").make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(np.float32), y.astype(np.int64)


def make_blobs(n: int = 200, centers: int = 3, std: float = 1.0, n_features: int = 2, seed: int = 0) -> tuple:
    """(X, y): n points in `centers` Gaussian blobs of standard deviation `std` (scikit-learn's generator).

    Raises:
        ImportError: scikit-learn is not installed.
    """
    X, y = _sklearn_datasets("make_blobs").make_blobs(
        n_samples=n, centers=centers, cluster_std=std, n_features=n_features, random_state=seed
    )
    return X.astype(np.float32), y.astype(np.int64)


def make_spirals(n_per_class: int = 100, classes: int = 2, noise: float = 0.2, seed: int = 0) -> tuple:
    """(X, y): `classes` spiral arms of n_per_class points each, from the centre out to radius 1.

    `noise` is the standard deviation of the jitter added to each point's angle, in radians.

    >>> X, y = make_spirals(50, classes=3)
    >>> X.shape, X.dtype, y.shape, y.dtype, np.bincount(y).tolist()
    ((150, 2), dtype('float32'), (150,), dtype('int64'), [50, 50, 50])
    """
    if n_per_class < 1 or classes < 1:
        raise ValueError(f"make_spirals: n_per_class and classes must be positive, got {n_per_class} and {classes}")
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), classes)
    y = np.repeat(np.arange(classes), n_per_class)
    # Each arm turns through 4 radians and starts 2*pi/classes after the previous one.
    angle = 4.0 * radius + 2 * np.pi * y / classes + rng.normal(0.0, noise, len(y))
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return X.astype(np.float32), y.astype(np.int64)


def load_synth(n: int = 1000, seed: int = 0, val_fraction: float = 0.2) -> tuple:
    """(X_train, y_train, X_val, y_val): the course's two-class set, split for training and validation.

    x is drawn from a standard 2-D normal; the label is 1 where the quadratic form x^T Q x with
    Q = [[1, -0.05], [1, 0.4]] exceeds 0.6, so the classes are split by an ellipse: a linear model
    cannot fit it, one hidden layer can.

    >>> X_train, y_train, X_val, y_val = load_synth(100)
    >>> X_train.shape, X_val.shape, X_train.dtype, y_train.dtype, set(y_train.tolist())
    ((80, 2), (20, 2), dtype('float32'), dtype('int64'), {0, 1})
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    quad = np.array([[1.0, -0.05], [1.0, 0.4]])
    y = (np.einsum("bf,fk,bk->b", X, quad, X) > 0.6).astype(np.int64)
    return train_val_split(X.astype(np.float32), y, val_fraction, seed=rng)
