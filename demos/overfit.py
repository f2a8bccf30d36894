"""Overfitting 50 examples, the course's sanity check for a new net: a 3-layer and a 5-layer net (100 ReLU
units per hidden layer) both reach 100 % training accuracy on 50 of the 8x8 digits, but only within a
range of initial weight scales (weights ~ N(0, weight_scale**2), biases zero, as `nn.init.normal_`), and
that range is much narrower for the deeper net: too small and the signal dies out, too large and it blows up.

    python -m demos.overfit            # 2 depths x 16 weight scales, SGD, 20 epochs each (about 17 s)
    python -m demos.overfit --quick    # a few seconds

Writes runs/overfit/: sweep.png (final training accuracy and loss against weight scale, one line per
depth), curves.png (training accuracy per epoch at each depth's best weight scale) and metrics.json.
"""

import math
import sys
import time

import numpy as np

import autograd
import optim
from demos.common import (
    final_loss_panel,
    finish,
    fit,
    mlp,
    parse_args,
    plot,
    plot_lines,
    run_folder,
    weight_scale_init_,
    weight_scale_panel,
)
from nn import datasets

FULL = dict(
    examples=50,
    depths=(3, 5),
    hidden=100,
    weight_scales=np.logspace(-2, 0.5, 16).round(4).tolist(),
    epochs=20,
    batch_size=25,
    lr=0.03,
)
QUICK = dict(examples=50, depths=(3, 5), hidden=100, weight_scales=[0.1, 0.3], epochs=5, batch_size=25, lr=0.03)


def train(depth: int, weight_scale: float, data: tuple, config: dict, seed: int) -> optim.Solver:
    autograd.manual_seed(seed)
    model = weight_scale_init_(mlp([64] + [config["hidden"]] * (depth - 1) + [10]), weight_scale)
    # Too large a scale overflows to inf and NaN by design; that is a result here, not a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        return fit(
            model, data, optim.SGD(model.parameters(), lr=config["lr"]), config["epochs"], config["batch_size"], seed
        )


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("overfit", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    X, y, X_val, y_val, _, _ = datasets.load_digits(seed=args.seed)
    n = config["examples"]
    data = (X[:n].reshape(n, -1), y[:n], X_val.reshape(len(X_val), -1), y_val)

    scales = config["weight_scales"]
    results = {}
    for depth in config["depths"]:
        solvers = [train(depth, scale, data, config, args.seed) for scale in scales]
        accuracy = [s.train_acc_history[-1] for s in solvers]
        loss = [s.loss_history[-1] if math.isfinite(s.loss_history[-1]) else None for s in solvers]
        best = int(np.argmax([a - 1e-9 * (l if l is not None else 1e9) for a, l in zip(accuracy, loss)]))
        perfect = [scale for scale, a in zip(scales, accuracy) if a == 1.0]
        results[f"{depth}-layer"] = dict(
            final_train_accuracy=accuracy,
            final_loss=loss,
            best_weight_scale=scales[best],
            best_train_accuracy=accuracy[best],
            train_accuracy_per_epoch=solvers[best].train_acc_history,
            weight_scales_reaching_100=perfect,
            range_reaching_100=(max(perfect) / min(perfect)) if perfect else None,
        )
        span = f"from {min(perfect):g} to {max(perfect):g}" if perfect else "never"
        print(
            f"{depth}-layer: best {accuracy[best]:.0%} train accuracy at weight scale {scales[best]:g}; "
            f"100 % {span} ({len(perfect)} of {len(scales)} scales)"
        )

    panels = [
        weight_scale_panel(results, scales, "final_train_accuracy", "final training accuracy"),
        final_loss_panel(results, scales, "final loss (diverged runs and exact zeros left out)"),
    ]
    curves = [
        dict(
            title="training accuracy at the best weight scale",
            xlabel="epoch",
            ylabel="accuracy",
            lines={
                f"{k} (scale {r['best_weight_scale']:g})": (
                    range(len(r["train_accuracy_per_epoch"])),
                    r["train_accuracy_per_epoch"],
                )
                for k, r in results.items()
            },
        )
    ]
    files = {
        "sweep": plot(
            "sweep",
            plot_lines,
            out / "sweep.png",
            panels,
            title=f"overfitting {n} digits: sensitivity to the initial weight scale",
        ),
        "curves": plot("curves", plot_lines, out / "curves.png", curves),
    }
    metrics = {
        "weight_scales": scales,
        "depths": results,
        **{f"{k}_best_train_accuracy": r["best_train_accuracy"] for k, r in results.items()},
    }
    settings = {
        "data": f"the first {n} training images of load_digits, flattened to 64",
        "model": f"MLP, {config['hidden']} ReLU units per hidden layer",
        "optimizer": "SGD",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
