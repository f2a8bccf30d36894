"""A Wasserstein GAN with gradient penalty (WGAN-GP, Gulrajani et al. 2017) learns a ring of 8 Gaussians in
the plane: a generator MLP maps 2-D noise to points, a critic MLP scores points, and the critic's gradient
with respect to its input is kept near norm 1, the 1-Lipschitz condition of the Wasserstein-1 distance.

The critic minimizes E[D(fake)] - E[D(real)] + lambda E[(||grad_x D(x_hat)||_2 - 1)^2] at random points
x_hat on the segments between real and generated samples. grad_x D comes from
`autograd.grad(..., create_graph=True)`, so that the penalty, built from it, can be differentiated with
respect to the critic's weights:

    x_hat ──> critic ──> D ──grad──> grad_x D ──> (||.|| - 1)**2 ──> penalty ──backward──> critic weights

Five critic steps per generator step (n_critic = 5); the generator minimizes -E[D(G(z))] for 2-D noise z.
Both use Adam with the paper's betas (0.5, 0.9) and lambda = 10, but the authors' toy script runs 100,000 steps
at lr 1e-4; to finish in a minute the critic starts at lr 1e-3 and the generator at 4e-4 (slower, so the
critic keeps up: with the generator at 1e-3 some seeds lose every mode), both falling linearly to 1e-5.

    python -m demos.wgan_gp            # 2-128-128-128-{2,1} LeakyReLU nets, 2000 generator steps (about 1 min)
    python -m demos.wgan_gp --quick    # a few seconds

Writes runs/wgan_gp/: samples.png (real and generated points over the critic's filled contours), training.png
(the Wasserstein estimate, the penalty and the mean gradient norm at x_hat per step) and metrics.json (modes
covered, fraction of samples within 3 sigma of a mode, mean gradient norm, Wasserstein estimate, history).
"""

import sys
import time

import numpy as np

import autograd
import nn
import optim
from demos.common import finish, new_figure, parse_args, plot, plot_lines, run_folder, save_figure

FULL = dict(
    hidden=128,
    layers=3,
    batch=256,
    steps=2000,
    n_critic=5,
    lr=1e-3,
    generator_lr=4e-4,
    final_lr=1e-5,
    penalty_weight=10.0,
    samples=2000,
)
QUICK = dict(
    hidden=32,
    layers=2,
    batch=64,
    steps=40,
    n_critic=5,
    lr=1e-3,
    generator_lr=4e-4,
    final_lr=1e-4,
    penalty_weight=10.0,
    samples=500,
)
MODES, RADIUS, SIGMA = 8, 2.0, 0.05  # the data: MODES Gaussians of std SIGMA on a circle of radius RADIUS
BETAS = (0.5, 0.9)
SLOPE = 0.2  # LeakyReLU's negative slope
MIN_HITS = 0.02  # a mode counts as covered when at least this fraction of the samples lies within 3 sigma of it
LOG_EVERY = 10  # generator steps between the values kept in metrics.json


def centers() -> np.ndarray:
    angles = 2 * np.pi * np.arange(MODES) / MODES
    return RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_real(rng: np.random.Generator, n: int, dtype=np.float32) -> np.ndarray:
    """n points of the mixture: a mode picked uniformly, plus N(0, SIGMA^2) noise on each coordinate."""
    modes = rng.integers(0, MODES, n)
    return (centers()[modes] + SIGMA * rng.standard_normal((n, 2))).astype(dtype)


def make_mlp(inputs: int, hidden: int, layers: int, outputs: int, dtype=np.float32) -> nn.Sequential:
    """inputs -> hidden x layers -> outputs, LeakyReLU(0.2) between the linear layers."""
    sizes = [inputs] + [hidden] * layers + [outputs]
    modules = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        modules += [nn.Linear(fan_in, fan_out, dtype=dtype), nn.LeakyReLU(SLOPE)]
    return nn.Sequential(*modules[:-1])


def interpolates(real: np.ndarray, fake: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """x_hat = eps * real + (1 - eps) * fake, one eps ~ U(0, 1) per pair."""
    eps = rng.random((len(real), 1)).astype(real.dtype)
    return eps * real + (1 - eps) * fake


def gradient_penalty(critic: nn.Module, x_hat: np.ndarray) -> tuple:
    """(penalty, norms): the mean of (||grad_x D(x_hat)||_2 - 1)^2 over the batch, a graph that reaches the
    critic's weights, and the gradient norms at each x_hat (an array).

    Each D(x_hat_i) depends on its own x_hat_i only, so the vector-Jacobian product with ones gives the
    gradient of every point at once.
    """
    x = autograd.tensor(x_hat, requires_grad=True)
    scores = critic(x)
    (gradient,) = autograd.grad(scores, x, grad_outputs=np.ones(scores.shape), create_graph=True)
    norms = ((gradient**2).sum(axis=1)).sqrt()
    return ((norms - 1) ** 2).mean(), norms.value


def train(generator: nn.Module, critic: nn.Module, config: dict, rng: np.random.Generator) -> dict:
    """n_critic critic steps, then one generator step, `steps` times.

    Returns, every LOG_EVERY generator steps (and at the last), the means over the critic steps since the
    last record of: the Wasserstein estimate E[D(real)] - E[D(fake)], the penalty and the gradient norm at x_hat.
    """
    dtype = generator[0].weight.dtype
    g_opt = optim.Adam(generator.parameters(), lr=config["generator_lr"], betas=BETAS)
    c_opt = optim.Adam(critic.parameters(), lr=config["lr"], betas=BETAS)
    # Both learning rates fall linearly to final_lr: at a constant lr the generator keeps drifting between modes.
    schedules = [
        optim.lr_scheduler.LinearLR(o, 1.0, config["final_lr"] / o.param_groups[0]["lr"], config["steps"])
        for o in (g_opt, c_opt)
    ]
    batch, weight = config["batch"], config["penalty_weight"]
    history = {"step": [], "wasserstein": [], "penalty": [], "gradient_norm": []}
    window = {key: [] for key in history if key != "step"}
    for step in range(1, config["steps"] + 1):
        for _ in range(config["n_critic"]):
            real = sample_real(rng, batch, dtype)
            with autograd.no_grad():
                fake = generator(rng.standard_normal((batch, 2)).astype(dtype)).value
            c_opt.zero_grad()
            distance = critic(real).mean() - critic(fake).mean()
            penalty, norms = gradient_penalty(critic, interpolates(real, fake, rng))
            loss = -distance + weight * penalty
            loss.backward()
            c_opt.step()
            for key, value in zip(window, (distance.item(), penalty.item(), norms.mean())):
                window[key].append(value)
        g_opt.zero_grad()
        (-critic(generator(rng.standard_normal((batch, 2)).astype(dtype))).mean()).backward()
        g_opt.step()
        for schedule in schedules:
            schedule.step()
        if step == 1 or step % LOG_EVERY == 0 or step == config["steps"]:
            history["step"].append(step)
            for key, values in window.items():
                history[key].append(float(np.mean(values)))
                values.clear()
    return history


def coverage(samples: np.ndarray) -> dict:
    """How well `samples` (N, 2) cover the modes: the fraction within 3 sigma of some mode, and per mode the
    fraction within 3 sigma of it; a mode is hit when that fraction is at least MIN_HITS."""
    distances = np.linalg.norm(samples[:, None, :] - centers()[None], axis=2)
    nearest = distances.argmin(axis=1)
    close = distances.min(axis=1) <= 3 * SIGMA
    per_mode = np.array([np.mean(close & (nearest == k)) for k in range(MODES)])
    return {
        "modes_hit": int(np.sum(per_mode >= MIN_HITS)),
        "fraction_within_3_sigma": float(close.mean()),
        "fraction_per_mode": per_mode,
    }


def draw_samples(path, real: np.ndarray, fake: np.ndarray, critic: nn.Module, title: str) -> str:
    """Real and generated points over the critic's filled contours (the critic is high where it sees data)."""
    figure = new_figure("draw_samples", (6.0, 5.2))
    ax = figure.subplots()
    limit = RADIUS + 1.0
    xs = np.linspace(-limit, limit, 121)
    grid_x, grid_y = np.meshgrid(xs, xs)
    points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(real.dtype)
    with autograd.no_grad():
        scores = critic(points).value.reshape(grid_x.shape)
    filled = ax.contourf(grid_x, grid_y, scores, levels=20, cmap="viridis", alpha=0.75)
    figure.colorbar(filled, ax=ax, label="critic D(x)")
    ax.scatter(real[:, 0], real[:, 1], s=4, c="white", edgecolors="none", alpha=0.6, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:red", edgecolors="none", alpha=0.6, label="generated")
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xlabel="x0", ylabel="x1")
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    return save_figure(figure, path, title, dpi=100)


def pictures(history: dict, real, fake, critic, cover: dict, out) -> dict:
    steps = history["step"]
    panels = [
        dict(
            title="Wasserstein estimate E[D(real)] - E[D(fake)]",
            xlabel="generator step",
            ylabel="estimate",
            lines={"critic's estimate": (steps, history["wasserstein"])},
        ),
        dict(
            title="gradient penalty",
            xlabel="generator step",
            ylabel="mean (||grad D|| - 1)^2",
            logy=True,
            lines={"penalty": (steps, history["penalty"])},
        ),
        dict(
            title="mean ||grad_x D(x_hat)||",
            xlabel="generator step",
            ylabel="norm",
            lines={"gradient norm": (steps, history["gradient_norm"]), "target 1": ([0, steps[-1]], [1, 1])},
        ),
    ]
    title = (
        f"{cover['modes_hit']} of {MODES} modes covered, "
        f"{cover['fraction_within_3_sigma']:.0%} of the samples within 3 sigma of a mode"
    )
    return {
        "samples": plot("samples picture", draw_samples, out / "samples.png", real, fake, critic, title),
        "training": plot("training curves", plot_lines, out / "training.png", panels, title="WGAN-GP training"),
    }


def main(argv=None) -> int:
    started = time.perf_counter()
    args = parse_args("wgan_gp", __doc__, argv)
    config = QUICK if args.quick else FULL
    out = run_folder(args.out)

    autograd.manual_seed(args.seed)  # initial weights
    rng = np.random.default_rng(args.seed)  # data, noise and interpolation points
    generator = make_mlp(2, config["hidden"], config["layers"], 2)
    critic = make_mlp(2, config["hidden"], config["layers"], 1)
    trained = time.perf_counter()
    history = train(generator, critic, config, rng)
    train_time = time.perf_counter() - trained

    real = sample_real(rng, config["samples"])
    with autograd.no_grad():
        fake = generator(rng.standard_normal((config["samples"], 2)).astype(np.float32)).value
        wasserstein = float(critic(real).value.mean() - critic(fake).value.mean())
    _, norms = gradient_penalty(critic, interpolates(real, fake, rng))
    cover = coverage(fake)
    print(
        f"{config['steps']} generator steps in {train_time:.1f} s: {cover['modes_hit']} of {MODES} modes covered, "
        f"{cover['fraction_within_3_sigma']:.1%} of {config['samples']} samples within 3 sigma of a mode; "
        f"Wasserstein estimate {wasserstein:.3f}, mean gradient norm at x_hat {norms.mean():.3f}"
    )

    files = pictures(history, real, fake, critic, cover, out)
    metrics = {
        **cover,
        "modes": MODES,
        "wasserstein_estimate": wasserstein,
        "mean_gradient_norm": float(norms.mean()),
        "history": history,
        "train_time_s": round(train_time, 2),
    }
    settings = {
        "data": f"{MODES} Gaussians (std {SIGMA}) on a circle of radius {RADIUS}",
        "model": f"generator 2-{'-'.join([str(config['hidden'])] * config['layers'])}-2 and critic "
        f"2-{'-'.join([str(config['hidden'])] * config['layers'])}-1, LeakyReLU({SLOPE}), float32; noise N(0, I_2)",
        "loss": "critic: E[D(fake)] - E[D(real)] + penalty_weight * E[(||grad D(x_hat)|| - 1)^2]; "
        "generator: -E[D(fake)]",
        "optimizer": f"Adam, betas {BETAS}, n_critic critic steps per generator step",
        "mode_covered_when": f"at least {MIN_HITS:.0%} of the samples within 3 sigma of it",
        **config,
        "seed": args.seed,
        "quick": args.quick,
    }
    finish(out, started, metrics, settings, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
