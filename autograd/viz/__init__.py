"""Pictures of the graph and of training: DOT drawings of what led to a tensor, and training plots.

`to_dot` and `render` need the `graphviz` Python package (and `render` the Graphviz `dot` program);
the plots need matplotlib. Both are imported only when called, so `import autograd` stays light.

In Jupyter, a drawing from `to_dot` shows as SVG (as text where `dot` is missing), and a plot asked for
without a path returns a `Picture` that shows as PNG. Tensors keep their text repr.
"""

from autograd.viz.dot import (
    COLLAPSE_MAX_BLOCK,
    COLLAPSE_MIN_REPEATS,
    DEAD_ZERO_FRACTION,
    EXPLODING_MAX_ABS,
    HEALTH_COLOURS,
    VANISHING_MEAN_ABS,
    VANISHING_NORM,
    gradient_health,
    op_label,
    render,
    to_dot,
)
from autograd.viz.flow import plot_gradient_flow, plot_layer_histograms, plot_layer_stats
from autograd.viz.plots import Picture, image_grid, plot_decision_boundary, plot_history
from autograd.viz.report import write_report

__all__ = [
    "COLLAPSE_MAX_BLOCK",
    "COLLAPSE_MIN_REPEATS",
    "DEAD_ZERO_FRACTION",
    "EXPLODING_MAX_ABS",
    "HEALTH_COLOURS",
    "Picture",
    "VANISHING_MEAN_ABS",
    "VANISHING_NORM",
    "gradient_health",
    "image_grid",
    "op_label",
    "plot_decision_boundary",
    "plot_history",
    "render",
    "to_dot",
    "plot_gradient_flow",
    "plot_layer_histograms",
    "plot_layer_stats",
    "write_report",
]
