"""One MNIST training epoch of a small CNN with Adam, engine vs PyTorch: the time a user waits.

The model mirrors the plain network of demos/mnist_cnn.py (conv3x3(12)-ReLU-pool-conv3x3(24)-ReLU-
pool-FC 128-ReLU-FC 10; built here with nn because benchmarks import nn/optim/autograd, never demos),
trained with Adam (lr 1e-3; the demo's one-cycle schedule changes no timing) on batches of 64 of the
60,000 standardized training images in one shuffled order: 938 steps. Only the steps are timed
(forward, cross-entropy, zero_grad, backward, Adam, loss.item()); loading, standardizing and gathering
each batch are not. PyTorch trains the same architecture from
the same initial weights on the same batches, in a block of its own after the engine's. Each first
warms up on the epoch's first batch.
"""

import functools
import math
import time

import numpy as np

import autograd as ag
import nn
import optim
from benchmarks.train_step import warm_up
from nn import datasets

try:
    import torch
except ImportError:
    torch = None

CHANNELS = (12, 24)  # as demos/mnist_cnn.py's plain variant
HIDDEN = 128
BATCH_SIZE = 64
LR = 1e-3


def load_mnist_train(data_dir) -> tuple[np.ndarray, np.ndarray] | str:
    """MNIST's standardized training images (N, 1, 28, 28) and labels, or why they could not be found.

    Looks in `data_dir` when given, then in the loader's own places ($NODEGRAD_MNIST, $NODEGRAD_DATA/mnist,
    ~/.cache/nodegrad/mnist).
    """
    searched = []
    for folder in dict.fromkeys([data_dir, None]):
        try:
            X, y, _, _ = datasets.load_mnist(folder)
        except FileNotFoundError as error:
            # The loader's message lists each folder searched on a line of its own, between a header and a hint.
            searched += [line.strip() for line in str(error).splitlines()[1:-1]]
            continue
        return datasets.standardize_mnist(X), y
    return f"MNIST's four IDX files not found in: {'; '.join(searched)} (pass --data-dir or set $NODEGRAD_MNIST)"


def _libraries(framework: str) -> tuple:
    """(layers, optimizers, as_tensor) of `framework`: nn and optim mirror torch.nn and torch.optim."""
    if framework == "engine":
        return nn, optim, lambda array: array
    return torch.nn, torch.optim, torch.from_numpy


def model(layers):
    """demos/mnist_cnn.py's plain model, 28x28 -> conv 3x3 -> pool -> conv 3x3 -> pool -> 7x7 -> FC -> FC 10,
    built with `layers` (nn or torch.nn, which spell it alike)."""
    c1, c2 = CHANNELS
    return layers.Sequential(
        layers.Conv2d(1, c1, 3, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(2),
        layers.Conv2d(c1, c2, 3, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(2),
        layers.Flatten(),
        layers.Linear(c2 * 7 * 7, HIDDEN),
        layers.ReLU(),
        layers.Linear(HIDDEN, 10),
    )


def stepper(framework: str, state_dict: dict):
    """(step(x, y) -> loss, convert(x, y) -> step's arguments) for a fresh `framework` model loaded with
    `state_dict` (the engine's names and shapes are PyTorch's), and its Adam."""
    layers, optimizers, as_tensor = _libraries(framework)
    net = model(layers)
    net.load_state_dict({key: as_tensor(value.copy()) for key, value in state_dict.items()})
    optimizer = optimizers.Adam(net.parameters(), lr=LR)

    def step(x, y):
        loss = layers.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, lambda x, y: (as_tensor(x), as_tensor(y))


def measure(
    X: np.ndarray, y: np.ndarray, frameworks: list[str], fraction: float, warmup_s: float, batch_size: int = BATCH_SIZE
) -> dict:
    """{framework: {"epoch_s", ...}}: one epoch of batches of `batch_size` over (X, y), or its first `fraction`.

    With fraction < 1 only the first steps run and "epoch_s" is their time scaled to the whole epoch
    ("extrapolated": true).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"epoch.measure: fraction must be in (0, 1], got {fraction}")
    total_steps = math.ceil(len(X) / batch_size)
    steps = max(1, math.ceil(total_steps * fraction))
    order = np.random.default_rng(0).permutation(len(X))
    batches = [order[i * batch_size : (i + 1) * batch_size] for i in range(steps)]
    ag.manual_seed(0)
    initial = model(nn).state_dict()
    return {framework: _train(framework, initial, X, y, batches, total_steps, warmup_s) for framework in frameworks}


def _train(framework: str, initial: dict, X, y, batches: list, total_steps: int, warmup_s: float) -> dict:
    """Train `framework`'s model from `initial` over `batches` of (X, y), timing only the steps."""
    step, convert = stepper(framework, initial)
    first = convert(X[batches[0]], y[batches[0]])
    warm_up(functools.partial(step, *first), warmup_s, min_runs=1)
    seconds, losses = 0.0, []
    for index in batches:
        xb, yb = convert(X[index], y[index])  # gathering a batch is data loading: not timed
        t0 = time.perf_counter()
        losses.append(step(xb, yb))
        seconds += time.perf_counter() - t0
    steps = len(batches)
    return {
        "epoch_s": round(seconds * total_steps / steps, 3),
        "ms_per_step": round(seconds / steps * 1e3, 3),
        "measured_steps": steps,
        "epoch_steps": total_steps,
        "extrapolated": steps < total_steps,
        "mean_loss": round(float(np.mean(losses)), 4),
    }
