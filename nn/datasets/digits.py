"""The 8x8 handwritten digits that ship inside scikit-learn (1,797 images, no download): `load_digits`."""

import numpy as np

from nn.data import train_val_split


def load_digits(seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2) -> tuple:
    """(X_train, y_train, X_val, y_val, X_test, y_test) from scikit-learn's bundled digits.

    X is float32 (N, 1, 8, 8) in [0, 1] (the raw values run 0..16), y int64 in 0..9. The three
    parts are a random split by `seed`; the fractions are of the whole set.

    Raises:
        ImportError: scikit-learn is not installed.
        ValueError: the fractions leave no training data.
    """
    if not (0 < val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1):
        raise ValueError(
            f"load_digits: val_fraction and test_fraction must be positive with a sum below 1, "
            f"got {val_fraction} and {test_fraction}"
        )
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise ImportError(
            "load_digits: needs scikit-learn, got ImportError; run `pip install scikit-learn` "
            "(or `pip install nodegrad[demos]`)"
        ) from None
    images, labels = sklearn_load_digits(return_X_y=True)
    X = (images.reshape(-1, 1, 8, 8) / 16.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    X_rest, y_rest, X_test, y_test = train_val_split(X, labels.astype(np.int64), test_fraction, seed=rng)
    X_train, y_train, X_val, y_val = train_val_split(X_rest, y_rest, val_fraction / (1 - test_fraction), seed=rng)
    return X_train, y_train, X_val, y_val, X_test, y_test
