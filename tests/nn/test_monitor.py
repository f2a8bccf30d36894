"""nn.monitor: Monitor's statistics and histograms against numpy, its sampling, its plots; gradient_flow,
conv_filters and feature_maps."""

import json

import numpy as np
import pytest

import autograd as ag
import nn
from nn.monitor import GRAD_STATS, STATS, Monitor, array_stats, conv_filters, feature_maps, gradient_flow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


def numpy_stats(a) -> dict:
    a = np.asarray(a, dtype=np.float64)
    return {"min": a.min(), "max": a.max(), "mean": a.mean(), "std": a.std(), "norm": np.linalg.norm(a.ravel())}


def known_linear():
    """A Linear(4, 3) with fixed weights and gradients."""
    rng = np.random.default_rng(1)
    layer = nn.Linear(4, 3)
    layer.weight.value = rng.standard_normal((3, 4)).astype(np.float32)
    layer.bias.value = np.array([0.5, -1.0, 2.0], np.float32)
    layer.weight.grad = rng.standard_normal((3, 4)).astype(np.float32) * 1e-3
    layer.bias.grad = np.array([1.0, 2.0, -3.0], np.float32)
    return layer


@pytest.mark.parametrize("dtype, rel", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_array_stats_match_numpy_and_an_empty_array_gives_nan(dtype, rel):
    a = np.random.default_rng(0).standard_normal((70, 50)).astype(dtype)
    got = array_stats(a)
    for stat, expected in numpy_stats(a).items():
        assert got[stat] == pytest.approx(expected, rel=rel)
    assert all(np.isnan(v) for v in array_stats(np.zeros(0)).values())


def test_record_keeps_the_statistics_of_weights_and_gradients():
    layer = known_linear()
    monitor = Monitor(every=1, bins=8)
    assert monitor.record(layer, 0)
    assert list(monitor.history) == ["weight", "bias"]
    for name, param in layer.named_parameters():
        series = monitor.history[name]
        assert list(series) == list(STATS + GRAD_STATS)
        for stat, expected in numpy_stats(param.value).items():
            assert series[stat] == [pytest.approx(expected, rel=1e-6)]
        for stat, expected in numpy_stats(param.grad).items():
            assert series[f"grad_{stat}"] == [pytest.approx(expected, rel=1e-6)]


def test_histogram_edges_are_fixed_at_the_first_sample_and_nothing_is_dropped():
    layer = known_linear()
    monitor = Monitor(every=1, bins=8, grad_histograms=True)
    monitor.record(layer, 0)
    w0 = layer.weight.value.astype(np.float64)
    low, high = w0.min(), w0.max()
    edges, counts = monitor.histograms("weight")
    width = edges[1] - edges[0]
    # About half the span of room on each side, the extremes in the middle of a bin.
    assert edges[0] < low - 0.4 * (high - low) and edges[-1] > high + 0.4 * (high - low)
    assert (low - edges[0]) / width % 1 == pytest.approx(0.5) and (edges[-1] - high) / width % 1 == pytest.approx(0.5)
    np.testing.assert_array_equal(counts, [np.histogram(w0, bins=edges)[0]])

    layer.weight.value = layer.weight.value * 10.0  # far outside the first range
    monitor.record(layer, 1)
    later_edges, counts = monitor.histograms("weight")
    np.testing.assert_array_equal(later_edges, edges)
    assert counts.shape == (2, 8) and counts[1].sum() == w0.size
    assert counts[1, 0] > 0 and counts[1, -1] > 0  # clipped into the end bins
    grad_edges, grad_counts = monitor.histograms("bias", grad=True)
    np.testing.assert_array_equal(grad_counts[0], np.histogram(layer.bias.grad, bins=grad_edges)[0])
    with pytest.raises(KeyError, match="Monitor.histograms: name must be one of"):
        monitor.histograms("nope")


def test_samples_are_taken_every_n_iterations_and_only_once_each():
    monitor = Monitor(every=5, bins=0)
    layer = nn.Linear(2, 2)
    taken = [i for i in range(26) if monitor.record(layer, i)]
    assert taken == monitor.iterations == [0, 5, 10, 15, 20, 25]
    assert not monitor.record(layer, 25)
    assert all(len(v) == 6 for series in monitor.history.values() for v in series.values())
    assert monitor.latest()["weight"]["norm"] == monitor.history["weight"]["norm"][-1]
    with pytest.raises(ValueError, match="Monitor.latest: expected at least one sample, got none"):
        Monitor().latest()


def test_attached_to_a_solver_it_samples_every_n_updates_with_gradients():
    from optim import Solver

    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    solver = Solver(model, dict(X_train=X, y_train=y, X_val=X, y_val=y), num_epochs=3, batch_size=10, verbose=False)
    monitor = Monitor(every=3).attach(solver)
    solver.train()
    assert monitor.iterations == [3, 6, 9, 12]
    assert np.all(np.isfinite(monitor.history["0.weight"]["grad_norm"]))
    assert monitor.history["2.bias"]["grad_norm"][0] > 0
    monitor.detach(solver)
    assert solver.on_iteration == []


def test_missing_gradients_are_nan_and_to_dict_is_strict_json():
    layer = nn.Linear(3, 2)
    monitor = Monitor(every=1, bins=4, grad_histograms=True)
    monitor.record(layer, 0)
    assert np.isnan(monitor.history["weight"]["grad_norm"][0])
    layer(np.ones((2, 3), np.float32)).sum().backward()
    monitor.record(layer, 1)
    data = json.loads(json.dumps(monitor.to_dict(), allow_nan=False))
    assert data["iterations"] == [0, 1]
    assert data["history"]["weight"]["grad_norm"][0] is None
    assert data["history"]["weight"]["grad_norm"][1] == pytest.approx(np.linalg.norm(layer.weight.grad))
    grad_hist = data["histograms"]["weight"]["grad"]
    assert len(grad_hist["edges"]) == 5 and grad_hist["counts"][0] == [0, 0, 0, 0]  # before the first gradient
    assert sum(grad_hist["counts"][1]) == 6


def test_a_diverged_run_is_recorded_without_warnings():
    layer = nn.Linear(2, 2)
    layer.weight.value = np.array([[np.nan, 1.0], [np.inf, -1.0]], np.float32)
    monitor = Monitor(every=1, bins=4)
    monitor.record(layer, 0)  # numpy's RuntimeWarnings are errors in this test suite
    assert np.isnan(monitor.history["weight"]["mean"][0]) and np.isnan(monitor.history["weight"]["max"][0])
    edges, counts = monitor.histograms("weight")
    assert counts.sum() == 3 and counts[0, -1] == 1  # NaN left out, +inf in the last bin
    assert np.all(np.isfinite(edges))


def test_bad_settings_and_changed_models_are_refused():
    with pytest.raises(ValueError, match="Monitor: every must be a positive int, got 0"):
        Monitor(every=0)
    with pytest.raises(ValueError, match="Monitor: bins must be a non-negative int, got 2.5"):
        Monitor(bins=2.5)
    monitor = Monitor(every=1)
    monitor.record(nn.Linear(2, 2), 0)
    with pytest.raises(ValueError, match="expected a monitor made with grad_histograms=True, got one without"):
        monitor.histograms("weight", grad=True)
    assert list(monitor.to_dict()["histograms"]["weight"]) == ["value"]
    with pytest.raises(ValueError, match=r"parameters of the first sample \['weight', 'bias'\], got \['weight'\]"):
        monitor.record(nn.Linear(2, 2, bias=False), 1)


def test_plots_are_written_headless_and_refused_before_any_sample(tmp_path):
    pytest.importorskip("matplotlib")
    monitor = Monitor(every=1, bins=10, grad_histograms=True)
    with pytest.raises(ValueError, match="Monitor.plot_stats: expected at least one sample, got none"):
        monitor.plot_stats(tmp_path / "s.png")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    for step in range(4):
        model.zero_grad()
        model(x).sum().backward()
        for p in model.parameters():
            p.value = p.value - 0.1 * p.grad
        monitor.record(model, step)
    assert_png(monitor.plot_stats(tmp_path / "stats.png"))
    assert_png(monitor.plot_stats(tmp_path / "norms.png", stats=["norm", "grad_norm"]))
    assert_png(monitor.plot_histograms(tmp_path / "hist.png"))
    with pytest.raises(ValueError, match="stats must be among"):
        monitor.plot_stats(tmp_path / "x.png", stats=["median"])
    no_histograms = Monitor(every=1, bins=0)
    no_histograms.record(model, 0)
    with pytest.raises(ValueError, match="the monitor has bins=0"):
        no_histograms.plot_histograms(tmp_path / "x.png")


def test_gradient_flow_is_the_mean_absolute_gradient_of_each_weight():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"gradient_flow: expected weights \(2\+ dims\) with a gradient, got none"):
        gradient_flow(model)
    model(np.ones((5, 3), np.float32)).sum().backward()
    flow = gradient_flow(model)
    assert [name for name, _ in flow] == ["0.weight", "2.weight"]
    assert flow[0][1] == pytest.approx(np.abs(model[0].weight.grad).mean())
    assert [name for name, _ in gradient_flow(model, weights_only=False)] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]


def test_conv_filters_per_channel_or_averaged():
    conv = nn.Conv2d(2, 3, 3)
    w = np.arange(3 * 2 * 3 * 3, dtype=np.float32).reshape(3, 2, 3, 3)
    conv.weight.value = w
    np.testing.assert_allclose(conv_filters(conv), w.mean(axis=1))
    filters = conv_filters(conv, channel=1)
    np.testing.assert_array_equal(filters, w[:, 1])
    filters[:] = 0  # a copy: the layer's weight is untouched
    assert conv.weight.value[0, 1, 0, 0] == w[0, 1, 0, 0]
    with pytest.raises(ValueError, match=r"conv_filters: channel must be an int in \[0, 2\), got 2"):
        conv_filters(conv, channel=2)
    with pytest.raises(TypeError, match=r"4-D weight \(F, C, kH, kW\), got Linear with weight of shape \(2, 3\)"):
        conv_filters(nn.Linear(3, 2))


def test_conv_filters_and_feature_maps_feed_image_grid(tmp_path):
    pytest.importorskip("matplotlib")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 36, 2))
    image = np.random.default_rng(0).standard_normal((1, 8, 8)).astype(np.float32)
    assert_png(ag.viz.image_grid(conv_filters(model[0]), tmp_path / "filters.png"))

    maps = feature_maps(model[:3], image)
    assert isinstance(maps, np.ndarray) and maps.shape == (4, 6, 6)
    expected = np.maximum(model[0](image[None]).value[0], 0)  # eval mode: Dropout passes everything
    np.testing.assert_allclose(maps, expected, rtol=1e-6)
    assert model[2].training  # put back in the mode it was in
    assert feature_maps(model[:2], np.stack([image, image])).shape == (2, 4, 6, 6)
    assert_png(ag.viz.image_grid(maps, tmp_path / "maps.png"))
    with pytest.raises(ValueError, match=r"feature_maps: x must be an image \(C, H, W\) or a batch"):
        feature_maps(model[:2], np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"must map a batch of 1 to \(1, C, H, W\) maps, got shape \(1, 2\)"):
        feature_maps(model, image)


def test_a_large_layer_is_histogrammed_from_a_systematic_sample():
    from nn.monitor import HISTOGRAM_VALUES

    layer = nn.Linear(400, 300)  # 120,000 weights: more than the histogram reads
    monitor = Monitor(every=1, bins=16)
    monitor.record(layer, 0)
    edges, counts = monitor.histograms("weight")
    step = -(-layer.weight.value.size // HISTOGRAM_VALUES)
    sample = layer.weight.value.reshape(-1)[::step]
    np.testing.assert_array_equal(counts[0], np.histogram(sample, bins=edges)[0])
    assert counts[0].sum() == sample.size <= HISTOGRAM_VALUES
    assert monitor.history["weight"]["min"][0] == layer.weight.value.min()  # statistics still see every value
