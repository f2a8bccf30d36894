"""Batch normalization, as in the course's two experiments on a deep MLP (here on the 8x8 digits):
a sweep of the initial weight scale with and without BatchNorm1d after every hidden linear layer, where
batch norm trains across a far wider range of scales; and the batch-size effect, where batch norm's
per-batch statistics get noisier, and training slower, as batches shrink.

    python -m demos.batchnorm            # 2 x 12 weight scales, then 4 batch-size runs (about 30 s)
    python -m demos.batchnorm --quick    # a few seconds

Writes runs/batchnorm/: weight_scale.png (best validation and training accuracy and final loss against
weight scale, with and without batch norm), batch_size.png (training and validation accuracy per epoch
for each batch size) and metrics.json.
"""

import math
import sys
import time

import numpy as np

import autograd
import optim
from demos.common import (
    epoch_panel,
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
    hidden=(50,) * 6,
    weight_scales=np.logspace(-4, 0, 12).round(6).tolist(),
    scale_epochs=10,
    scale_batch_size=50,
    batch_sizes=(5, 10, 50),
    batch_epochs=10,
    lr=1e-3,
)
QUICK = dict(
    hidden=(32,) * 3,
    weight_scales=[1e-3, 1e-1],
    scale_epochs=2,
    scale_batch_size=100,
    batch_sizes=(10, 100),
    batch_epochs=1,
    lr=1e-3,
)


def train(
    batchnorm: bool, weight_scale: float | None, batch_size: int, epochs: int, data: tuple, config: dict, seed: int
) -> optim.Solver:
    """Adam on a deep ReLU MLP; weight_scale None keeps the layers' default initialization."""
    autograd.manual_seed(seed)
    model = mlp([64, *config["hidden"], 10], batchnorm=batchnorm)
    if weight_scale is not None:
        weight_scale_init_(model, weight_scale)
    # The largest scales overflow without batch norm; that is the point of the sweep, not a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        return fit(model, data, optim.Adam(model.parameters(), lr=config["lr"]), epochs, batch_size, seed)


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("batchnorm", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    X, y, X_val, y_val, _, _ = datasets.load_digits(seed=args.seed)
    data = (X.reshape(len(X), -1), y, X_val.reshape(len(X_val), -1), y_val)
    variants = {"batch norm": True, "no batch norm": False}

    scales = config["weight_scales"]
    sweep = {}
    for label, batchnorm in variants.items():
        solvers = [
            train(batchnorm, s, config["scale_batch_size"], config["scale_epochs"], data, config, args.seed)
            for s in scales
        ]
        sweep[label] = dict(
            best_val_accuracy=[s.best_val_acc for s in solvers],
            best_train_accuracy=[max(s.train_acc_history) for s in solvers],
            final_loss=[s.loss_history[-1] if math.isfinite(s.loss_history[-1]) else None for s in solvers],
        )
        good = [scale for scale, acc in zip(scales, sweep[label]["best_val_accuracy"]) if acc >= 0.9]
        sweep[label]["weight_scales_reaching_90_val"] = good
        print(
            f"{label:>14}: best validation accuracy >= 90 % at {len(good)} of {len(scales)} weight scales"
            + (f" ({min(good):g} to {max(good):g})" if good else "")
        )

    batch = {}
    for size in config["batch_sizes"]:
        for label, batchnorm in variants.items():
            if not batchnorm and size != config["batch_sizes"][-1]:
                continue  # one baseline without batch norm, at the largest batch size
            solver = train(batchnorm, None, size, config["batch_epochs"], data, config, args.seed)
            batch[f"{label}, batch {size}"] = dict(
                train_accuracy=solver.train_acc_history,
                val_accuracy=solver.val_acc_history,
                best_val_accuracy=solver.best_val_acc,
            )
    for name, r in batch.items():
        print(f"{name:>22}: best validation accuracy {r['best_val_accuracy']:.1%}")

    scale_panels = [
        weight_scale_panel(sweep, scales, "best_val_accuracy", "best validation accuracy"),
        weight_scale_panel(sweep, scales, "best_train_accuracy", "best training accuracy"),
        final_loss_panel(sweep, scales, "final loss (diverged runs left out)"),
    ]
    batch_panels = [
        epoch_panel(f"{kind} accuracy", {k: r[f"{kind}_accuracy"] for k, r in batch.items()})
        for kind in ("train", "val")
    ]
    depth = len(config["hidden"]) + 1
    files = {
        "weight_scale": plot(
            "weight-scale sweep",
            plot_lines,
            out / "weight_scale.png",
            scale_panels,
            title=f"{depth}-layer MLP on digits: initial weight scale, with and without batch norm",
        ),
        "batch_size": plot(
            "batch-size sweep",
            plot_lines,
            out / "batch_size.png",
            batch_panels,
            title="batch size and batch norm (default initialization)",
        ),
    }
    metrics = {"weight_scales": scales, "weight_scale_sweep": sweep, "batch_size_sweep": batch}
    settings = {
        "data": "load_digits, flattened to 64",
        "model": f"MLP 64-{'-'.join(map(str, config['hidden']))}-10, ReLU, optional BatchNorm1d",
        "optimizer": "Adam",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
