"""The one random generator behind every random op and initializer; `manual_seed` resets it."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Make dropout masks and initializers repeat from here on.

    >>> manual_seed(0); a = generator().random(); manual_seed(0); a == generator().random()
    True
    """
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    return _generator
