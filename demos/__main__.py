"""The main demo: a small CNN learns scikit-learn's bundled 8x8 handwritten digits in seconds, then leaves
behind a picture of its computation graph, its training curves and an HTML report.

    python -m demos            # about 5 s on two idle cores; 97-99 % test accuracy
    python -m demos --quick    # a few seconds: a tiny run that checks everything works
    python -m demos --help

Everything lands in runs/main/ (or --out): graph.svg (one forward and backward pass, ops boxed by
layer and coloured by gradient health), curves.png, filters.png, monitor.png, report.html,
metrics.json and model.npz (`make_model(FULL["channels"]).load_state_dict(nn.load(path))`).
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import draw_graph, parse_args, plot, run_folder, solver_metrics, write_metrics
from nn import datasets

TARGET_ACCURACY = 0.97
# channels of the two conv blocks, and how to train them
FULL = dict(channels=(32, 64), epochs=15, batch_size=64, lr=5e-3, lr_decay=0.9)
QUICK = dict(channels=(8, 16), epochs=2, batch_size=64, lr=1e-2, lr_decay=1.0)


def make_model(channels: tuple[int, int]) -> nn.Sequential:
    """Two conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool): 8x8 -> 4x4 -> 2x2, then a linear classifier."""
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False),  # batch norm right after cancels any bias
        nn.BatchNorm2d(c1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False),
        nn.BatchNorm2d(c2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c2 * 2 * 2, 10),
    )


def draw_one_step(model: nn.Module, X: np.ndarray, y: np.ndarray, path):
    """Draw one training-mode forward and backward pass on a few examples; the model is left as it was."""
    state = model.state_dict()  # a training-mode pass moves batch norm's running statistics
    model.train()
    with autograd.record_grad_stats(), nn.record_scopes(model) as scopes:
        loss = autograd.cross_entropy(model(X), y)
        loss.backward()
    model.load_state_dict(state)
    for p in model.parameters():
        p.grad = None
    return draw_graph(loss, path, params=dict(model.named_parameters()), clusters=scopes.clusters)


def train(config: dict, seed: int) -> tuple:
    """Load the digits, build the model and train it with Adam through the Solver (and its progress bar).

    Returns:
        The solver (its model holds the best parameters), the monitor, the test set, the training time in s.
    """
    autograd.manual_seed(seed)  # initial weights
    X_train, y_train, X_val, y_val, X_test, y_test = datasets.load_digits(seed=seed)
    model = make_model(config["channels"])
    print(f"digits: {len(X_train)} training, {len(X_val)} validation, {len(X_test)} test images of 8x8")
    print(f"model: {sum(p.value.size for p in model.parameters()):,} parameters\n{model}")
    solver = optim.Solver(
        model,
        dict(X_train=X_train, y_train=y_train, X_val=X_val, y_val=y_val),
        optimizer=optim.Adam(model.parameters(), lr=config["lr"]),
        lr_decay=config["lr_decay"],
        num_epochs=config["epochs"],
        batch_size=config["batch_size"],
        seed=seed,  # batch order
    )
    monitor = nn.Monitor(every=5, bins=0).attach(solver)
    started = time.perf_counter()
    solver.train()  # ends with the parameters that scored best on validation
    return solver, monitor, (X_test, y_test), time.perf_counter() - started


def write_pictures(solver: optim.Solver, monitor: nn.Monitor, out) -> dict:
    """name -> path of each picture written (None where Graphviz or matplotlib is missing)."""
    model = solver.model
    history = (solver.loss_history, solver.train_acc_history, solver.val_acc_history)
    return {
        "graph": draw_one_step(model, solver.X_train[:8], solver.y_train[:8], out / "graph.svg"),
        "curves": plot("training curves", autograd.viz.plot_history, *history, path=out / "curves.png", first_epoch=0),
        "filters": plot("filter picture", autograd.viz.image_grid, model[0].weight.value[:, 0], out / "filters.png"),
        "monitor": plot("monitor picture", monitor.plot_stats, out / "monitor.png", stats=["std", "grad_norm"]),
    }


def main(argv=None) -> int:
    start = time.perf_counter()
    args = parse_args("main", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)

    try:
        solver, monitor, (X_test, y_test), train_time = train(config, args.seed)
    except ImportError as error:  # scikit-learn, which ships the digits, is missing
        print(f"error: {error}", file=sys.stderr)
        return 1
    test_accuracy = solver.check_accuracy(X_test, y_test)

    files = write_pictures(solver, monitor, out)
    files["model"] = out / "model.npz"
    nn.save(solver.model.state_dict(), files["model"])
    channels = config["channels"]
    settings = {
        "data": "scikit-learn digits, 8x8, 10 classes",
        "model": f"conv{channels[0]}-bn-relu-pool, conv{channels[1]}-bn-relu-pool, linear",
        "parameters": sum(p.value.size for p in solver.model.parameters()),
        "optimizer": "Adam",
        **{k: v for k, v in config.items() if k != "channels"},
        "seed": args.seed,
        "quick": args.quick,
    }
    metrics = solver_metrics(solver, test_accuracy, train_time)
    last_sample = {
        name: {stat: series[stat][-1] for stat in ("mean", "std", "norm", "grad_norm")}
        for name, series in monitor.history.items()
    }
    captions = {
        "curves": "loss per step, accuracy per epoch",
        "filters": "first-layer 3x3 filters",
        "monitor": "weight spread and gradient norm per parameter",
    }
    figures = [(caption, files[key]) for key, caption in captions.items() if files[key] is not None]
    files["report"] = out / "report.html"
    metrics["wall_time_s"] = round(time.perf_counter() - start, 2)
    title = "nodegrad main demo: a CNN on 8x8 digits"
    autograd.viz.write_report(files["report"], title, settings, metrics, files["graph"], figures, last_sample)
    written = {k: v for k, v in files.items() if v is not None}
    files["metrics"] = write_metrics(out / "metrics.json", {**metrics, "settings": settings, "files": written})

    correct = round(test_accuracy * len(y_test))
    print(
        f"\ntest accuracy {test_accuracy:.1%} ({correct}/{len(y_test)}) after {solver.epoch} epochs, "
        f"{metrics['wall_time_s']:.1f} s in all"
    )
    if not args.quick and test_accuracy < TARGET_ACCURACY:
        print(f"note: below the {TARGET_ACCURACY:.0%} this demo usually reaches; try another --seed")
    print(f"wrote {out}/:")
    for key, path in files.items():
        if path is not None:
            print(f"  {path.name:<13} {key}")
    print(f"open {files['report']} in a browser to see the whole run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
