"""SGD, SGD with momentum, RMSProp, Adagrad and Adam, as in the course's update-rule comparison: the same
MLP on the 8x8 digits, started from the very same initial weights (one state_dict copied into each run)
and fed the same batches, so only the update rule differs.

    python -m demos.optimizers            # five runs of 15 epochs (about 15 s)
    python -m demos.optimizers --quick    # a few seconds

Writes runs/optimizers/: curves.png (loss per step, training and validation accuracy per epoch, one line
per optimizer) and metrics.json (final loss, accuracies and test accuracy of each).
"""

import sys
import time

import numpy as np

import autograd
import optim
from demos.common import epoch_panel, finish, fit, mlp, parse_args, plot, plot_lines, run_folder, smoothed_loss_panel
from nn import datasets

# name -> (optimizer class, options): the course's learning rates for each rule, scaled to this problem.
OPTIMIZERS = {
    "sgd": (optim.SGD, dict(lr=0.02)),
    "sgd+momentum": (optim.SGD, dict(lr=0.02, momentum=0.9)),
    "rmsprop": (optim.RMSprop, dict(lr=1e-3)),
    "adagrad": (optim.Adagrad, dict(lr=1e-2)),
    "adam": (optim.Adam, dict(lr=1e-3)),
}
FULL = dict(hidden=(100, 100), epochs=15, batch_size=32)
QUICK = dict(hidden=(32,), epochs=2, batch_size=64)


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("optimizers", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    X, y, X_val, y_val, X_test, y_test = datasets.load_digits(seed=args.seed)
    data = (X.reshape(len(X), -1), y, X_val.reshape(len(X_val), -1), y_val)

    autograd.manual_seed(args.seed)
    model = mlp([64, *config["hidden"], 10])
    initial = model.state_dict()  # copies: every run starts from these weights
    runs = {}
    for name, (optimizer_class, options) in OPTIMIZERS.items():
        model.load_state_dict(initial)
        # The solver's seed fixes the batch order, so every rule sees the same batches too.
        solver = fit(
            model,
            data,
            optimizer_class(model.parameters(), **options),
            config["epochs"],
            config["batch_size"],
            args.seed,
        )
        runs[name] = dict(
            loss=solver.loss_history,
            train_acc=solver.train_acc_history,
            val_acc=solver.val_acc_history,
            test_accuracy=solver.check_accuracy(X_test.reshape(len(X_test), -1), y_test),
            options=options,
        )
        print(
            f"{name:>13}: final loss {np.mean(solver.loss_history[-10:]):.3f}, "
            f"val accuracy {solver.val_acc_history[-1]:.1%}, test accuracy {runs[name]['test_accuracy']:.1%}"
        )

    window = 10  # the per-step loss is noisy; a running mean separates the rules
    panels = [
        smoothed_loss_panel(runs, window),
        epoch_panel("training accuracy", {n: r["train_acc"] for n, r in runs.items()}),
        epoch_panel("validation accuracy", {n: r["val_acc"] for n, r in runs.items()}),
    ]
    files = {
        "curves": plot(
            "curves",
            plot_lines,
            out / "curves.png",
            panels,
            title="update rules from identical initial weights, digits MLP",
        )
    }
    metrics = {
        name: {
            "final_loss": float(np.mean(r["loss"][-window:])),
            "final_train_accuracy": r["train_acc"][-1],
            "final_val_accuracy": r["val_acc"][-1],
            "best_val_accuracy": max(r["val_acc"]),
            "test_accuracy": r["test_accuracy"],
            "options": r["options"],
            "val_accuracy_per_epoch": r["val_acc"],
        }
        for name, r in runs.items()
    }
    settings = {
        "data": "load_digits, flattened to 64",
        "model": f"MLP 64-{'-'.join(map(str, config['hidden']))}-10 ReLU",
        **config,
        "seed": args.seed,
        "quick": args.quick,
        "note": "test accuracy is of each run's best-validation parameters",
    }
    finish(out, started, {"optimizers": metrics}, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
