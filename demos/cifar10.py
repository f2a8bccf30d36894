"""CIFAR-10 with fully connected nets, as in the course work: a 2-layer net reached about 50 % validation
accuracy, a deep net with batch norm and dropout 55 %. Both are here (--variant two_layer|deep|both).

    python -m demos.cifar10 --data-dir ~/data/cifar-10-batches-py   # both nets; ~3 min on 2 idle cores
    python -m demos.cifar10 --quick --data-dir DIR                   # a few seconds on a subset

The data are the six batches of the official python archive (data_batch_1..5, test_batch), which this
machine may not have: then the demo exits with code 2 and load_cifar10's message, which names the
files and every folder searched. 1,000 training images are held out for validation, as the course
work did; pixels are standardized per channel with the training set's statistics.
Written to runs/cifar10/: curves_<variant>.png, weights_two_layer.png, report.html, metrics.json.
"""

import sys
import time

import numpy as np

import autograd
import nn
from demos.common import plot
from demos.mnist_common import curves, finish, load_or_exit, parse_args, subset, train_classifier

VARIANTS = ("two_layer", "deep")
VALIDATION = 1000
FULL = {
    "two_layer": dict(hidden=(500,), epochs=10, batch_size=200, lr=1e-3, lr_decay=0.9, weight_decay=1e-3),
    "deep": dict(hidden=(512, 256, 128), dropout=0.3, epochs=20, batch_size=200, lr=1e-3, lr_decay=0.92),
}
QUICK = {
    "two_layer": dict(hidden=(32,), epochs=1, batch_size=50, lr=1e-3, lr_decay=1.0),
    "deep": dict(hidden=(32, 16), dropout=0.3, epochs=1, batch_size=50, lr=1e-3, lr_decay=1.0),
}
QUICK_IMAGES = (600, 200)  # training (with validation) and test images of a --quick run


def make_model(variant: str, config: dict) -> nn.Sequential:
    """two_layer: Linear, ReLU, Linear. deep: (Linear, BatchNorm1d, ReLU, Dropout) per hidden layer, Linear."""
    layers, width = [], 3 * 32 * 32
    for size in config["hidden"]:
        if variant == "deep":
            # Batch norm's shift makes the linear layer's bias redundant.
            layers += [
                nn.Linear(width, size, bias=False),
                nn.BatchNorm1d(size),
                nn.ReLU(),
                nn.Dropout(config["dropout"]),
            ]
        else:
            layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 10))


def load(args) -> dict:
    """CIFAR-10 as standardized rows, with VALIDATION training images held out (fewer in a --quick run)."""
    X_train, y_train, X_test, y_test = load_or_exit(nn.datasets.load_cifar10, args.data_dir)
    rng = np.random.default_rng(args.seed)
    if args.quick:
        X_train, y_train = subset(rng, X_train, y_train, QUICK_IMAGES[0])
        X_test, y_test = subset(rng, X_test, y_test, QUICK_IMAGES[1])
    held_out = min(VALIDATION, len(X_train) // 6)
    order = rng.permutation(len(X_train))
    val, fit = order[:held_out], order[held_out:]
    X_fit, mean, std = nn.datasets.normalize(X_train[fit])
    return dict(
        X_train=nn.datasets.flatten(X_fit),
        y_train=y_train[fit],
        X_val=nn.datasets.flatten(nn.datasets.normalize(X_train[val], mean, std)[0]),
        y_val=y_train[val],
        X_test=nn.datasets.flatten(nn.datasets.normalize(X_test, mean, std)[0]),
        y_test=y_test,
    )


def main(argv=None) -> int:
    started = time.perf_counter()
    variant_option = (
        ("--variant",),
        dict(choices=(*VARIANTS, "both"), default="both", help="which network to train (default: both)"),
    )
    args = parse_args("cifar10", __doc__, argv, [variant_option])
    configs = QUICK if args.quick else FULL
    data = load(args)  # before the output folder, so that missing data leaves nothing behind
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"CIFAR-10: {len(data['X_train'])} training, {len(data['X_val'])} validation, {len(data['X_test'])} test")

    variants = VARIANTS if args.variant == "both" else (args.variant,)
    metrics, figures, settings = {}, {}, {}
    for variant in variants:
        config = configs[variant]
        autograd.manual_seed(args.seed)  # initial weights and dropout masks
        model = make_model(variant, config)
        solver, test_accuracy, train_time = train_classifier(model, data, config, args)
        metrics.update(
            {
                f"{variant}_test_accuracy": test_accuracy,
                f"{variant}_best_val_accuracy": solver.best_val_acc,
                f"{variant}_epochs": solver.epoch,
                f"{variant}_train_time_s": round(train_time, 2),
            }
        )
        print(f"{variant}: validation {solver.best_val_acc:.2%}, test {test_accuracy:.2%}")
        figures[f"{variant}: loss per step, accuracy per epoch"] = curves(solver, out / f"curves_{variant}.png")
        settings[variant] = ", ".join(f"{k}={v}" for k, v in config.items())
        if variant == "two_layer":
            # Hidden units' weights as colour images: the templates a 2-layer net learns on CIFAR-10.
            weights = model[0].weight.value[:64].reshape(-1, 3, 32, 32)
            figures["two_layer: first-layer weights of 64 hidden units"] = plot(
                "weight picture", autograd.viz.image_grid, weights, out / "weights_two_layer.png"
            )
    settings.update(
        data="CIFAR-10 rows of 3072, standardized per channel", optimizer="Adam", seed=args.seed, quick=args.quick
    )
    finish(out, "nodegrad: fully connected nets on CIFAR-10", settings, metrics, figures, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
