"""What the MNIST and CIFAR-10 demos share: their command line (demos.common's options plus --data-dir), loading
and splitting the data with a clear exit on missing files, the tiny subsets of --quick, and the run's end
(metrics.json, the HTML report and the printed summary)."""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import autograd
import optim
from demos import common
from demos.common import plot
from nn import datasets

VALIDATION = 5000  # images held out of the training set to pick the best epoch; the test set is only scored
EXIT_NO_DATA = 2
EXIT_NO_ONNX = 2  # --export without the onnx package: like missing data, a run that cannot do what was asked


DATA_DIR_OPTION = (
    ("--data-dir",),
    dict(
        type=Path,
        default=None,
        help="folder holding the data set's files (default: the loader's search: $NODEGRAD_MNIST or "
        "$NODEGRAD_CIFAR10, $NODEGRAD_DATA/<name>, ~/.cache/nodegrad/<name>)",
    ),
)


EXPORT_OPTION = (
    ("--export",),
    dict(
        type=Path,
        default=None,
        metavar="MODEL.onnx",
        help="write the trained model to this ONNX file, to open in https://netron.app or run in onnxruntime "
        '(needs pip install -e ".[onnx]")',
    ),
)
EXPORTED_CHECK_IMAGES = 256  # test images on which onnxruntime's outputs are compared with the engine's


def parse_args(name: str, description: str, argv=None, options=()) -> argparse.Namespace:
    """demos.common's options (--seed, --quick, --out), --data-dir, and `options`: (flags, kwargs) pairs.

    With --export (EXPORT_OPTION) but without the onnx package, exits with code 2 before any training.
    """
    args = common.parse_args(name, description, argv, options=(DATA_DIR_OPTION, *options))
    if getattr(args, "export", None) is not None:
        try:
            import onnx  # noqa: F401
        except ImportError:
            print('error: --export needs the onnx package: pip install -e ".[onnx]"', file=sys.stderr)
            sys.exit(EXIT_NO_ONNX)
    return args


def load_or_exit(loader, data_dir, **kwargs) -> tuple:
    """loader(data_dir, **kwargs), or exit with code 2 and the loader's message naming the files and folders."""
    try:
        return loader(data_dir, **kwargs)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_NO_DATA)


def subset(rng: np.random.Generator, X: np.ndarray, y: np.ndarray, n: int | None) -> tuple:
    """A random n of (X, y), or all of it when n is None or not smaller."""
    if n is None or n >= len(X):
        return X, y
    index = rng.choice(len(X), n, replace=False)
    return X[index], y[index]


def load_mnist_split(args, *, flatten: bool, train: int | None = None, test: int | None = None) -> dict:
    """MNIST standardized, split into training, validation and test sets (keys as the Solver wants, plus X_test).

    Args:
        args: the parsed command line (data_dir, seed).
        flatten: (N, 784) rows instead of (N, 1, 28, 28) images.
        train: keep a random subset of this many training + validation images (None: all 60,000).
        test: keep a random subset of this many test images (None: all 10,000).
    """
    X_train, y_train, X_test, y_test = load_or_exit(datasets.load_mnist, args.data_dir, flatten=flatten)
    rng = np.random.default_rng(args.seed)
    X_train, y_train = subset(rng, X_train, y_train, train)
    X_test, y_test = subset(rng, X_test, y_test, test)
    held_out = min(VALIDATION, len(X_train) // 6)  # a sixth of a small --quick subset
    order = rng.permutation(len(X_train))
    val, fit = order[:held_out], order[held_out:]

    return dict(
        X_train=datasets.standardize_mnist(X_train[fit]),
        y_train=y_train[fit],
        X_val=datasets.standardize_mnist(X_train[val]),
        y_val=y_train[val],
        X_test=datasets.standardize_mnist(X_test),
        y_test=y_test,
    )


def solver_data(data: dict) -> dict:
    return {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")}


def curves(solver, path) -> Path | None:
    """The solver's loss per step and accuracies per epoch, as a PNG (None without matplotlib)."""
    history = (solver.loss_history, solver.train_acc_history, solver.val_acc_history)
    return plot("training curves", autograd.viz.plot_history, *history, path=path, first_epoch=0)


def finish(out: Path, title: str, settings: dict, metrics: dict, figures: dict, started: float, stats=None) -> dict:
    """Write report.html and metrics.json into `out`, print where they are; returns the metrics written.

    Args:
        figures: caption -> PNG path (None where matplotlib was missing: left out).
        started: time.perf_counter() at the start of the run, for wall_time_s.
        stats: per-layer statistics for the report's table (e.g. Monitor.latest()).
    """
    shown = {caption: path for caption, path in figures.items() if path is not None}
    report = out / "report.html"
    files = {"report": report, **{Path(p).stem: p for p in shown.values()}}
    metrics, _ = common.write_run_metrics(out, started, metrics, settings, files)
    autograd.viz.write_report(report, title, settings, metrics, None, list(shown.items()), stats)
    print(f"wrote {out}/: metrics.json, report.html, {', '.join(Path(p).name for p in shown.values())}")
    return metrics


def export_model(model, images: np.ndarray, path: Path) -> None:
    """Write `model` to the ONNX file `path`, traced on two of `images`; with onnxruntime installed, check
    that it gives the engine's outputs on the first EXPORTED_CHECK_IMAGES of them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    autograd.onnx.export(model, images[:2], path)
    note = "open it in https://netron.app"
    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
    if onnxruntime is not None:
        images = images[:EXPORTED_CHECK_IMAGES]
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        exported = session.run(None, {"input": images})[0]
        training = model.training
        with autograd.no_grad():
            difference = np.abs(exported - model.eval()(images).value).max()
        model.train(training)
        note += f"; onnxruntime gives the engine's outputs on {len(images)} test images within {difference:.1e}"
    print(f"wrote {path}: {note}")


def train_classifier(model, data: dict, config: dict, args, **solver_options) -> tuple:
    """Train `model` with Adam through optim.Solver on `data`, then score it on the test set.

    Args:
        config: lr, lr_decay, epochs, batch_size (and weight_decay, default 0).
        args: the parsed command line (seed).
        solver_options: passed on to optim.Solver (checkpoint_path, loss_fn, ...).

    Returns:
        (solver, test accuracy, training time in s); the model holds the best validation parameters.
    """
    optimizer = optim.Adam(model.parameters(), lr=config["lr"], weight_decay=config.get("weight_decay", 0.0))
    solver = optim.Solver(
        model,
        solver_data(data),
        optimizer=optimizer,
        lr_decay=config["lr_decay"],
        num_epochs=config["epochs"],
        batch_size=config["batch_size"],
        seed=args.seed,
        **solver_options,
    )
    print(f"model: {sum(p.value.size for p in model.parameters()):,} parameters\n{model}")
    started = time.perf_counter()
    solver.train()
    train_time = time.perf_counter() - started
    return solver, solver.check_accuracy(data["X_test"], data["y_test"]), train_time


def classifier_demo(
    name: str, description: str, argv, make_model, full: dict, quick: dict, settings: dict, target: float
) -> int:
    """The whole of a demo that trains one classifier on MNIST rows: mnist_linear and mnist_mlp.

    Args:
        make_model: config -> nn.Module on (N, 784) rows.
        full, quick: the configs of a full and a --quick run (see train_classifier; train/test subset sizes).
        settings: what the report says about the data and model, besides the config.
        target: the test accuracy a full run should pass; below it, a note is printed.
    """
    started = time.perf_counter()
    args = parse_args(name, description, argv, [EXPORT_OPTION])
    config = quick if args.quick else full
    data = load_mnist_split(args, flatten=True, train=config.get("train"), test=config.get("test"))
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"MNIST: {len(data['X_train'])} training, {len(data['X_val'])} validation, {len(data['X_test'])} test rows")
    autograd.manual_seed(args.seed)  # initial weights
    model = make_model(config)
    solver, test_accuracy, train_time = train_classifier(model, data, config, args)
    first = next(p for p in model.parameters() if p.ndim == 2)
    figures = {
        "loss per step, accuracy per epoch": curves(solver, out / "curves.png"),
        # Each first-layer weight row is a 28x28 template of what that unit (or class) responds to.
        "first-layer weights as 28x28 images": plot(
            "weight picture", autograd.viz.image_grid, first.value[:100].reshape(-1, 28, 28), out / "weights.png"
        ),
    }
    metrics = {
        **common.solver_metrics(solver, test_accuracy, train_time),
        "parameters": sum(p.value.size for p in model.parameters()),
    }
    run_settings = {**settings, "optimizer": "Adam", **config, "seed": args.seed, "quick": args.quick}
    metrics = finish(out, f"nodegrad: {name}", run_settings, metrics, figures, started)
    if args.export is not None:
        export_model(model, data["X_test"], args.export)
    print(f"test accuracy {test_accuracy:.2%} after {solver.epoch} epochs, {metrics['wall_time_s']:.1f} s in all")
    if not args.quick and test_accuracy < target:
        print(f"note: below the {target:.1%} this demo usually reaches; try another --seed")
    return 0
