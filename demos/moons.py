"""Decision boundaries of small nets on 2-D data, as in the course's planar-data experiments: 3-layer
nets (input, one hidden layer, output) with tanh, sigmoid or ReLU and 3 to 20 hidden units on two
moons; deeper tanh nets of 3 to 10 layers; and the same activations on four Gaussian blobs.

    python -m demos.moons            # 15 + 5 + 4 small nets, about 15 s
    python -m demos.moons --quick    # a few seconds

Writes runs/moons/: activation_x_hidden.png (one boundary per activation and hidden size), depth.png
(one per depth), blobs.png, each setting's own picture under boundaries/, and metrics.json with the
training and validation accuracy of every net.
"""

import sys
import time

import autograd
import nn
import optim
from demos.common import finish, fit, mlp, parse_args, plot, run_folder, tile_pictures
from nn import datasets
from nn.data import train_val_split

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
FULL = dict(
    points=500,
    hidden=(3, 5, 10, 15, 20),
    layers=(3, 4, 6, 8, 10),
    depth_width=10,
    epochs=150,
    batch_size=50,
    lr=0.01,
    resolution=150,
)
QUICK = dict(
    points=200, hidden=(3, 10), layers=(3, 6), depth_width=10, epochs=10, batch_size=50, lr=0.01, resolution=40
)


def train_and_draw(model: nn.Module, data: tuple, config: dict, seed: int, path) -> dict:
    """Train with Adam, draw the boundary over the training points, return the accuracies and the picture."""
    solver = fit(
        model, data, optim.Adam(model.parameters(), lr=config["lr"]), config["epochs"], config["batch_size"], seed
    )
    model.eval()
    picture = plot(
        "decision boundary",
        autograd.viz.plot_decision_boundary,
        model,
        data[0],
        data[1],
        path,
        resolution=config["resolution"],
    )
    scores = dict(
        train_accuracy=solver.check_accuracy(data[0], data[1]), val_accuracy=solver.check_accuracy(data[2], data[3])
    )
    return dict(**scores, picture=picture)


def sweep(settings: dict, data: tuple, config: dict, seed: int, folder) -> dict:
    """{label: result} for {label: (layer sizes, activation)}, every net from the same seed."""
    results = {}
    for label, (sizes, activation) in settings.items():
        autograd.manual_seed(seed)
        path = folder / f"{label.replace(' ', '_').replace(',', '')}.png"
        results[label] = train_and_draw(mlp(sizes, activation), data, config, seed, path)
        print(f"  {label:<22} train {results[label]['train_accuracy']:.1%}  val {results[label]['val_accuracy']:.1%}")
    return results


def tile(name: str, results: dict, ncols: int, title: str, out) -> str | None:
    pictures = [r["picture"] for r in results.values()]
    if None in pictures:  # no matplotlib: the boundaries were not drawn either
        return None
    titles = [f"{label}: val {r['val_accuracy']:.0%}" for label, r in results.items()]
    return plot(name, tile_pictures, out / f"{name}.png", pictures, ncols, titles, title)


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("moons", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    boundaries = run_folder(out / "boundaries")
    moons = train_val_split(*datasets.make_moons(config["points"], noise=0.2, seed=args.seed), 0.3, seed=args.seed)
    blobs = train_val_split(
        *datasets.make_blobs(config["points"], centers=4, std=1.5, seed=args.seed), 0.3, seed=args.seed
    )

    print("activation x hidden size, two moons:")
    grid = {
        f"{name}, {h} hidden": ([2, h, 2], activation)
        for name, activation in ACTIVATIONS.items()
        for h in config["hidden"]
    }
    grid = sweep(grid, moons, config, args.seed, boundaries)
    print(f"depth, tanh with {config['depth_width']} units per hidden layer, two moons:")
    depth = {f"{n} layers": ([2] + [config["depth_width"]] * (n - 2) + [2], nn.Tanh) for n in config["layers"]}
    depth = sweep(depth, moons, config, args.seed, boundaries)
    print("four blobs:")
    blob_nets = {
        "linear": ([2, 4], nn.Identity),
        **{f"{name}, 10 hidden": ([2, 10, 4], activation) for name, activation in ACTIVATIONS.items()},
    }
    blob_nets = sweep({f"blobs {k}": v for k, v in blob_nets.items()}, blobs, config, args.seed, boundaries)

    files = {
        "activation_x_hidden": tile(
            "activation_x_hidden",
            grid,
            len(config["hidden"]),
            "3-layer nets on two moons: activation (rows) x hidden units (columns)",
            out,
        ),
        "depth": tile(
            "depth",
            depth,
            len(config["layers"]),
            f"tanh nets of {config['depth_width']} units per hidden layer: depth",
            out,
        ),
        "blobs": tile("blobs", blob_nets, len(blob_nets), "four Gaussian blobs", out),
    }
    accuracies = {
        sweep_name: {label: {k: v for k, v in r.items() if k != "picture"} for label, r in results.items()}
        for sweep_name, results in (("activation_x_hidden", grid), ("depth", depth), ("blobs", blob_nets))
    }
    metrics = {
        "accuracies": accuracies,
        "best_moons_val_accuracy": max(r["val_accuracy"] for r in (*grid.values(), *depth.values())),
    }
    settings = {
        "data": f"make_moons({config['points']}, noise=0.2), make_blobs({config['points']}, 4 centers)",
        "split": "70 % train, 30 % validation",
        "optimizer": "Adam",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
