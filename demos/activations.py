"""Sigmoid against ReLU on the course's synthetic two-class set (`load_synth`): the same one-hidden-layer
net and plain SGD, only the activation differs. ReLU learns at once; sigmoid sits at the majority-class
accuracy for a few epochs, then escapes. The gradient-flow picture shows why: while it is stuck, the
sigmoid net's first-layer gradient is orders of magnitude smaller than the ReLU net's.

    python -m demos.activations            # 60,000 training points, 20 epochs each (about 6 s)
    python -m demos.activations --quick    # a few seconds

Writes runs/activations/: curves.png (validation accuracy per epoch, loss, first-layer mean |grad| per
epoch), gradient_flow.png (mean |grad| per layer at chosen epochs) and metrics.json.
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import epoch_panel, finish, fit, mlp, parse_args, plot, plot_lines, run_folder, smoothed_loss_panel
from nn import datasets
from nn.monitor import gradient_flow

# The course setting: 60,000 training and 15,000 validation points, batch 128, plain SGD, 20 epochs.
FULL = dict(points=75_000, hidden=16, epochs=20, batch_size=128, lr=0.1)
QUICK = dict(points=6_000, hidden=16, epochs=4, batch_size=128, lr=0.1)
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}
# Mean |grad| is measured on this many fixed training points, so every epoch is judged on the same batch.
PROBE = 2_000


def probe_gradients(model: nn.Module, X: np.ndarray, y: np.ndarray) -> list:
    """[(layer, mean |grad|)] of the loss on (X, y), leaving no gradient behind for the optimizer."""
    autograd.cross_entropy(model(X), y).backward()
    flow = gradient_flow(model)
    for p in model.parameters():
        p.grad = None
    return flow


def run(name: str, data: tuple, config: dict, seed: int) -> dict:
    autograd.manual_seed(seed)  # the same initial weights for both activations
    model = mlp([2, config["hidden"], 2], ACTIVATIONS[name])
    X_probe, y_probe = data[0][:PROBE], data[1][:PROBE]
    flows = [probe_gradients(model, X_probe, y_probe)]  # epoch 0: before any update

    def after_epoch(solver):
        flows.append(probe_gradients(solver.model, X_probe, y_probe))

    solver = fit(
        model,
        data,
        optim.SGD(model.parameters(), lr=config["lr"]),
        config["epochs"],
        config["batch_size"],
        seed,
        on_epoch=[after_epoch],
    )
    return dict(loss=solver.loss_history, val_acc=solver.val_acc_history, flows=flows)


def escape_epoch(val_acc: list, baseline: float) -> int | None:
    """The first epoch whose validation accuracy is 10 points above always guessing the majority class."""
    return next((epoch for epoch, acc in enumerate(val_acc) if acc > baseline + 0.1), None)


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("activations", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    data = datasets.load_synth(config["points"], seed=args.seed)
    baseline = max(np.mean(data[3]), 1 - np.mean(data[3]))  # the plateau: every point called the majority class
    runs = {name: run(name, data, config, args.seed) for name in ACTIVATIONS}

    epochs = np.arange(config["epochs"] + 1)  # Solver checks accuracy after the first update, then every epoch
    first_layer = {name: [flow[0][1] for flow in r["flows"]] for name, r in runs.items()}
    window = 50  # the per-step loss is noisy; a running mean shows the plateau
    panels = [
        epoch_panel("validation accuracy", {n: r["val_acc"] for n, r in runs.items()}),
        smoothed_loss_panel(runs, window),
        dict(
            title="first-layer mean |grad|",
            xlabel="epoch",
            ylabel="mean |grad|",
            logy=True,
            lines={n: (epochs, g) for n, g in first_layer.items()},
        ),
    ]
    escaped = escape_epoch(runs["sigmoid"]["val_acc"], baseline)
    # Three moments: sigmoid stuck (epoch 1), sigmoid once escaped, and ReLU at epoch 1 for comparison.
    moments = {"relu, epoch 1": runs["relu"]["flows"][1], "sigmoid, epoch 1": runs["sigmoid"]["flows"][1]}
    if escaped is not None and escaped > 1:
        moments[f"sigmoid, epoch {escaped}"] = runs["sigmoid"]["flows"][escaped]
    files = {
        "curves": plot("curves", plot_lines, out / "curves.png", panels, title="sigmoid vs ReLU on load_synth"),
        "gradient_flow": plot(
            "gradient flow",
            autograd.viz.flow.plot_gradient_flow,
            moments,
            out / "gradient_flow.png",
            title="mean |grad| per layer",
        ),
    }
    metrics = {
        "majority_class_accuracy": baseline,
        **{f"{n}_final_val_accuracy": r["val_acc"][-1] for n, r in runs.items()},
        **{f"{n}_best_val_accuracy": max(r["val_acc"]) for n, r in runs.items()},
        "sigmoid_escape_epoch": escaped,
        "relu_escape_epoch": escape_epoch(runs["relu"]["val_acc"], baseline),
        "val_accuracy_per_epoch": {n: r["val_acc"] for n, r in runs.items()},
        "first_layer_mean_abs_grad_per_epoch": first_layer,
    }
    settings = {
        "data": f"load_synth({config['points']})",
        "model": f"2-{config['hidden']}-2 MLP",
        "optimizer": "SGD",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    for name, r in runs.items():
        print(f"{name:>8}: validation accuracy {r['val_acc'][-1]:.1%} after {config['epochs']} epochs")
    print(f"sigmoid leaves the {baseline:.0%} plateau at epoch {escaped}")
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
