"""The main demo: a two-layer network learns two interleaved spirals, with nothing but the engine.

Run `python -m demos`. It prints the loss as it trains and the final training accuracy.
"""

import time

import numpy as np

import autograd as ag


def spirals(n_per_class: int, rng: np.random.Generator):
    radius = np.linspace(0.05, 1.0, n_per_class)
    X, y = [], []
    for label in range(2):
        angle = np.linspace(label * np.pi, label * np.pi + 2 * np.pi, n_per_class) + rng.normal(0, 0.1, n_per_class)
        X.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        y.append(np.full(n_per_class, label))
    return np.concatenate(X).astype(np.float32), np.concatenate(y)


def main() -> None:
    rng = np.random.default_rng(0)
    X, y = spirals(200, rng)
    hidden = 128
    w1 = ag.tensor(rng.normal(0, np.sqrt(2 / 2), (2, hidden)).astype(np.float32), requires_grad=True, name="w1")
    b1 = ag.tensor(np.zeros(hidden, np.float32), requires_grad=True, name="b1")
    w2 = ag.tensor(rng.normal(0, np.sqrt(1 / hidden), (hidden, 2)).astype(np.float32), requires_grad=True, name="w2")
    b2 = ag.tensor(np.zeros(2, np.float32), requires_grad=True, name="b2")
    params = [w1, b1, w2, b2]
    start = time.perf_counter()
    for step in range(1, 3001):
        logits = (X @ w1 + b1).relu() @ w2 + b2
        loss = ag.cross_entropy(logits, y)
        loss.backward()
        for p in params:
            p.value -= 1.0 * p.grad
            p.grad = None
        if step % 600 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}")
    with ag.no_grad():
        accuracy = ((X @ w1 + b1).relu() @ w2 + b2).argmax(axis=1) == y
    print(f"training accuracy {accuracy.mean():.1%} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
