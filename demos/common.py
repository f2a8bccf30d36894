"""What every demo shares: its command line (--help, --seed, --quick, --out), its runs/<name>/ folder,
metrics.json, and the optional pictures that must never sink a run when Graphviz or matplotlib is missing."""

import argparse
import json
import math
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np

import autograd
import nn
import optim


def parse_args(name: str, description: str, argv=None, options=()) -> argparse.Namespace:
    """The demo's options: --seed, --quick (a few seconds, for smoke tests), --out (default runs/<name>),
    and the demo's own `options`, as (flags, argparse keyword arguments) pairs.

    `description` is shown by --help as written (give it the demo's module docstring).
    """
    parser = argparse.ArgumentParser(
        formatter_class=argparse.RawDescriptionHelpFormatter,
        prog=f"python -m demos{'' if name == 'main' else '.' + name}",
        description=description,
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the data split, initial weights and batch order (default: 0)"
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run of a few seconds, to check that it works")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs") / name,
        help=f"folder for the pictures, report and metrics (default: runs/{name})",
    )
    for flags, kwargs in options:
        parser.add_argument(*flags, **kwargs)
    return parser.parse_args(argv)


def run_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _plain(value):
    """JSON-ready: numpy scalars and arrays as Python values, paths as strings, NaN and inf as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_metrics(path: Path, metrics: dict) -> Path:
    """Write `metrics` (plus the Python and numpy versions) as JSON to `path`."""
    record = {**metrics, "versions": {"python": platform.python_version(), "numpy": np.__version__}}
    path.write_text(json.dumps(_plain(record), indent=2, allow_nan=False) + "\n")
    return path


def draw_graph(roots, path: Path, **to_dot_kwargs) -> Path | None:
    """The graph drawing as SVG at `path`; without Graphviz, say how to get it and return None.

    The .dot source is written whenever the `graphviz` Python package is there, so the drawing can
    be made later with `dot -Tsvg graph.dot -o graph.svg`.
    """
    try:
        return Path(autograd.viz.render(roots, path, format="svg", **to_dot_kwargs))
    except ImportError as error:
        print(f"note: no graph drawing: {error}")
    except RuntimeError as error:
        if shutil.which("dot") is not None:
            raise
        print(f"note: {error}")
    return None


def plot(description: str, draw, *args, **kwargs) -> Path | None:
    """Call a plotting function; without matplotlib, say so and return None instead of failing the run."""
    try:
        return Path(draw(*args, **kwargs))
    except ImportError as error:
        print(f"note: no {description}: {error}")
        return None


def plot_lines(path: Path, panels: list[dict], title: str | None = None) -> str:
    """Side-by-side line charts, one per panel, to compare runs (settings, optimizers, depths) on shared axes.

    Each panel is a dict with "lines": {label: (x, y)} and optionally "title", "xlabel", "ylabel",
    "logx", "logy" (booleans) and "ylim" ((low, high)). Raises ImportError without matplotlib (see `plot`).
    """
    figure = new_figure("plot_lines", (4.6 * len(panels), 3.8))
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        for label, (x, y) in panel["lines"].items():
            x = np.asarray(x, dtype=np.float64)
            ax.plot(x, y, marker="o" if len(x) <= 30 else None, markersize=3, linewidth=1, label=label)
        ax.set(title=panel.get("title", ""), xlabel=panel.get("xlabel", ""), ylabel=panel.get("ylabel", ""))
        if panel.get("logx"):
            ax.set_xscale("log")
        if panel.get("logy"):
            ax.set_yscale("log", nonpositive="mask")
        if "ylim" in panel:
            ax.set_ylim(*panel["ylim"])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(figure, path, title, dpi=100)


def smoothed_loss_panel(runs: dict, window: int) -> dict:
    """A `plot_lines` panel: each run's training loss (`runs[name]["loss"]`) as a moving mean over `window` steps."""
    return dict(
        title=f"training loss (mean of {window} steps)",
        xlabel="step",
        ylabel="loss",
        logy=True,
        lines={
            name: (
                np.arange(len(r["loss"]) - window + 1) + window,
                np.convolve(r["loss"], np.ones(window) / window, "valid"),
            )
            for name, r in runs.items()
        },
    )


def epoch_panel(title: str, series: dict, ylabel: str = "accuracy") -> dict:
    """A `plot_lines` panel of one value per accuracy check: Solver checks after its first update (epoch 0)
    and after every epoch, so point i is epoch i."""
    return dict(
        title=title,
        xlabel="epoch (0: after the first update)",
        ylabel=ylabel,
        lines={name: (np.arange(len(values)), values) for name, values in series.items()},
    )


def weight_scale_panel(results: dict, scales, key: str, title: str, ylabel: str = "accuracy") -> dict:
    """A `plot_lines` panel of each setting's `key`, one value per weight scale, against the scale (log axis)."""
    return dict(
        title=title,
        xlabel="weight scale",
        ylabel=ylabel,
        logx=True,
        lines={k: (scales, r[key]) for k, r in results.items()},
    )


def final_loss_panel(results: dict, scales, title: str) -> dict:
    """A `plot_lines` panel of each setting's final loss against the weight scale; diverged runs (None) are gaps."""
    losses = {k: {"final_loss": [np.nan if v is None else v for v in r["final_loss"]]} for k, r in results.items()}
    return {**weight_scale_panel(losses, scales, "final_loss", title, ylabel="loss"), "logy": True}


def tile_pictures(
    path: Path, pictures: list, ncols: int, titles: list[str] | None = None, title: str | None = None
) -> str:
    """One figure holding already written PNGs in a grid (e.g. one decision boundary per setting of a sweep).

    `pictures` may hold None for a missing picture; its cell stays empty. Raises ImportError without matplotlib.
    """
    nrows = math.ceil(len(pictures) / ncols)
    figure = new_figure("tile_pictures", (3.0 * ncols, 2.6 * nrows + (0.4 if title else 0)))
    from matplotlib.image import imread  # present: new_figure found matplotlib

    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < len(pictures) and pictures[i] is not None:
            ax.imshow(imread(pictures[i]))
            if titles:
                ax.set_title(titles[i], fontsize=9)
    return save_figure(figure, path, title, dpi=120)


def new_figure(where: str, size: tuple):
    """A matplotlib Figure that renders headless, whatever backend the session uses."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"{where}: needs matplotlib; run `pip install matplotlib`") from None
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path: Path, title: str | None, dpi: int) -> str:
    """Write `figure` (with `title` above its panels) to `path`, making its folder; returns the path."""
    if title:
        figure.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return str(path)


def finish(out: Path, started: float, metrics: dict, settings: dict, files: dict) -> Path:
    """Write out/metrics.json (metrics, wall time, settings and the pictures written) and list the folder.

    `started` is the time.perf_counter() at the start of the run; entries of `files` that are None
    (a picture skipped for want of matplotlib) are left out.
    """
    written = {key: path for key, path in files.items() if path is not None}
    metrics, path = write_run_metrics(out, started, metrics, settings, written)
    print(f"{metrics['wall_time_s']:.1f} s in all; wrote {out}/:")
    for key, file in {**written, "metrics": path}.items():
        print(f"  {Path(file).relative_to(out)!s:<28} {key}")
    return path


def write_run_metrics(out: Path, started: float, metrics: dict, settings: dict, files: dict) -> tuple[dict, Path]:
    """out/metrics.json: `metrics` with the run's wall time since `started`, its settings and the files it wrote.

    Returns the metrics with the wall time and the path written.
    """
    metrics = {**metrics, "wall_time_s": round(time.perf_counter() - started, 2)}
    return metrics, write_metrics(out / "metrics.json", {**metrics, "settings": settings, "files": files})


def solver_metrics(solver, test_accuracy: float, train_time: float) -> dict:
    """What a classifier's metrics.json records of its training run through optim.Solver."""
    return {
        "test_accuracy": test_accuracy,
        "best_val_accuracy": solver.best_val_acc,
        "final_train_accuracy": solver.train_acc_history[-1],
        "final_loss": solver.loss_history[-1],
        "epochs": solver.epoch,
        "iterations": solver.iteration,
        "train_time_s": round(train_time, 2),
    }


def mlp(sizes: list[int], activation=nn.ReLU, batchnorm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given sizes (input first, classes last), each hidden one followed by
    [BatchNorm1d], the activation and [Dropout]."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(fan_out)] if batchnorm else []
            layers.append(activation())
            layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers)


def fit(
    model: nn.Module,
    data: tuple,
    optimizer: optim.Optimizer,
    epochs: int,
    batch_size: int,
    seed: int,
    keep_best: bool = True,
    **options,
) -> optim.Solver:
    """Train quietly with optim.Solver on data = (X_train, y_train, X_val, y_val); returns the trained solver.

    The model ends with the best-validation parameters, or with keep_best=False the last ones. Every
    accuracy check scores the whole training set (the course's sets are small); `options` go to the Solver.
    """
    names = ("X_train", "y_train", "X_val", "y_val")
    options = {"num_train_samples": None, "verbose": False, **options}
    solver = optim.Solver(
        model,
        dict(zip(names, data)),
        optimizer=optimizer,
        num_epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        restore_best=keep_best,
        **options,
    )
    solver.train()
    return solver


def weight_scale_init_(model: nn.Module, weight_scale: float) -> nn.Module:
    """The course's initialization: every weight matrix or kernel ~ N(0, weight_scale**2), every 1-D
    parameter (biases) zero; batch norm's scales are set back to one."""
    for param in model.parameters():
        if param.ndim >= 2:
            nn.init.normal_(param, std=weight_scale)
        else:
            nn.init.zeros_(param)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.weight is not None:
            nn.init.ones_(module.weight)
    return model
