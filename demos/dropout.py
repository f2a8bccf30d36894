"""Dropout against overfitting, as in the course's dropout experiment: a wide MLP (two hidden layers of 512)
learns 100 noisy two-moons points, once without dropout and once with it, from the same initial weights
and batches. Without dropout the net goes on fitting the noise: its boundary bends round single points
and its validation accuracy falls after a peak. With dropout the boundary stays smoother and validation
accuracy holds, so the gap between training and validation accuracy is smaller.

Two moons rather than the digits: on a small digits subset the net without dropout already generalizes
as well as the data allow (measured: 100, 150 and 400 images, p = 0.5 and 0.75, Adam and SGD), so
dropout has nothing to show there; noisy 2-D points overfit visibly.

    python -m demos.dropout            # two runs of 150 epochs (about 35 s)
    python -m demos.dropout --quick    # a few seconds

Writes runs/dropout/: curves.png (training and validation accuracy per epoch and their gap, with and without
dropout), boundaries.png (both decision boundaries over the training points) and metrics.json.
"""

import sys
import time

import numpy as np

import autograd
import optim
from demos.common import epoch_panel, finish, fit, mlp, parse_args, plot, plot_lines, run_folder, tile_pictures
from nn import datasets

FULL = dict(
    examples=100,
    validation=600,
    noise=0.35,
    hidden=(512, 512),
    probabilities=(0.0, 0.5),
    epochs=150,
    batch_size=10,
    lr=1e-3,
)
QUICK = dict(
    examples=100,
    validation=200,
    noise=0.35,
    hidden=(64, 64),
    probabilities=(0.0, 0.5),
    epochs=5,
    batch_size=20,
    lr=1e-3,
)
LAST = 10  # epochs averaged for the final figures: single epochs on 100 points are noisy


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("dropout", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    n = config["examples"]
    # Many validation points, so that a difference of a point or two in accuracy is more than chance.
    X, y = datasets.make_moons(n + config["validation"], noise=config["noise"], seed=args.seed)
    data = (X[:n], y[:n], X[n:], y[n:])
    boundaries = run_folder(out / "boundaries")
    pictures = []

    runs = {}
    for p in config["probabilities"]:
        autograd.manual_seed(args.seed)  # same initial weights; dropout adds no parameters
        model = mlp([2, *config["hidden"], 2], dropout=p)
        # The last parameters, not the best-validation ones: the overfitting is what is to be seen.
        solver = fit(
            model,
            data,
            optim.Adam(model.parameters(), lr=config["lr"]),
            config["epochs"],
            config["batch_size"],
            args.seed,
            keep_best=False,
        )
        label = f"dropout {p:g}" if p else "no dropout"
        train_acc, val_acc = solver.train_acc_history, solver.val_acc_history
        runs[label] = dict(
            p=p,
            train_accuracy=train_acc,
            val_accuracy=val_acc,
            final_train_accuracy=float(np.mean(train_acc[-LAST:])),
            final_val_accuracy=float(np.mean(val_acc[-LAST:])),
        )
        model.eval()
        pictures.append(
            plot(
                "decision boundary",
                autograd.viz.plot_decision_boundary,
                model,
                X[:n],
                y[:n],
                boundaries / f"p{p:g}.png",
                resolution=150,
            )
        )
        runs[label]["gap"] = runs[label]["final_train_accuracy"] - runs[label]["final_val_accuracy"]
        r = runs[label]
        print(
            f"{label:>12}: train {r['final_train_accuracy']:.1%}, validation {r['final_val_accuracy']:.1%} "
            f"(gap {r['gap']:.1%})"
        )

    panels = [
        epoch_panel("training accuracy", {k: r["train_accuracy"] for k, r in runs.items()}),
        epoch_panel("validation accuracy", {k: r["val_accuracy"] for k, r in runs.items()}),
        epoch_panel(
            "gap: training - validation",
            {k: np.subtract(r["train_accuracy"], r["val_accuracy"]) for k, r in runs.items()},
            ylabel="accuracy gap",
        ),
    ]
    files = {
        "curves": plot(
            "curves",
            plot_lines,
            out / "curves.png",
            panels,
            title=f"{n} noisy two-moons points, with and without dropout",
        ),
        "boundaries": None,
    }
    if None not in pictures:
        titles = [
            f"{k}: train {r['final_train_accuracy']:.0%}, val {r['final_val_accuracy']:.0%}" for k, r in runs.items()
        ]
        files["boundaries"] = tile_pictures(out / "boundaries.png", pictures, len(pictures), titles)
    metrics = {"runs": runs, "gap_reduction": runs["no dropout"]["gap"] - min(r["gap"] for r in runs.values())}
    settings = {
        "data": f"make_moons(noise={config['noise']}): {n} points for training, {len(data[3])} for validation",
        "model": f"MLP 2-{'-'.join(map(str, config['hidden']))}-2, ReLU, Dropout after each hidden layer",
        "optimizer": "Adam",
        "final": f"mean of the last {LAST} epochs",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
