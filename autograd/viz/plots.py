"""Training pictures as plain functions over arrays: loss and accuracy curves, 2-D decision
boundaries, and grids of images (conv filters, feature maps).

Each draws on its own matplotlib Figure with the Agg canvas and writes a file, or, given no path, returns
a Picture that shows itself in Jupyter: no pyplot state, no window, and the user's backend is left alone.
matplotlib is imported inside the functions, so `import autograd` does not need it.
"""

import io
import math
import os

import numpy as np

from autograd.modes import no_grad


def _figure(where: str, width: float, height: float):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            f"{where}: needs matplotlib, got ImportError; run `pip install matplotlib` (or `pip install nodegrad[viz]`)"
        ) from None
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # headless: renders to a buffer whatever backend the session uses
    return figure


def _save(figure, path) -> str:
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


class Picture:
    """A drawn figure, what the plotting functions return without a path: it shows itself as PNG in Jupyter
    (IPython's `_repr_png_`), with no pyplot and no inline backend involved; `save(path)` writes it.

    Attributes:
        figure: the matplotlib Figure, to adjust before showing or saving it.
    """

    def __init__(self, figure):
        self.figure = figure

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def save(self, path) -> str:
        """Write the picture to `path` (its suffix picks the format; folders are made) and return the path."""
        return _save(self.figure, path)

    def __repr__(self) -> str:
        width, height = self.figure.get_size_inches() * 100
        return f"<Picture {width:.0f}x{height:.0f} px: shows in Jupyter, save(path) writes it>"


def _finish(figure, path) -> "str | Picture":
    return Picture(figure) if path is None else _save(figure, path)


def _series(where: str, name: str, values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{where}: {name} must be a non-empty 1-D sequence of numbers, got shape {array.shape}")
    return array


def plot_history(loss_history, train_acc=None, val_acc=None, *, path=None, first_epoch: int = 1) -> "str | Picture":
    """Plot the loss per step (or epoch) and, when given, train and validation accuracy per epoch.

    Args:
        loss_history: a 1-D sequence of losses.
        train_acc: optional 1-D sequence of accuracies, one per epoch.
        val_acc: optional 1-D sequence of accuracies, one per epoch.
        path: where to write the picture; its suffix (.png, .svg, .pdf) picks the format; None: return a
            Picture that shows itself in Jupyter.
        first_epoch: the epoch of the first accuracy; `optim.Solver` checks once after its first update,
            before any epoch ends, so its histories start at 0.

    Returns:
        The path written, or a Picture when path is None.

    Raises:
        ValueError: a history that is empty or not 1-D.
        ImportError: matplotlib is not installed.
    """
    loss = _series("plot_history", "loss_history", loss_history)
    named = (("train_acc", train_acc), ("val_acc", val_acc))
    accuracies = [(label, _series("plot_history", label, a)) for label, a in named if a is not None]
    figure = _figure("plot_history", 10 if accuracies else 6, 4)
    axes = figure.subplots(1, 2 if accuracies else 1, squeeze=False)[0]
    axes[0].plot(np.arange(1, loss.size + 1), loss, color="tab:blue", linewidth=1)
    # Losses fall over decades; a log axis keeps the late, small improvements visible.
    if np.all(loss[np.isfinite(loss)] > 0) and np.isfinite(loss).any():
        axes[0].set_yscale("log")
    axes[0].set(title="loss", xlabel="step", ylabel="loss")
    axes[0].grid(alpha=0.3)
    if accuracies:
        for label, a in accuracies:
            epochs = np.arange(first_epoch, first_epoch + a.size)
            axes[1].plot(epochs, a, marker="o", markersize=3, label=label.replace("_acc", ""))
        axes[1].set(title="accuracy", xlabel="epoch", ylabel="accuracy")
        axes[1].grid(alpha=0.3)
        axes[1].legend()
    return _finish(figure, path)


def plot_decision_boundary(predict_fn, X, y, path=None, resolution: int = 200) -> "str | Picture":
    """Colour the plane by the class `predict_fn` gives each point, with the data on top.

    Args:
        predict_fn: maps an (M, 2) float ndarray to class labels (M,) or class scores (M, C)
            (an ndarray or a TensorNode); it runs under `no_grad`, so no graph is recorded.
        X: (N, 2) points.
        y: (N,) integer class labels.
        path: where to write the picture; its suffix picks the format; None: return a
            Picture that shows itself in Jupyter.
        resolution: grid points per side.

    Returns:
        The path written, or a Picture when path is None.

    Raises:
        ValueError: X is not (N, 2), y does not match it, or `predict_fn` returns the wrong length.
        ImportError: matplotlib is not installed.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2) with N > 0, got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"plot_decision_boundary: y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-3)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    dtype = X.dtype if X.dtype.kind == "f" else np.float32
    points = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(dtype)
    with no_grad():
        predicted = np.asarray(predict_fn(points))
    if predicted.ndim == 2:
        predicted = predicted.argmax(axis=1)
    if predicted.shape != (points.shape[0],):
        raise ValueError(
            f"plot_decision_boundary: predict_fn must return {points.shape[0]} labels or a ({points.shape[0]}, C) "
            f"array of scores for {points.shape[0]} points, got shape {predicted.shape}"
        )
    classes = np.union1d(np.unique(y), np.unique(predicted))
    # Map labels to 0..K-1 so the colours of regions and points agree whatever the label values.
    region = np.searchsorted(classes, predicted).reshape(grid_x.shape)
    colour_of_point = np.searchsorted(classes, y)
    figure = _figure("plot_decision_boundary", 6, 5)
    ax = figure.subplots()
    levels = np.arange(len(classes) + 1) - 0.5
    ax.contourf(grid_x, grid_y, region, levels=levels, cmap="tab10", vmin=0, vmax=9, alpha=0.3)
    ax.scatter(
        X[:, 0], X[:, 1], c=colour_of_point, cmap="tab10", vmin=0, vmax=9, s=12, edgecolors="black", linewidths=0.3
    )
    ax.set(title="decision boundary", xlabel="x0", ylabel="x1")
    return _finish(figure, path)


def image_grid(images, path=None, ncols: int | None = None, cmap: str = "gray") -> "str | Picture":
    """Tile images, each scaled to its own min..max, e.g. conv filters or one input's feature maps.

    Shapes: (N, H, W) -> N grey tiles; (N, 3, H, W) -> N colour tiles; (N, C, H, W) with another C
    -> N * C grey tiles, one per channel (filters of a deep layer, or feature maps with N = 1).

    Args:
        images: an ndarray or TensorNode of one of those shapes.
        path: where to write the picture; its suffix picks the format; None: return a
            Picture that shows itself in Jupyter.
        ncols: tiles per row (default: a near-square grid).
        cmap: matplotlib colour map for grey tiles.

    Returns:
        The path written, or a Picture when path is None.

    Raises:
        ValueError: images of another rank, or no images.
        ImportError: matplotlib is not installed.
    """
    array = np.asarray(images, dtype=np.float64)
    if array.ndim == 4 and array.shape[1] == 3:
        tiles = array.transpose(0, 2, 3, 1)
    elif array.ndim == 4:
        tiles = array.reshape(-1, *array.shape[2:])
    elif array.ndim == 3:
        tiles = array
    else:
        raise ValueError(f"image_grid: images must have shape (N, H, W) or (N, C, H, W), got {array.shape}")
    if tiles.shape[0] == 0:
        raise ValueError(f"image_grid: expected at least one image, got shape {array.shape}")
    count = tiles.shape[0]
    ncols = ncols or math.ceil(math.sqrt(count))
    nrows = math.ceil(count / ncols)
    # Scale each tile alone: filters differ in magnitude, and one large filter would grey out the rest.
    axes_of_tile = tuple(range(1, tiles.ndim))
    low = tiles.min(axis=axes_of_tile, keepdims=True)
    span = tiles.max(axis=axes_of_tile, keepdims=True) - low
    tiles = (tiles - low) / np.where(span > 0, span, 1.0)
    figure = _figure("image_grid", 1.2 * ncols + 0.2, 1.2 * nrows + 0.2)
    axes = figure.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i < count:
            ax.imshow(tiles[i], cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    return _finish(figure, path)
