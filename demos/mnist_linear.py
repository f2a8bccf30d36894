"""MNIST with softmax regression: the course work's linear classifier reached 92 % test accuracy; this one,
one nn.Linear(784, 10) on standardized pixels trained with Adam and a little weight decay, passes 92.5 %.

    python -m demos.mnist_linear --data-dir path/to/mnist   # ~10 s on 2 idle cores
    python -m demos.mnist_linear --quick                                  # a few seconds on a subset

Written to runs/mnist_linear/: curves.png (loss, accuracies), weights.png (each class's weights as a
28x28 template), report.html, metrics.json.
"""

import sys

import nn
from demos.mnist_common import classifier_demo

FULL = dict(epochs=30, batch_size=128, lr=1e-3, lr_decay=0.9, weight_decay=1e-4)
QUICK = dict(epochs=2, batch_size=64, lr=1e-2, lr_decay=1.0, train=1200, test=300)
SETTINGS = {"data": "MNIST rows of 784, standardized", "model": "softmax regression: Linear(784, 10)"}


def make_model(config: dict) -> nn.Module:
    return nn.Linear(28 * 28, 10)


def main(argv=None) -> int:
    return classifier_demo("mnist_linear", __doc__, argv, make_model, FULL, QUICK, SETTINGS, target=0.925)


if __name__ == "__main__":
    sys.exit(main())
