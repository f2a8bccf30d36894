"""Array helpers for preparing data: `normalize` per channel, `flatten`, `one_hot`; `train_val_split` is nn.data's."""

import numpy as np

from nn.data import train_val_split

__all__ = ["flatten", "normalize", "one_hot", "train_val_split"]


def normalize(X: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> tuple:
    """(X - mean) / std per channel (axis 1), returning (X_normalized, mean, std).

    Statistics are computed on X unless given: compute them on the training set and pass them
    for validation and test. mean and std have shape (C,); a channel with std 0 is divided by 1.

    >>> X = np.array([[1.0, 10.0], [3.0, 10.0]], np.float32)
    >>> Xn, mean, std = normalize(X)
    >>> Xn.tolist(), mean.tolist(), std.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [2.0, 10.0], [1.0, 1.0])
    >>> normalize(np.array([[5.0, 12.0]], np.float32), mean, std)[0].tolist()
    [[3.0, 2.0]]
    """
    X = np.asarray(X)
    if X.ndim < 2:
        raise ValueError(f"normalize: X must have a batch axis and a channel axis (N, C, ...), got shape {X.shape}")
    axes = (0, *range(2, X.ndim))
    # Not X.mean and X.std: over the batch axis their float32 running sums drift (see moments).
    # Imported here: nn.datasets imports nothing but numpy and the standard library when loaded.
    from autograd.ops.reduce import moments

    batch_mean, batch_var = moments(X, axes) if mean is None or std is None else (None, None)
    if mean is None:
        mean = batch_mean
    if std is None:
        std = np.sqrt(batch_var)
        std = np.where(std == 0, 1, std).astype(std.dtype)  # a constant channel: centre it, leave its scale
    mean, std = np.asarray(mean, X.dtype), np.asarray(std, X.dtype)
    if mean.shape != (X.shape[1],) or std.shape != (X.shape[1],):
        raise ValueError(
            f"normalize: mean and std must have shape ({X.shape[1]},) for X of shape {X.shape}, "
            f"got {mean.shape} and {std.shape}"
        )
    shape = (1, -1) + (1,) * (X.ndim - 2)
    return (X - mean.reshape(shape)) / std.reshape(shape), mean, std


def prepare_images(X: np.ndarray, flatten: bool, normalize: bool) -> np.ndarray:
    """uint8 images as the loaders return them: float32 in [0, 1] when `normalize`, rows when `flatten`.

    >>> prepare_images(np.full((2, 1, 2, 2), 255, np.uint8), flatten=True, normalize=True).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """
    X = X.astype(np.float32) / np.float32(255) if normalize else X
    return X.reshape(len(X), -1) if flatten else X


def flatten(X: np.ndarray) -> np.ndarray:
    """X as (N, features) rows.

    >>> flatten(np.zeros((5, 1, 8, 8))).shape
    (5, 64)
    """
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def one_hot(y: np.ndarray, classes: int) -> np.ndarray:
    """Integer labels (N,) as float32 rows (N, classes) with a single 1.

    >>> one_hot(np.array([0, 2]), 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"one_hot: y must be a 1-D array of integer labels, got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"one_hot: labels must lie in [0, {classes}), got values from {y.min()} to {y.max()}")
    out = np.zeros((len(y), classes), np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out
