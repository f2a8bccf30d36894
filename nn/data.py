"""Minibatches over numpy arrays: batches() and train_val_split()."""

from collections.abc import Iterator

import numpy as np

from autograd.random import generator


def _rng(seed) -> np.random.Generator:
    """A Generator as given, a new one from an int seed, or the engine's (so manual_seed repeats it)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return generator()
    return np.random.default_rng(seed)


def _check_pair(where: str, X: np.ndarray, y: np.ndarray) -> None:
    if np.ndim(X) == 0 or np.ndim(y) == 0 or len(X) != len(y):
        raise ValueError(
            f"{where}: X and y must have the same length, got shapes {tuple(np.shape(X))} and {tuple(np.shape(y))}"
        )


def batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple]:
    """Yield (X_batch, y_batch) pairs covering every sample once, in shuffled order unless shuffle=False.

    Args:
        seed: an int, a Generator (advanced by each call), or None for the engine's generator.
        drop_last: skip the final batch when it is smaller than batch_size.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    _check_pair("batches", X, y)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    order = _rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    stop = len(X) - len(X) % batch_size if drop_last else len(X)

    def generate():
        for start in range(0, stop, batch_size):
            index = order[start : start + batch_size]
            yield X[index], y[index]

    return generate()


def train_val_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int | np.random.Generator | None = None
) -> tuple:
    """Shuffle and split into (X_train, y_train, X_val, y_val), with round(len(X) * val_fraction) for validation.

    >>> X_train, y_train, X_val, y_val = train_val_split(np.zeros((10, 2)), np.arange(10), 0.2, seed=0)
    >>> X_train.shape, X_val.shape, sorted(y_train.tolist() + y_val.tolist()) == list(range(10))
    ((8, 2), (2, 2), True)
    """
    _check_pair("train_val_split", X, y)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must lie in (0, 1), got {val_fraction}")
    order = _rng(seed).permutation(len(X))
    n_val = int(round(len(X) * val_fraction))
    train, val = order[n_val:], order[:n_val]
    return X[train], y[train], X[val], y[val]
