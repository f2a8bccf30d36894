"""A physics-informed network: an MLP u(x) learns to solve u''(x) = -pi^2 sin(pi x) on [0, 1] with
u(0) = u(1) = 0 (exact solution sin(pi x)) without ever seeing the solution, only the equation.

The loss is the mean squared residual u''(x) + pi^2 sin(pi x) at collocation points x, plus the squared
boundary values. u'' comes from differentiating the network twice with respect to its input, each time
with `autograd.grad(..., create_graph=True)`, so that the loss, built from u'', can itself be differentiated
with respect to the weights:

    x ──> MLP ──> u ──grad──> u' ──grad──> u'' ──> residual**2 ──> loss ──backward──> weights

    python -m demos.pinn            # 1-48-48-1 tanh net, 3000 Adam steps; max error 6e-5 (about 10 s)
    python -m demos.pinn --quick    # a few seconds

Writes runs/pinn/: solution.png (the network against sin(pi x), and its error), loss.png (residual and
boundary losses per step) and metrics.json (max_abs_error on a fine grid, the loss history).
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import finish, parse_args, plot, plot_lines, run_folder

FULL = dict(hidden=48, layers=2, points=64, steps=3000, lr=1e-2, final_lr=1e-4, boundary_weight=10.0, grid=1001)
QUICK = dict(hidden=16, layers=2, points=32, steps=150, lr=1e-2, final_lr=1e-3, boundary_weight=10.0, grid=201)
LOG_EVERY = 10  # steps between the losses kept in metrics.json


def exact(x: np.ndarray) -> np.ndarray:
    return np.sin(np.pi * x)


def forcing(x: np.ndarray) -> np.ndarray:
    """The right-hand side f of u'' = f."""
    return -(np.pi**2) * np.sin(np.pi * x)


def make_model(hidden: int, layers: int) -> nn.Sequential:
    """1 -> hidden -> ... -> 1 with tanh (smooth: ReLU would have u'' = 0 almost everywhere), in float64."""
    sizes = [1] + [hidden] * layers + [1]
    modules = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        modules += [nn.Linear(fan_in, fan_out, dtype=np.float64), nn.Tanh()]
    return nn.Sequential(*modules[:-1])


def second_derivative(model: nn.Module, x: autograd.TensorNode) -> autograd.TensorNode:
    """u''(x) for a batch of points x (N, 1), recorded as a graph so a loss of it can be differentiated.

    Each point's u depends on its own x only, so the vector-Jacobian product with ones gives du/dx
    point by point.
    """
    u = model(x)
    ones = np.ones(u.shape)
    (du,) = autograd.grad(u, x, grad_outputs=ones, create_graph=True)
    (d2u,) = autograd.grad(du, x, grad_outputs=ones, create_graph=True)
    return d2u


def losses(model: nn.Module, x: autograd.TensorNode, boundary: np.ndarray, boundary_weight: float) -> tuple:
    """(total, residual, boundary) losses: mean (u'' - f)**2 at x, and the mean squared boundary values."""
    residual = ((second_derivative(model, x) - forcing(x.value)) ** 2).mean()
    edge = (model(boundary) ** 2).mean()
    return residual + boundary_weight * edge, residual, edge


def train(model: nn.Module, config: dict) -> dict:
    """Adam on fixed, evenly spaced collocation points, its learning rate annealed from lr to final_lr.

    Returns the losses every LOG_EVERY steps (and at the last one): {"step", "loss", "residual", "boundary"}.
    """
    x = autograd.tensor(np.linspace(0.0, 1.0, config["points"])[:, None], requires_grad=True)
    boundary = np.array([[0.0], [1.0]])
    optimizer = optim.Adam(model.parameters(), lr=config["lr"])
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["steps"], eta_min=config["final_lr"])
    history = {"step": [], "loss": [], "residual": [], "boundary": []}
    for step in range(1, config["steps"] + 1):
        optimizer.zero_grad()
        loss, residual, edge = losses(model, x, boundary, config["boundary_weight"])
        loss.backward()
        optimizer.step()
        schedule.step()
        if step == 1 or step % LOG_EVERY == 0 or step == config["steps"]:
            for key, value in zip(("step", "loss", "residual", "boundary"), (step, loss, residual, edge)):
                history[key].append(value if key == "step" else value.item())
    return history


def pictures(grid: np.ndarray, u: np.ndarray, history: dict, out) -> dict:
    solution = [
        dict(
            title="u(x)",
            xlabel="x",
            ylabel="u",
            lines={"network": (grid, u), "exact sin(pi x)": (grid, exact(grid))},
        ),
        dict(
            title="|u(x) - sin(pi x)|",
            xlabel="x",
            ylabel="error",
            logy=True,
            lines={"error": (grid, abs(u - exact(grid)))},
        ),
    ]
    steps = history["step"]
    loss = [
        dict(
            title="training loss",
            xlabel="step",
            ylabel="loss",
            logy=True,
            lines={
                "total": (steps, history["loss"]),
                "residual: mean (u'' - f)^2": (steps, history["residual"]),
                "boundary: mean u(0)^2, u(1)^2": (steps, history["boundary"]),
            },
        )
    ]
    return {
        "solution": plot(
            "solution", plot_lines, out / "solution.png", solution, title="u'' = -pi^2 sin(pi x), u(0) = u(1) = 0"
        ),
        "loss": plot("loss curve", plot_lines, out / "loss.png", loss),
    }


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("pinn", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)

    autograd.manual_seed(args.seed)  # initial weights
    model = make_model(config["hidden"], config["layers"])
    trained = time.perf_counter()
    history = train(model, config)
    train_time = time.perf_counter() - trained
    grid = np.linspace(0.0, 1.0, config["grid"])
    with autograd.no_grad():
        u = model(grid[:, None]).value[:, 0]
    error = np.abs(u - exact(grid))
    print(
        f"{config['steps']} steps in {train_time:.1f} s: residual loss {history['residual'][0]:.3g} -> "
        f"{history['residual'][-1]:.3g}; max |u - sin(pi x)| on {config['grid']} points: {error.max():.2e}"
    )

    files = pictures(grid, u, history, out)
    metrics = {
        "max_abs_error": error.max(),
        "mean_abs_error": error.mean(),
        "boundary_values": [u[0], u[-1]],
        "first_residual_loss": history["residual"][0],
        "final_residual_loss": history["residual"][-1],
        "final_loss": history["loss"][-1],
        "history": history,
        "train_time_s": round(train_time, 2),
    }
    settings = {
        "equation": "u''(x) = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0",
        "model": f"MLP 1-{'-'.join([str(config['hidden'])] * config['layers'])}-1, tanh, float64",
        "loss": "mean (u'' - f)^2 at the collocation points + boundary_weight * mean(u(0)^2, u(1)^2)",
        "optimizer": "Adam, cosine-annealed learning rate",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
