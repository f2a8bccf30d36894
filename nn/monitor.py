"""Looking inside a model while it trains: `Monitor` (weight and gradient statistics and histograms over
time), `gradient_flow` (mean |grad| per layer after a backward run), and the arrays behind pictures of
a conv layer's filters and of feature maps.

Everything here returns or stores plain numbers, lists and ndarrays; the pictures are drawn by
`autograd.viz` (imported only when a plot is asked for, so `import nn` needs no matplotlib).
"""

import html
import math

import numpy as np

from autograd import TensorNode, no_grad
from autograd.viz.report import stats_table_html
from nn.module import Module

STATS = ("min", "max", "mean", "std", "norm")
GRAD_STATS = tuple(f"grad_{stat}" for stat in STATS)


def _array(value) -> np.ndarray:
    return np.asarray(value.value if isinstance(value, TensorNode) else value)


def array_stats(array) -> dict:
    """min, max, mean, std (population, as np.std) and L2 norm of an array, as Python floats.

    The mean is exact to float64; std and norm of a float32 array are accurate to about 1e-7 relative
    (BLAS sums of squares in float32), of a float64 array to float64.

    Args:
        array: an ndarray or TensorNode; an empty one gives NaN everywhere.

    Returns:
        {stat: float} with the keys of STATS.

    >>> array_stats(np.array([3.0, -4.0]))
    {'min': -4.0, 'max': 3.0, 'mean': -0.5, 'std': 3.5, 'norm': 5.0}
    """
    x = _array(array).reshape(-1)
    if x.size == 0:
        return dict.fromkeys(STATS, math.nan)
    # The mean is summed in float64 (numpy casts in small buffers, no copy): a float32 running sum over
    # a big layer loses digits. Squares go through BLAS's dot in the array's own dtype, whose blocked
    # sums stay within ~1e-7 relative; a float64 copy of the layer would cost ten times as much.
    # NaN and Inf (a diverged run) are recorded as they come, without numpy's warnings.
    with np.errstate(invalid="ignore", over="ignore"):
        n = x.size
        mean = float(x.sum(dtype=np.float64)) / n
        sum_of_squares = float(np.dot(x, x))
        variance = sum_of_squares / n - mean * mean
        # One pass is exact enough unless the mean dwarfs the spread (a bias near a constant): then
        # the difference above cancels most digits, and the spread is measured around the mean.
        if not variance > 1e-6 * mean * mean:
            centered = x - mean
            variance = float(np.dot(centered, centered)) / n
        return {
            "min": float(x.min()),
            "max": float(x.max()),
            "mean": mean,
            "std": math.sqrt(variance) if variance >= 0 else math.nan,
            "norm": math.sqrt(sum_of_squares),
        }


def gradient_flow(model: Module, weights_only: bool = True) -> list:
    """Mean |grad| of each parameter after a backward run, in the model's order (input side first).

    Args:
        model: an nn.Module on which `loss.backward()` has run.
        weights_only: keep only parameters of 2 or more dims (weight matrices and kernels, not biases
            or norm scales), one entry per layer.

    Returns:
        [(parameter name, mean |grad|), ...] for `autograd.viz.flow.plot_gradient_flow`.

    Raises:
        ValueError: no parameter (of the kind asked for) has a gradient.

    >>> import nn
    >>> net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    >>> net(np.ones((4, 2), np.float32)).sum().backward()
    >>> [name for name, _ in gradient_flow(net)]
    ['0.weight', '2.weight']
    """
    flow = [
        (name, float(np.mean(np.abs(param.grad), dtype=np.float64)))
        for name, param in model.named_parameters()
        if param.grad is not None and (param.ndim >= 2 or not weights_only)
    ]
    if not flow:
        kind = "weights (2+ dims)" if weights_only else "parameters"
        raise ValueError(f"gradient_flow: expected {kind} with a gradient, got none; run loss.backward() first")
    return flow


def conv_filters(conv_layer: Module, channel: int | None = None) -> np.ndarray:
    """A conv layer's filters as (F, kH, kW) images for `autograd.viz.image_grid`.

    Args:
        conv_layer: a layer with a 4-D `weight` (F, C, kH, kW), such as nn.Conv2d.
        channel: the input channel to show; None averages over input channels (for a first layer on
            grey images, C = 1, that is the filter itself).

    Returns:
        A new float64 array of shape (F, kH, kW).

    Raises:
        TypeError: the layer has no 4-D weight.
        ValueError: `channel` is out of range.

    >>> import nn
    >>> conv_filters(nn.Conv2d(1, 6, 5)).shape
    (6, 5, 5)
    """
    weight = getattr(conv_layer, "weight", None)
    w = None if weight is None else _array(weight)
    if w is None or w.ndim != 4:
        shape = "no weight" if w is None else f"weight of shape {w.shape}"
        raise TypeError(
            f"conv_filters: expected a conv layer with a 4-D weight (F, C, kH, kW), got "
            f"{type(conv_layer).__name__} with {shape}"
        )
    if channel is None:
        return w.mean(axis=1, dtype=np.float64)
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or not 0 <= channel < w.shape[1]:
        raise ValueError(f"conv_filters: channel must be an int in [0, {w.shape[1]}), got {channel!r}")
    return w[:, channel].astype(np.float64)


def feature_maps(model_prefix, x) -> np.ndarray:
    """The feature maps a model's first layers make of `x`, computed without recording a graph.

    A Module is run in eval mode (Dropout off, BatchNorm on its running statistics, which stay
    untouched) and put back in the mode it was in.

    Args:
        model_prefix: a callable from NCHW input to NCHW maps, e.g. `model[:2]` of a Sequential.
        x: one image (C, H, W) or a batch (N, C, H, W), an ndarray or TensorNode.

    Returns:
        (C', H', W') for one image, ready for `autograd.viz.image_grid`; (N, C', H', W') for a batch.

    Raises:
        ValueError: `x` is not 3-D or 4-D, or the callable does not return (N, C', H', W') maps.

    >>> import nn
    >>> feature_maps(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()), np.zeros((1, 8, 8), np.float32)).shape
    (4, 6, 6)
    """
    batch = _array(x)
    single = batch.ndim == 3
    if single:
        batch = batch[None]
    if batch.ndim != 4:
        raise ValueError(f"feature_maps: x must be an image (C, H, W) or a batch (N, C, H, W), got {batch.shape}")
    was_training = model_prefix.training if isinstance(model_prefix, Module) else None
    if was_training is not None:
        model_prefix.eval()
    try:
        with no_grad():
            maps = _array(model_prefix(batch))
    finally:
        if was_training is not None:
            model_prefix.train(was_training)
    if maps.ndim != 4 or maps.shape[0] != batch.shape[0]:
        raise ValueError(
            f"feature_maps: model_prefix must map a batch of {batch.shape[0]} to ({batch.shape[0]}, C, H, W) maps, "
            f"got shape {maps.shape}"
        )
    return maps[0] if single else maps


# Histograms of larger arrays count a systematic sample of this many values at most; the statistics
# (min, max, mean, std, norm) always use every value.
HISTOGRAM_VALUES = 1 << 15


class _Histogram:
    """Counts over time with bin edges fixed at the first sample that has data."""

    def __init__(self, bins: int):
        self.bins = bins
        self.range = None  # (low, high) once chosen
        self.counts = []  # one (bins,) int array per sample; None before the edges were chosen

    def add(self, x: np.ndarray | None, stats: dict | None) -> None:
        if x is None or x.size == 0:
            self.counts.append(None if self.range is None else np.zeros(self.bins, np.int64))
            return
        flat = x.reshape(-1)
        finite = flat
        if not (math.isfinite(stats["min"]) and math.isfinite(stats["max"])):
            # A diverged run: NaN is in no bin, infinities go to the end bins, the range is of the rest.
            flat = flat[~np.isnan(flat)]
            finite = flat[np.isfinite(flat)]
        if self.range is None:
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
            span = high - low if high > low else max(abs(low), 1.0)
            # Room on each side for weights that spread out as training goes on: about half the span,
            # sized so that the first min and max sit in the middle of a bin, never on an edge where
            # rounding decides the bin.
            k = self.bins // 4
            margin = 0.5 if self.bins < 2 else (k + 0.5) / (self.bins - 2 * k - 1)
            self.range = (low - margin * span, high + margin * span)
        low, high = self.range
        if flat.size > HISTOGRAM_VALUES:
            # A systematic sample (every k-th value) keeps a big layer's histogram cheap enough to take
            # every few iterations; its shape differs from the full count by well under a percent per bin.
            flat = flat[:: -(-flat.size // HISTOGRAM_VALUES)]
        # The bin of each value by arithmetic, as np.histogram's equal-bin path does but without its edge
        # corrections (a value within rounding of an edge may land next door): 4x faster on a big layer.
        # Values outside the first range are counted in the end bins, not dropped.
        work = flat.dtype if flat.dtype.kind == "f" else np.float64
        scaled = np.subtract(flat, low, dtype=work)
        scaled *= self.bins / (high - low)
        np.clip(scaled, 0, self.bins - 1, out=scaled)
        # Small indices make a small array for bincount to read: a quarter less time on a big layer.
        index = scaled.astype(np.uint8 if self.bins <= 256 else np.intp)
        self.counts.append(np.bincount(index, minlength=self.bins))

    @property
    def edges(self) -> np.ndarray | None:
        return None if self.range is None else np.linspace(*self.range, self.bins + 1)

    def table(self) -> np.ndarray:
        """(samples, bins) counts, zeros for samples before the edges were chosen."""
        zeros = np.zeros(self.bins, np.int64)
        return np.stack([zeros if c is None else c for c in self.counts])


class Monitor:
    """Per-parameter statistics and histograms of weights and gradients, sampled every `every` iterations.

    A sample is taken when `iteration % every == 0`: attached to an `optim.Solver` (whose iterations
    count from 1, after the update), every=10 samples iterations 10, 20, ...; a loop counting from 0
    also samples its first iteration. For each parameter it keeps the STATS of the weight and, as
    `grad_min` ... `grad_norm`, of its gradient (NaN while it has none), plus histograms of the weights
    (and, with `grad_histograms`, of the gradients) with `bins` bins whose edges are fixed at the first
    sample (the first range, widened by about half its span on each side; values outside later land
    in the end bins). Counts are np.histogram's, except that a value within rounding of an edge may fall in
    the bin next door.

    Args:
        every: sample every this many iterations.
        bins: histogram bins per parameter (0: no histograms).
        grad_histograms: keep histograms of the gradients too (off by default: on a big layer they
            cost as much again as the statistics).

    Attributes:
        iterations: the iteration of each sample.
        history: {parameter name: {stat: list of floats}}, one value per sample.

    Raises:
        ValueError: `every` is not a positive int or `bins` a non-negative int.

    >>> import nn
    >>> net, monitor = nn.Linear(3, 2), Monitor(every=2)
    >>> for step in range(5):
    ...     monitor.record(net, step)
    True
    False
    True
    False
    True
    >>> monitor.iterations, sorted(monitor.history), len(monitor.history["weight"]["norm"])
    ([0, 2, 4], ['bias', 'weight'], 3)
    """

    def __init__(self, every: int = 10, bins: int = 30, grad_histograms: bool = False):
        for name, value, least in (("every", every, 1), ("bins", bins, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                kind = "positive" if least else "non-negative"
                raise ValueError(f"Monitor: {name} must be a {kind} int, got {value!r}")
        self.every, self.bins = int(every), int(bins)
        self.grad_histograms = bool(grad_histograms)
        self.iterations: list[int] = []
        self.history: dict[str, dict[str, list]] = {}
        self._histograms: dict[str, tuple] = {}  # name -> (_Histogram of weights, _Histogram of grads)

    # ----- recording -----
    def record(self, model: Module, iteration: int) -> bool:
        """Sample `model`'s parameters if `iteration` is due (a multiple of `every`, not yet sampled).

        Call it after `loss.backward()` (and the optimizer step) so the gradients are the last ones.

        Args:
            model: the nn.Module being trained.
            iteration: the training loop's iteration count.

        Returns:
            True when a sample was taken.

        Raises:
            ValueError: the model's parameter names differ from those of the first sample.
        """
        if iteration % self.every or (self.iterations and self.iterations[-1] == iteration):
            return False
        params = list(model.named_parameters())
        if self.history and [name for name, _ in params] != list(self.history):
            raise ValueError(
                f"Monitor.record: the model must have the parameters of the first sample {list(self.history)}, "
                f"got {[name for name, _ in params]}"
            )
        for name, param in params:
            series = self.history.setdefault(name, {stat: [] for stat in STATS + GRAD_STATS})
            value, grad = param.value, param.grad
            value_stats = array_stats(value)
            grad_stats = dict.fromkeys(STATS, math.nan) if grad is None else array_stats(grad)
            for stat in STATS:
                series[stat].append(value_stats[stat])
                series[f"grad_{stat}"].append(grad_stats[stat])
            if self.bins:
                weights, grads = self._histograms.setdefault(name, (_Histogram(self.bins), _Histogram(self.bins)))
                weights.add(value, value_stats)
                if self.grad_histograms:
                    grads.add(grad, None if grad is None else grad_stats)
        self.iterations.append(int(iteration))
        return True

    def attach(self, solver) -> "Monitor":
        """Sample `solver.model` after the solver's updates: appends a callback to `solver.on_iteration`.

        Returns:
            self, so that `monitor = Monitor(every=10).attach(solver)` reads in one line.
        """
        solver.on_iteration.append(self._on_iteration)
        return self

    def detach(self, solver) -> None:
        """Remove this monitor's callback from `solver.on_iteration` (nothing happens if absent)."""
        solver.on_iteration[:] = [c for c in solver.on_iteration if c != self._on_iteration]

    def _on_iteration(self, solver) -> None:
        self.record(solver.model, solver.iteration)

    # ----- reading -----
    def histograms(self, name: str, grad: bool = False) -> tuple:
        """(edges (bins + 1,), counts (samples, bins)) of one parameter's weights, or of its gradient.

        Raises:
            KeyError: no parameter `name` was sampled with histograms.
            ValueError: gradient histograms were asked for from a monitor made without grad_histograms.
        """
        if name not in self._histograms:
            raise KeyError(f"Monitor.histograms: name must be one of {sorted(self._histograms)}, got {name!r}")
        if grad and not self.grad_histograms:
            raise ValueError("Monitor.histograms: expected a monitor made with grad_histograms=True, got one without")
        histogram = self._histograms[name][1 if grad else 0]
        edges = histogram.edges
        if edges is None:  # never had data (a gradient that never came): zeros on a unit range
            edges = np.linspace(-1.0, 1.0, self.bins + 1)
        return edges, histogram.table()

    def latest(self) -> dict:
        """The last sample's statistics, {parameter name: {stat: value}}: a `write_report` stats_table.

        Raises:
            ValueError: nothing was sampled yet.
        """
        self._check_samples("latest")
        return {name: {stat: values[-1] for stat, values in series.items()} for name, series in self.history.items()}

    def to_dict(self) -> dict:
        """Everything recorded as plain lists, ready for `json.dumps(..., allow_nan=False)`; NaN becomes None.

        >>> import json, nn
        >>> monitor = Monitor(every=1, bins=4); _ = monitor.record(nn.Linear(2, 1), 0)
        >>> sorted(monitor.to_dict()), len(json.dumps(monitor.to_dict(), allow_nan=False)) > 0
        (['bins', 'every', 'grad_histograms', 'histograms', 'history', 'iterations'], True)
        """

        def clean(values):
            return [v if math.isfinite(v) else None for v in values]

        histograms = {}
        for name in self._histograms:
            histograms[name] = {}
            for kind, grad in (("value", False), ("grad", True))[: 1 + self.grad_histograms]:
                edges, counts = self.histograms(name, grad)
                histograms[name][kind] = {"edges": edges.tolist(), "counts": counts.tolist()}
        return {
            "every": self.every,
            "bins": self.bins,
            "grad_histograms": self.grad_histograms,
            "iterations": list(self.iterations),
            "history": {name: {stat: clean(v) for stat, v in series.items()} for name, series in self.history.items()},
            "histograms": histograms,
        }

    # ----- display -----
    def __repr__(self) -> str:
        return (
            f"Monitor(every={self.every}, bins={self.bins}, grad_histograms={self.grad_histograms}, "
            f"samples={len(self.iterations)})"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: what was sampled, and the last sample's statistics per parameter (no plotting)."""
        if not self.iterations:
            return f"<p>{html.escape(repr(self))}: no samples yet; call record() or attach()</p>"
        span = f"iterations {self.iterations[0]} to {self.iterations[-1]}"
        caption = f"{html.escape(repr(self))}, {span}; statistics of iteration {self.iterations[-1]}:"
        return f"<p>{caption}</p>\n{stats_table_html(self.latest())}"

    # ----- pictures -----
    def _check_samples(self, where: str) -> None:
        if not self.iterations:
            raise ValueError(f"Monitor.{where}: expected at least one sample, got none; call record() or attach()")

    def plot_stats(self, path=None, stats=None):
        """One panel per statistic (weights, then gradients), one line per parameter, over iterations.

        Args:
            path: where to write the picture; its suffix (.png, .svg, .pdf) picks the format; None: return
                an `autograd.viz.Picture`, which shows itself in Jupyter.
            stats: the statistics to draw (default: STATS + GRAD_STATS).

        Returns:
            The path written, or a Picture when path is None.

        Raises:
            ValueError: nothing was sampled yet, or an unknown statistic.
            ImportError: matplotlib is not installed.
        """
        self._check_samples("plot_stats")
        stats = list(stats or STATS + GRAD_STATS)
        unknown = [s for s in stats if s not in STATS + GRAD_STATS]
        if unknown:
            raise ValueError(f"Monitor.plot_stats: stats must be among {STATS + GRAD_STATS}, got {unknown}")
        from autograd.viz.flow import plot_layer_stats

        return plot_layer_stats(self.iterations, self.history, path, stats)

    def plot_histograms(self, path=None, grads: bool = True):
        """Per parameter, its histograms over time as an image (x = value bins, y = iteration).

        Args:
            path: where to write the picture; its suffix picks the format; None: return a Picture.
            grads: draw the gradients' histograms next to the weights', when the monitor keeps them.

        Returns:
            The path written, or a Picture when path is None.

        Raises:
            ValueError: nothing was sampled yet, or the monitor keeps no histograms (bins=0).
            ImportError: matplotlib is not installed.
        """
        self._check_samples("plot_histograms")
        if not self._histograms:
            raise ValueError("Monitor.plot_histograms: expected histograms, got none; the monitor has bins=0")
        panels = {}
        for name in self._histograms:
            panels[name] = self.histograms(name)
            if grads and self.grad_histograms:
                panels[f"{name} grad"] = self.histograms(name, grad=True)
        from autograd.viz.flow import plot_layer_histograms

        return plot_layer_histograms(self.iterations, panels, path)
