"""Pictures of what happens inside the layers during training: gradient flow per layer, and the
statistics and histograms of weights and gradients over time that `nn.Monitor` records.

Like `plots.py`, each function draws on its own matplotlib Figure with the Agg canvas (imported only
when called) and writes a file, or returns a Picture that shows itself in Jupyter. They take plain lists
and arrays, so they serve any training loop.
"""

import numpy as np

from autograd.viz.plots import Picture, _figure, _finish


def _runs(named_grads_by_run) -> dict:
    """{run: [(layer, value), ...]} from a dict of runs or one run's list, checked."""
    runs = named_grads_by_run if isinstance(named_grads_by_run, dict) else {"": named_grads_by_run}
    if not runs:
        raise ValueError("plot_gradient_flow: expected at least one run, got an empty dict")
    checked = {}
    for run, pairs in runs.items():
        try:
            pairs = [(str(name), float(value)) for name, value in pairs]
        except (TypeError, ValueError):
            raise ValueError(
                f"plot_gradient_flow: run {run!r} must be a list of (layer name, mean |grad|) pairs, got {pairs!r:.80}"
            ) from None
        if not pairs:
            raise ValueError(f"plot_gradient_flow: run {run!r} must name at least one layer, got none")
        checked[str(run)] = pairs
    return checked


def plot_gradient_flow(named_grads_by_run, path=None, *, title: str = "gradient flow") -> "str | Picture":
    """Plot the mean absolute gradient of each layer, input side on the left, one line per run.

    Drawn on a log axis, a vanishing gradient shows as a line that falls by decades toward the
    input: the sigmoid net that plateaus next to a ReLU net that learns.

    Args:
        named_grads_by_run: {run name: [(layer name, mean |grad|), ...]}, e.g. from
            `nn.monitor.gradient_flow(model)` per run; or one such list for a single run.
        path: where to write the picture; its suffix (.png, .svg, .pdf) picks the format; None: return a
            Picture that shows itself in Jupyter.
        title: the plot's title.

    Returns:
        The path written, or a Picture when path is None.

    Raises:
        ValueError: no runs, a run without layers, or entries that are not (name, number) pairs.
        ImportError: matplotlib is not installed.
    """
    runs = _runs(named_grads_by_run)
    layers = list(dict.fromkeys(name for pairs in runs.values() for name, _ in pairs))
    position = {name: i for i, name in enumerate(layers)}
    figure = _figure("plot_gradient_flow", max(6.0, 0.6 * len(layers) + 2), 4.5)
    ax = figure.subplots()
    positive = False
    for run, pairs in runs.items():
        values = np.array([v for _, v in pairs])
        positive = positive or bool(np.any(values > 0))
        ax.plot([position[name] for name, _ in pairs], values, marker="o", label=run or None)
    # Gradients of different layers differ by decades; only a log axis shows the fall. Zeros are masked.
    if positive:
        ax.set_yscale("log", nonpositive="mask")
    ax.set_xticks(range(len(layers)), layers, rotation=45, ha="right", fontsize=8)
    ax.set(title=title, xlabel="layer (input -> output)", ylabel="mean |grad|")
    ax.grid(alpha=0.3)
    if any(runs):
        ax.legend()
    return _finish(figure, path)


def _log_if_positive(ax, curves) -> None:
    values = np.concatenate([np.ravel(c) for c in curves]) if curves else np.array([])
    finite = values[np.isfinite(values)]
    if finite.size and np.all(finite > 0):
        ax.set_yscale("log")


def plot_layer_stats(iterations, history: dict, path=None, stats=None) -> "str | Picture":
    """One panel per statistic, one line per parameter, over the sampled iterations.

    Args:
        iterations: the iteration of each sample, length T.
        history: {parameter name: {stat name: T values}} (NaN where a value is missing, e.g. no grad yet).
        path: where to write the picture; its suffix picks the format; None: return a
            Picture that shows itself in Jupyter.
        stats: the statistics to draw, in order (default: every one the first parameter has).

    Returns:
        The path written, or a Picture when path is None.

    Raises:
        ValueError: no samples, no parameters, or a series whose length is not T.
        ImportError: matplotlib is not installed.
    """
    steps = np.asarray(iterations, dtype=np.float64)
    if steps.ndim != 1 or steps.size == 0 or not history:
        raise ValueError(
            f"plot_layer_stats: expected at least one sample of at least one parameter, got {steps.size} samples "
            f"of {len(history)} parameters"
        )
    stats = list(stats or next(iter(history.values())))
    columns = min(len(stats), 5)
    rows = -(-len(stats) // columns)
    figure = _figure("plot_layer_stats", 3.2 * columns, 2.6 * rows + 0.6)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, stat in zip(axes, stats):
        curves = []
        for name, series in history.items():
            values = np.asarray(series[stat], dtype=np.float64)
            if values.shape != steps.shape:
                raise ValueError(
                    f"plot_layer_stats: {name}[{stat!r}] must have one value per sample ({steps.size}), "
                    f"got shape {values.shape}"
                )
            ax.plot(steps, values, linewidth=1, label=name)
            curves.append(values)
        # Norms and spreads of layers differ by decades; minima and means may be negative.
        if stat.endswith(("norm", "std")):
            _log_if_positive(ax, curves)
        ax.set_title(stat, fontsize=10)
        ax.set_xlabel("iteration", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(stats) :]:
        ax.set_axis_off()
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize=8)
    return _finish(figure, path)


def plot_layer_histograms(iterations, histograms: dict, path=None) -> "str | Picture":
    """Histograms over time as images, one panel per (parameter, kind): x = value bins, y = sample.

    Colour is log(1 + count), scaled per panel, so the tails stay visible next to the peak.

    Args:
        iterations: the iteration of each sample, length T.
        histograms: {panel title: (edges (B + 1,), counts (T, B))}, e.g. "0.weight" and "0.weight grad".
        path: where to write the picture; its suffix picks the format; None: return a
            Picture that shows itself in Jupyter.

    Returns:
        The path written, or a Picture when path is None.

    Raises:
        ValueError: no panels, or counts that do not match the edges and the samples.
        ImportError: matplotlib is not installed.
    """
    steps = np.asarray(iterations, dtype=np.float64)
    if not histograms or steps.ndim != 1 or steps.size == 0:
        raise ValueError(
            f"plot_layer_histograms: expected at least one panel and one sample, got {len(histograms)} panels "
            f"and {steps.size} samples"
        )
    columns = min(len(histograms), 2)
    rows = -(-len(histograms) // columns)
    figure = _figure("plot_layer_histograms", 5 * columns, 2.8 * rows)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (title, (edges, counts)) in zip(axes, histograms.items()):
        edges = np.asarray(edges, dtype=np.float64)
        counts = np.asarray(counts, dtype=np.float64)
        if edges.ndim != 1 or counts.shape != (steps.size, edges.size - 1):
            raise ValueError(
                f"plot_layer_histograms: {title} needs counts of shape ({steps.size}, {edges.size - 1}) for "
                f"{steps.size} samples and {edges.size} edges, got {counts.shape}"
            )
        # One row per sample, centred on its iteration (samples are taken evenly, every N iterations).
        half = 0.5 if steps.size == 1 else 0.5 * (steps[-1] - steps[0]) / (steps.size - 1)
        ax.imshow(
            np.log1p(counts),
            aspect="auto",
            origin="lower",
            cmap="viridis",
            interpolation="nearest",
            extent=(edges[0], edges[-1], steps[0] - half, steps[-1] + half),
        )
        ax.set_title(title, fontsize=10)
        ax.set(xlabel="value", ylabel="iteration")
    for ax in axes[len(histograms) :]:
        ax.set_axis_off()
    # One colour bar per panel doubles the drawing time; a note says what colour means instead.
    figure.suptitle("colour: log(1 + count), scaled per panel", fontsize=9)
    return _finish(figure, path)
