"""The option combinations every optimizer test runs over, and a helper that feeds a fixed gradient sequence.

Each case is (class name, options); the names are the same in `optim` and `torch.optim`.
"""

import numpy as np
import pytest

import autograd as ag

OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1, nesterov=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.02, alpha=0.9, eps=1e-3)),
    ("RMSprop", dict(lr=0.02, centered=True)),
    ("RMSprop", dict(lr=0.02, momentum=0.9)),
    ("RMSprop", dict(lr=0.02, momentum=0.5, centered=True, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.7, eps=1e-3)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9))),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, eps=1e-3, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.5)),
    ("AdamW", dict(lr=0.05, weight_decay=0.0, amsgrad=True)),
    ("AdamW", dict(lr=0.05, betas=(0.5, 0.75), amsgrad=True, maximize=True)),
]

PARAMS = [
    pytest.param(name, options, id=f"{name}-{'-'.join(f'{k}={v}' for k, v in options.items()) or 'defaults'}")
    for name, options in OPTIMIZER_CASES
]

SHAPES = [(3, 4), (5,), ()]
SECOND_GROUP_LR = 0.03  # the last parameter sits in its own group with this lr


def initial_values(dtype=np.float64, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def gradient_sequence(steps: int, dtype=np.float64, seed: int = 1) -> list:
    """Per step, one gradient per parameter; the second parameter has none every third step."""
    rng = np.random.default_rng(seed)
    return [
        [
            None if (i == 1 and step % 3 == 2) else rng.standard_normal(shape).astype(dtype)
            for i, shape in enumerate(SHAPES)
        ]
        for step in range(steps)
    ]


def groups(params: list) -> list:
    return [{"params": params[:-1]}, {"params": params[-1:], "lr": SECOND_GROUP_LR}]


def make_params(dtype=np.float64) -> list:
    return [ag.tensor(v, requires_grad=True) for v in initial_values(dtype)]


def run(optimizer, params: list, grads: list) -> None:
    """Hand each step's gradients to the parameters and step."""
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = None if g is None else g.copy()
        optimizer.step()
