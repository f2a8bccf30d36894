"""Hyperparameter searches with `optim.sweep`, spread over local processes or MPI ranks, as the course ran
them one after another: a random search over learning rate, L2 regularization, initial weight scale and
dropout for a two-layer net (the course's CIFAR-10 search; here on the bundled 8x8 digits, or MNIST or
CIFAR-10 with --data), and a grid of hidden size x depth x activation on two moons.

    python -m demos.search                                   # both searches, one process per core
    mpirun -np 2 python -m demos.search                      # the same table, over 2 ranks
    python -m demos.search --data mnist --data-dir path/to/mnist --trials 20
    python -m demos.search --quick                           # a few seconds

Every configuration trains as it would alone with the same seed, wherever it runs. Writes
runs/search/random/ and runs/search/grid/ (sweep.csv, sweep.json and sweep.png each) and metrics.json
with the best configuration of each search.
"""

import functools
import sys
import time

import numpy as np

import nn
import optim
from demos.common import finish, mlp, parse_args, run_folder, weight_scale_init_
from nn import datasets, distributed
from nn.data import train_val_split
from optim.sweeps import varying

RANDOM_SPACE = {
    "lr": optim.log_uniform(1e-2, 5e-1),
    "reg": optim.log_uniform(1e-5, 1e-1),
    "weight_scale": optim.log_uniform(1e-3, 3e-1),
    "dropout": optim.uniform(0.0, 0.6),
}
FULL = dict(trials=24, epochs=20, hidden=100, batch_size=100, moons_epochs=100, points=500)
QUICK = dict(trials=4, epochs=1, hidden=16, batch_size=50, moons_epochs=5, points=200)
GRID = dict(hidden=[3, 10, 20], depth=[1, 2], activation=["tanh", "sigmoid", "relu"])
QUICK_GRID = dict(hidden=[3, 10], depth=[1], activation=["tanh", "relu"])
ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


@functools.cache
def load(name: str, data_dir: str | None, seed: int, quick: bool) -> dict:
    """The classification data of the random search as Solver data: rows of pixels, float32.

    Cached per process: a worker loads the data once for all the configurations it trains.
    """
    if name == "digits":
        X_train, y_train, X_val, y_val, _, _ = datasets.load_digits(seed=seed)
    else:
        loader = datasets.load_mnist if name == "mnist" else datasets.load_cifar10
        X, y, _, _ = loader(data_dir)
        X_train, y_train, X_val, y_val = train_val_split(X, y, 1 / 12, seed=seed)
    if quick:
        X_train, y_train = X_train[:400], y_train[:400]
    flat = [datasets.flatten(X).astype(np.float32) for X in (X_train, X_val)]
    return dict(X_train=flat[0], y_train=y_train, X_val=flat[1], y_val=y_val)


def build_random(config: dict) -> optim.Solver:
    """The course's two-layer net (affine, ReLU, dropout, affine) with N(0, weight_scale^2) weights, trained
    by SGD with momentum; `reg` is L2 on the weight matrices only, as the course's loss had it."""
    data = load(config["data"], config["data_dir"], config["seed"], config["quick"])
    model = mlp([data["X_train"].shape[1], config["hidden"], 10], nn.ReLU, dropout=config["dropout"])
    weight_scale_init_(model, config["weight_scale"])
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    groups = [{"params": matrices, "weight_decay": config["reg"]}, {"params": vectors}]
    return optim.Solver(
        model,
        data,
        optimizer=optim.SGD(groups, lr=config["lr"], momentum=0.9),
        lr_decay=0.95,
        num_epochs=config["epochs"],
        batch_size=config["batch_size"],
        seed=config["seed"],
        verbose=False,
    )


def build_grid(config: dict) -> optim.Solver:
    """A net of `depth` hidden layers of `hidden` units on two moons, trained with Adam."""
    X, y = datasets.make_moons(config["points"], noise=0.2, seed=config["seed"])
    data = dict(zip(("X_train", "y_train", "X_val", "y_val"), train_val_split(X, y, 0.3, seed=config["seed"])))
    sizes = [2, *[config["hidden"]] * config["depth"], 2]
    model = mlp(sizes, ACTIVATIONS[config["activation"]])
    return optim.Solver(
        model,
        data,
        optimizer=optim.Adam(model.parameters(), lr=0.01),
        num_epochs=config["epochs"],
        batch_size=50,
        num_train_samples=None,
        seed=config["seed"],
        verbose=False,
    )


def best(records: list) -> dict:
    """The best configuration's searched values (those that vary) and its validation accuracy."""
    top = max(records, key=lambda r: r["best_val_acc"])
    searched = varying([r["config"] for r in records])
    return {"config": {k: top["config"][k] for k in searched}, "best_val_acc": top["best_val_acc"]}


def main(argv=None) -> int:
    started = time.perf_counter()
    options = [
        (("--data",), dict(choices=("digits", "mnist", "cifar10"), default="digits", help="random search data")),
        (("--data-dir",), dict(default=None, help="folder of the MNIST or CIFAR-10 files (--data mnist|cifar10)")),
        (("--trials",), dict(type=int, default=None, help="configurations of the random search (default 24)")),
    ]
    args = parse_args("search", __doc__, argv, options)
    settings = QUICK if args.quick else FULL
    trials = args.trials or settings["trials"]
    out = run_folder(args.out) if distributed.get_rank() == 0 else args.out
    fixed = dict(data=args.data, data_dir=args.data_dir, seed=args.seed, quick=args.quick)
    fixed.update(hidden=settings["hidden"], epochs=settings["epochs"], batch_size=settings["batch_size"])
    configs = optim.random_configs(trials, {**RANDOM_SPACE, **fixed}, seed=args.seed)
    load(args.data, args.data_dir, args.seed, args.quick)  # here first: a missing file fails before any worker
    print(f"random search: {trials} configurations of lr, reg, weight_scale, dropout on {args.data}")
    random = optim.sweep(build_random, configs, out=out / "random")
    axes = QUICK_GRID if args.quick else GRID
    grid = optim.grid(**axes, epochs=[settings["moons_epochs"]], points=[settings["points"]], seed=[args.seed])
    print(f"grid: {len(grid)} nets on two moons (hidden x depth x activation)")
    moons = optim.sweep(build_grid, grid, out=out / "grid")
    if distributed.get_rank() != 0:
        return 0
    metrics = {
        "random_search": {**best(random), "configurations": len(random)},
        "grid": {**best(moons), "configurations": len(moons)},
        "workers": sorted({r["worker"] for r in random + moons}),
    }
    for name in ("random_search", "grid"):
        print(
            f"best of the {name.replace('_', ' ')}: {metrics[name]['best_val_acc']:.2%} with {metrics[name]['config']}"
        )
    files = {name: out / name / "sweep.png" for name in ("random", "grid")}
    files = {name: path if path.exists() else None for name, path in files.items()}
    finish(out, started, metrics, {**fixed, "trials": trials, "grid": axes}, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
