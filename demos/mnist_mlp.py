"""MNIST with a two-layer MLP: the course work's net with 1000 hidden units reached 93.63 % test accuracy;
the same shape (784-1000-10, ReLU) trained with Adam, a decaying learning rate and dropout passes 98 %.

    python -m demos.mnist_mlp --data-dir path/to/mnist   # ~40 s on 2 idle cores
    python -m demos.mnist_mlp --quick                                  # a few seconds on a subset
    python -m demos.mnist_mlp --export mlp.onnx                        # also write the model as ONNX

Written to runs/mnist_mlp/: curves.png (loss, accuracies), weights.png (the first 100 hidden units'
weights as 28x28 images), report.html, metrics.json; with --export, the trained model as an ONNX file
(open it in https://netron.app).
"""

import sys

import nn
from demos.mnist_common import classifier_demo

FULL = dict(hidden=1000, dropout=0.2, epochs=12, batch_size=128, lr=1e-3, lr_decay=0.8)
QUICK = dict(hidden=64, dropout=0.2, epochs=2, batch_size=64, lr=3e-3, lr_decay=1.0, train=1200, test=300)
SETTINGS = {
    "data": "MNIST rows of 784, standardized",
    "model": "Linear(784, hidden), ReLU, Dropout, Linear(hidden, 10)",
}


def make_model(config: dict) -> nn.Module:
    return nn.Sequential(
        nn.Linear(28 * 28, config["hidden"]),
        nn.ReLU(),
        nn.Dropout(config["dropout"]),  # without it the 795k weights memorize the training set by epoch 5
        nn.Linear(config["hidden"], 10),
    )


def main(argv=None) -> int:
    return classifier_demo("mnist_mlp", __doc__, argv, make_model, FULL, QUICK, SETTINGS, target=0.98)


if __name__ == "__main__":
    sys.exit(main())
