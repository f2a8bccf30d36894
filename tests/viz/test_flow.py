"""Gradient flow and layer-statistics pictures: the sigmoid-vs-ReLU comparison they exist for, valid
PNGs, and clear refusals of malformed input."""

import numpy as np
import pytest

import autograd as ag
import nn
from nn.monitor import gradient_flow

pytest.importorskip("matplotlib")

from autograd.viz import plot_gradient_flow, plot_layer_histograms, plot_layer_stats  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


def deep_net_flow(activation) -> list:
    """Per-layer mean |grad| of a 6-layer MLP with `activation` after one backward pass."""
    ag.manual_seed(0)
    layers = []
    for i in range(6):
        layers += [nn.Linear(32 if i else 16, 32), activation()]
    model = nn.Sequential(*layers, nn.Linear(32, 4))
    x = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    y = np.arange(64) % 4
    ag.cross_entropy(model(x), y).backward()
    return gradient_flow(model)


def test_gradient_flow_shows_sigmoid_gradients_vanishing_toward_the_input(tmp_path):
    runs = {"sigmoid": deep_net_flow(nn.Sigmoid), "relu": deep_net_flow(nn.ReLU)}
    sigmoid = dict(runs["sigmoid"])
    relu = dict(runs["relu"])
    # What the picture is for: sigmoid's first layer gets a tiny share of its last layer's gradient.
    assert sigmoid["0.weight"] < 0.01 * sigmoid["12.weight"]
    assert sigmoid["0.weight"] < 0.1 * relu["0.weight"]
    path = plot_gradient_flow(runs, tmp_path / "flow" / "flow.png")
    assert path == str(tmp_path / "flow" / "flow.png")
    assert_png(path)


def test_gradient_flow_takes_one_run_and_zeros(tmp_path):
    assert_png(plot_gradient_flow([("a", 0.0), ("b", 1e-3), ("c", 0.5)], tmp_path / "one.png"))
    assert_png(plot_gradient_flow({"dead": [("a", 0.0), ("b", 0.0)]}, tmp_path / "zeros.png"))


def test_gradient_flow_refuses_malformed_runs(tmp_path):
    with pytest.raises(ValueError, match="plot_gradient_flow: expected at least one run, got an empty dict"):
        plot_gradient_flow({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="run 'a' must name at least one layer, got none"):
        plot_gradient_flow({"a": []}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"run 'a' must be a list of \(layer name, mean \|grad\|\) pairs"):
        plot_gradient_flow({"a": [0.1, 0.2]}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_layer_stats_and_histograms_check_their_shapes(tmp_path):
    history = {"w": {"norm": [1.0, 2.0, 3.0], "mean": [0.0, -1.0, np.nan]}}
    assert_png(plot_layer_stats([10, 20, 30], history, tmp_path / "stats.png"))
    with pytest.raises(ValueError, match=r"w\['norm'\] must have one value per sample \(2\), got shape \(3,\)"):
        plot_layer_stats([10, 20], history, tmp_path / "x.png")
    with pytest.raises(ValueError, match="plot_layer_stats: expected at least one sample"):
        plot_layer_stats([], history, tmp_path / "x.png")

    edges = np.linspace(-1, 1, 5)
    assert_png(plot_layer_histograms([10], {"w": (edges, [[1, 2, 3, 4]])}, tmp_path / "hist.png"))
    with pytest.raises(ValueError, match=r"w needs counts of shape \(2, 4\) for 2 samples and 5 edges, got \(1, 4\)"):
        plot_layer_histograms([10, 20], {"w": (edges, [[1, 2, 3, 4]])}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="plot_layer_histograms: expected at least one panel"):
        plot_layer_histograms([10], {}, tmp_path / "x.png")
