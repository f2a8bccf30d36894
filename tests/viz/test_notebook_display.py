"""How things show in Jupyter: graph drawings as SVG (text where Graphviz's `dot` is missing or fails), plots
without a path as PNG Pictures, the Monitor as an HTML table, and tensors as text only."""

import os
import shutil
import stat

import numpy as np
import pytest

import autograd as ag
import nn

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _display(obj) -> dict:
    """The mimebundle IPython would send to the notebook for `obj` as a cell's last value."""
    formatters = pytest.importorskip("IPython.core.formatters", reason="needs IPython: pip install ipykernel")
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


def _loss():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    loss = nn.functional.cross_entropy(model(np.ones((2, 3), np.float32)), np.array([0, 1]))
    return loss, model


def _drawing():
    pytest.importorskip("graphviz", reason="needs the graphviz Python package: pip install graphviz")
    loss, model = _loss()
    return ag.viz.to_dot(loss, params=dict(model.named_parameters()))


def _without_dot(monkeypatch, tmp_path, failing: bool = False) -> None:
    """A PATH with no Graphviz `dot` on it, or with a `dot` that fails."""
    if failing:
        fake = tmp_path / "dot"
        fake.write_text("#!/bin/sh\necho 'dot: crashed' >&2\nexit 1\n")
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_a_drawing_shows_as_svg_where_dot_is_installed():
    drawing = _drawing()
    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot program: apt-get install graphviz (or brew install graphviz)")
    svg = drawing._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "0.weight" in svg


@pytest.mark.parametrize("failing", [False, True], ids=["dot-missing", "dot-failing"])
def test_a_drawing_falls_back_to_text_without_a_working_dot(monkeypatch, tmp_path, failing):
    drawing = _drawing()
    _without_dot(monkeypatch, tmp_path, failing)
    assert drawing._repr_svg_() is None
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"].startswith(repr(drawing) + ": Graphviz's `dot` program could not draw it")
    assert drawing.source.startswith("digraph nodegrad")  # the DOT text is still there


def test_a_drawing_honours_include_and_exclude():
    drawing = _drawing()
    assert drawing._repr_mimebundle_(include=["text/plain"]) == {}  # IPython adds the plain repr itself
    assert drawing._repr_mimebundle_(exclude=["image/svg+xml"]) == {}


def test_a_drawing_says_what_it_is():
    drawing = _drawing()
    nodes = sum("[label=" in line for line in drawing.body)
    assert nodes > 5
    assert (
        repr(drawing)
        == f"<nodegrad graph drawing: {nodes} nodes, {sum(' -> ' in line for line in drawing.body)} edges>"
    )
    assert type(drawing.copy()) is type(drawing)


def test_a_tensor_shows_as_text_only():
    loss, _ = _loss()
    assert not any(hasattr(loss, name) for name in ("_repr_svg_", "_repr_html_", "_repr_mimebundle_", "_repr_png_"))


def test_a_plot_without_a_path_is_a_picture_that_shows_as_png(tmp_path):
    pytest.importorskip("matplotlib", reason="needs matplotlib: pip install matplotlib")
    picture = ag.viz.plot_history([1.0, 0.5, 0.25], [0.5, 0.75])
    assert isinstance(picture, ag.viz.Picture)
    png = picture._repr_png_()
    assert png.startswith(PNG_MAGIC)
    assert repr(picture) == "<Picture 1000x400 px: shows in Jupyter, save(path) writes it>"
    path = picture.save(tmp_path / "out" / "curves.png")
    assert path == os.fspath(tmp_path / "out" / "curves.png")
    assert (tmp_path / "out" / "curves.png").read_bytes().startswith(PNG_MAGIC)


def _monitor(samples: int) -> nn.Monitor:
    loss, model = _loss()
    loss.backward()
    monitor = nn.Monitor(every=1, bins=4)
    for step in range(samples):
        monitor.record(model, step)
    return monitor


def test_a_monitor_shows_its_last_sample_as_a_table():
    monitor = _monitor(3)
    assert repr(monitor) == "Monitor(every=1, bins=4, grad_histograms=False, samples=3)"
    page = monitor._repr_html_()
    assert page.startswith(f"<p>{repr(monitor)}, iterations 0 to 2; statistics of iteration 2:</p>")
    latest = monitor.latest()
    for name, row in latest.items():
        assert f"<tr><th>{name}</th>" in page
        assert f'<td class="number">{row["grad_norm"]:.4g}</td>' in page


def test_a_monitor_without_samples_says_so():
    assert nn.Monitor()._repr_html_() == (
        "<p>Monitor(every=10, bins=30, grad_histograms=False, samples=0): no samples yet; call record() or attach()</p>"
    )


def test_monitor_plots_without_a_path_are_pictures():
    pytest.importorskip("matplotlib", reason="needs matplotlib: pip install matplotlib")
    monitor = _monitor(2)
    for picture in (monitor.plot_stats(stats=["norm", "grad_norm"]), monitor.plot_histograms()):
        assert isinstance(picture, ag.viz.Picture) and picture._repr_png_().startswith(PNG_MAGIC)


def test_ipython_shows_each_as_intended(monkeypatch, tmp_path):
    """What a notebook receives for each as a cell's last value; without `dot`, text and no traceback."""
    pytest.importorskip("matplotlib", reason="needs matplotlib: pip install matplotlib")
    drawing, monitor, loss = _drawing(), _monitor(2), _loss()[0]
    picture = monitor.plot_stats(stats=["norm"])
    assert _display(loss) == {"text/plain": repr(loss)}
    assert _display(monitor) == {"text/plain": repr(monitor), "text/html": monitor._repr_html_()}
    shown = _display(picture)
    assert sorted(shown) == ["image/png", "text/plain"] and shown["image/png"].startswith(PNG_MAGIC)
    if shutil.which("dot") is not None:
        assert _display(drawing) == {"text/plain": repr(drawing), "image/svg+xml": drawing._repr_svg_()}
    _without_dot(monkeypatch, tmp_path)
    assert _display(drawing) == drawing._repr_mimebundle_()
    assert "could not draw it" in _display(drawing)["text/plain"]
