"""Looking inside training, as the course work did: per-layer weight and gradient statistics and histograms
over time for small MLPs on MNIST, with tanh, LeakyReLU and ReLU hidden units, each trained with Adam
and with Adagrad, and the gradient flow (mean |grad| per layer) of all six runs side by side.

    python -m demos.monitor --data-dir path/to/mnist   # ~12 s on 2 idle cores
    python -m demos.monitor --quick                                  # a few seconds on a small subset

An nn.Monitor attached to each optim.Solver samples every parameter every 10 iterations. Written to
runs/monitor/: first_layer.png (the first layer's weight spread and norm and its gradient's, in all
six runs), stats_relu_adam.png and stats_relu_adagrad.png (Monitor.plot_stats: the same per layer),
histograms_tanh_adam.png and histograms_relu_adam.png (Monitor.plot_histograms: weights and gradients
over time), gradient_flow.png (all six runs), report.html (all of it, with the final per-layer
statistics of the ReLU + Adam run) and metrics.json.
"""

import sys
import time

import autograd
import nn
import optim
from demos.common import plot
from demos.mnist_common import finish, load_mnist_split, parse_args, solver_data

ACTIVATIONS = {"tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU, "relu": nn.ReLU}
OPTIMIZERS = {"adam": 1e-3, "adagrad": 1e-2}  # name -> learning rate (the course work's defaults)
FULL = dict(hidden=(256, 128, 64), epochs=3, batch_size=100, train=20000, test=5000, every=10)
QUICK = dict(hidden=(32,), epochs=1, batch_size=50, train=1200, test=300, every=5)
# The statistics drawn per run: how wide the weights are, and how large their gradients, layer by layer.
STATS = ["std", "norm", "grad_std", "grad_norm"]


def make_model(activation, hidden: tuple) -> nn.Sequential:
    layers, width = [], 28 * 28
    for size in hidden:
        layers += [nn.Linear(width, size), activation()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 10))


def run(activation: str, optimizer: str, data: dict, config: dict, seed: int) -> tuple:
    """Train one MLP with a Monitor attached; returns (solver, monitor, gradient flow at the end)."""
    autograd.manual_seed(seed)  # every run starts from draws of the same generator state
    model = make_model(ACTIVATIONS[activation], config["hidden"])
    solver = optim.Solver(
        model,
        solver_data(data),
        update_rule=optimizer,
        optim_config={"learning_rate": OPTIMIZERS[optimizer]},
        num_epochs=config["epochs"],
        batch_size=config["batch_size"],
        seed=seed,
        verbose=False,
    )
    # Gradient histograms double the monitor's cost, but they are half of what this demo is about.
    monitor = nn.Monitor(every=config["every"], bins=40, grad_histograms=True).attach(solver)
    solver.train()
    # One more backward pass on held-out images, for the gradient flow of the trained net.
    model.train()
    model.zero_grad()
    autograd.cross_entropy(model(data["X_val"][:500]), data["y_val"][:500]).backward()
    return solver, monitor, nn.monitor.gradient_flow(model)


def draw(monitors: dict, flows: dict, out) -> dict:
    """caption -> PNG path of each figure: a chosen few, since each picture costs about a second to draw."""
    # Every run samples the same iterations, so one layer's series from each run can share one plot.
    first = {name: monitor.history["0.weight"] for name, monitor in monitors.items()}
    iterations = monitors["relu_adam"].iterations
    figures = {
        "first layer's weights in every run: spread, norm and gradient": plot(
            "comparison picture", autograd.viz.plot_layer_stats, iterations, first, out / "first_layer.png", STATS
        ),
        "mean |grad| per layer after training, every run": plot(
            "gradient flow picture", autograd.viz.plot_gradient_flow, flows, out / "gradient_flow.png"
        ),
    }
    for name in ("relu_adam", "relu_adagrad"):
        figures[f"{name}: weight and gradient statistics per layer"] = plot(
            "statistics picture", monitors[name].plot_stats, out / f"stats_{name}.png", stats=STATS
        )
    for name in ("tanh_adam", "relu_adam"):
        figures[f"{name}: histograms of weights and gradients over time"] = plot(
            "histogram picture", monitors[name].plot_histograms, out / f"histograms_{name}.png"
        )
    return figures


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("monitor", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = load_mnist_split(args, flatten=True, train=config["train"], test=config["test"])
    print(f"MNIST subset: {len(data['X_train'])} training, {len(data['X_val'])} validation images")

    metrics, monitors, flows = {}, {}, {}
    for activation in ACTIVATIONS:
        for optimizer in OPTIMIZERS:
            name = f"{activation}_{optimizer}"
            run_started = time.perf_counter()
            solver, monitors[name], flows[name] = run(activation, optimizer, data, config, args.seed)
            metrics[f"{name}_test_accuracy"] = solver.check_accuracy(data["X_test"], data["y_test"])
            metrics[f"{name}_best_val_accuracy"] = solver.best_val_acc
            metrics[f"{name}_train_time_s"] = round(time.perf_counter() - run_started, 2)
            print(f"{name:>18}: test accuracy {metrics[f'{name}_test_accuracy']:.2%}")
    figures = draw(monitors, flows, out)
    metrics["monitor_samples_per_run"] = len(monitors["relu_adam"].iterations)
    settings = {
        "data": "MNIST subset, standardized rows",
        "model": f"MLP 784-{'-'.join(map(str, config['hidden']))}-10",
        "activations": ", ".join(ACTIVATIONS),
        "optimizers": ", ".join(f"{k} (lr {v})" for k, v in OPTIMIZERS.items()),
        **{k: v for k, v in config.items() if k != "hidden"},
        "seed": args.seed,
        "quick": args.quick,
    }
    latest = monitors["relu_adam"].latest()
    finish(out, "nodegrad: inside training (Monitor)", settings, metrics, figures, started, stats=latest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
