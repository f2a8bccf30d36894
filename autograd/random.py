"""The one random generator behind every random op and initializer; `manual_seed` resets it."""

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Make dropout masks and initializers repeat from here on.

    >>> manual_seed(0); a = generator().random(); manual_seed(0); a == generator().random()
    True
    """
    # Reseeded in place, so code that kept a reference to the generator sees the new sequence too.
    _generator.bit_generator.state = np.random.default_rng(seed).bit_generator.state


def generator() -> np.random.Generator:
    return _generator
