"""Curvature during training: the top eigenvalue of the Hessian of the training loss with respect to all
the weights of an MNIST MLP (784-128-10, ReLU), measured every few steps while plain SGD trains it on
one fixed batch of 1,000 images (full-batch gradient descent), once per learning rate.

Gradient descent with learning rate lr is stable on a quadratic only where its curvature is below 2/lr.
With lr = 0.1 the curvature grows during training ("progressive sharpening", 7 -> 18) and turns back
just below 2/lr = 20; with lr = 0.5 it starts above 2/lr = 4, the loss jumps (and the curvature with
it), and training settles where the curvature hovers at 2/lr ("the edge of stability", Cohen et al.
2021) until the falling loss lowers it.

The eigenvalue comes from power iteration on Hessian-vector products, never the Hessian itself (here
101,770 x 101,770): the gradient g is recorded as a graph (`autograd.grad(..., create_graph=True)`), and
the gradient of sum(g_i * v_i) is H v. Each measurement starts from the previous eigenvector.

    python -m demos.curvature --data-dir path/to/mnist   # 2 learning rates x 200 steps (about 35 s)
    python -m demos.curvature --quick                      # a few seconds

Without MNIST (no --data-dir, nothing in $NODEGRAD_MNIST, $NODEGRAD_DATA/mnist or ~/.cache/nodegrad/mnist)
it runs on scikit-learn's 8x8 digits instead. Writes runs/curvature/: curvature.png (the loss, and the
top eigenvalue against the 2/lr line of each run) and metrics.json (every eigenvalue measured, 2/lr).
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import finish, plot, plot_lines, run_folder
from demos.mnist_common import load_or_exit, parse_args, subset
from nn import datasets

FULL = dict(examples=1000, hidden=128, lrs=(0.1, 0.5), steps=200, every=5, power_iterations=10)
QUICK = dict(examples=300, hidden=32, lrs=(0.1, 0.5), steps=30, every=10, power_iterations=8)


def load_data(args, examples: int) -> tuple:
    """(X, y, description): `examples` random training images as rows, from MNIST or else the 8x8 digits.

    An explicit --data-dir without the MNIST files ends the run (exit code 2), as in the other MNIST demos.
    """
    rng = np.random.default_rng(args.seed)
    if args.data_dir is not None:
        X, y, _, _ = load_or_exit(datasets.load_mnist, args.data_dir, flatten=True)
    else:
        try:
            X, y, _, _ = datasets.load_mnist(flatten=True)
        except FileNotFoundError:
            print("note: no MNIST found (see --data-dir); using scikit-learn's 8x8 digits instead")
            X, y, _, _, _, _ = datasets.load_digits(seed=args.seed)
            X, y = subset(rng, X.reshape(len(X), -1), y, examples)
            return X, y, f"{len(X)} of scikit-learn's 8x8 digits, as rows of 64"
    X, y = subset(rng, X, y, examples)
    return datasets.standardize_mnist(X), y, f"{len(X)} MNIST training images, standardized rows of 784"


def make_model(inputs: int, hidden: int, classes: int = 10, dtype=np.float32) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden, dtype=dtype), nn.ReLU(), nn.Linear(hidden, classes, dtype=dtype))


def hessian_vector_product(loss: autograd.TensorNode, params: list):
    """The function v -> H v, for H the Hessian of `loss` with respect to `params`.

    v and H v are lists of arrays shaped as the parameters. The gradient is recorded once; each product
    differentiates sum(g_i * v_i) through that graph again (which is kept for the next product).
    """
    grads = autograd.grad(loss, params, create_graph=True)

    def product(vectors: list) -> list:
        dot = sum((g * v).sum() for g, v in zip(grads, vectors))
        hv = autograd.grad(dot, params, retain_graph=True, allow_unused=True)
        # A parameter the gradient depends on only linearly (none here) has a zero Hessian row.
        return [np.zeros_like(v) if h is None else h.value for h, v in zip(hv, vectors)]

    return product


def _dot(a: list, b: list) -> float:
    return float(sum(np.vdot(x, y) for x, y in zip(a, b)))


def top_eigenvalue(product, vectors: list, iterations: int, tol: float = 1e-4) -> tuple:
    """Power iteration: the eigenvalue of largest magnitude of the operator `product`, and its eigenvector.

    Starts from `vectors` (a list of arrays); stops after `iterations` products, or once the Rayleigh
    quotient v.Hv changes by less than `tol` relatively. Returns (eigenvalue, unit eigenvector).
    """
    eigenvalue = None
    for _ in range(iterations):
        norm = np.sqrt(_dot(vectors, vectors))
        unit = [v / norm for v in vectors]
        vectors = product(unit)
        previous, eigenvalue = eigenvalue, _dot(unit, vectors)
        if previous is not None and abs(eigenvalue - previous) <= tol * abs(eigenvalue):
            break
    return eigenvalue, unit


def train(X: np.ndarray, y: np.ndarray, lr: float, config: dict, seed: int) -> dict:
    """Full-batch SGD on (X, y) with learning rate `lr`, the top Hessian eigenvalue every `every` steps.

    Returns the loss before each step and after the last, the steps measured and their eigenvalues, and
    the final training accuracy.
    """
    autograd.manual_seed(seed)  # the same initial weights for every learning rate
    model = make_model(X.shape[1], config["hidden"])
    params = list(model.parameters())
    optimizer = optim.SGD(params, lr=lr)
    rng = np.random.default_rng(seed)
    vectors = [rng.standard_normal(p.shape).astype(p.dtype) for p in params]
    run = {"loss": [], "eigenvalue_steps": [], "top_eigenvalues": []}
    for step in range(config["steps"] + 1):
        loss = autograd.cross_entropy(model(X), y)
        run["loss"].append(loss.item())
        if step % config["every"] == 0 or step == config["steps"]:
            product = hessian_vector_product(loss, params)
            eigenvalue, vectors = top_eigenvalue(product, vectors, config["power_iterations"])
            run["eigenvalue_steps"].append(step)
            run["top_eigenvalues"].append(eigenvalue)
        if step == config["steps"]:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with autograd.no_grad():
        run["train_accuracy"] = float(np.mean(model(X).value.argmax(axis=1) == y))
    return run


def picture(runs: dict, steps: int, out) -> str | None:
    loss = dict(
        title="training loss (the whole fixed batch)",
        xlabel="step",
        ylabel="cross-entropy",
        logy=True,
        lines={name: (np.arange(len(r["loss"])), r["loss"]) for name, r in runs.items()},
    )
    curvature = dict(
        title="top eigenvalue of the Hessian",
        xlabel="step",
        ylabel="eigenvalue",
        logy=True,
        lines={
            **{name: (r["eigenvalue_steps"], r["top_eigenvalues"]) for name, r in runs.items()},
            **{
                f"2/lr = {r['two_over_lr']:g} ({name})": ([0, steps], [r["two_over_lr"]] * 2)
                for name, r in runs.items()
            },
        },
    )
    return plot(
        "curvature picture",
        plot_lines,
        out / "curvature.png",
        [loss, curvature],
        title="sharpness during full-batch SGD, against the stability limit 2/lr",
    )


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("curvature", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)
    try:
        X, y, data = load_data(args, config["examples"])
    except ImportError as error:  # no MNIST, and no scikit-learn for the digits
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"data: {data}")

    runs = {}
    for lr in config["lrs"]:
        name = f"lr {lr:g}"
        began = time.perf_counter()
        runs[name] = {"lr": lr, "two_over_lr": 2 / lr, **train(X, y, lr, config, args.seed)}
        r = runs[name]
        r["max_top_eigenvalue"] = max(r["top_eigenvalues"])
        r["final_loss"] = r["loss"][-1]
        print(
            f"{name}: top eigenvalue {r['top_eigenvalues'][0]:.2f} -> max {r['max_top_eigenvalue']:.2f} -> "
            f"{r['top_eigenvalues'][-1]:.2f} (2/lr = {2 / lr:g}); loss {r['loss'][0]:.3f} -> {r['final_loss']:.4f}, "
            f"train accuracy {r['train_accuracy']:.1%} ({time.perf_counter() - began:.1f} s)"
        )

    files = {"curvature": picture(runs, config["steps"], out)}
    metrics = {
        "data": "MNIST" if "MNIST" in data else "digits",
        "two_over_lr": {name: r["two_over_lr"] for name, r in runs.items()},
        "top_eigenvalues": {name: r["top_eigenvalues"] for name, r in runs.items()},
        "runs": runs,
    }
    settings = {
        "data": data,
        "model": f"MLP {X.shape[1]}-{config['hidden']}-10, ReLU, float32",
        "optimizer": "SGD on the whole fixed batch (full-batch gradient descent)",
        "measurement": "power iteration on Hessian-vector products, warm-started from the last eigenvector",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
