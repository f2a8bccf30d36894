"""render: the .dot file always, the picture where Graphviz's `dot` program exists, a clear error where not."""

import os
import shutil

import pytest

from tests.viz.graphs import mlp

graphviz = pytest.importorskip("graphviz")

from autograd.viz import render, to_dot  # noqa: E402  (after the skip: render needs graphviz)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")


@needs_dot
def test_render_svg_writes_the_picture_and_the_dot_source(tmp_path):
    loss, params = mlp()
    written = render(loss, tmp_path / "graph.svg", params=params)
    assert written == str(tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "fc.weight" in svg
    assert (tmp_path / "graph.dot").read_text() == to_dot(loss, params=params).source


@needs_dot
def test_render_png_of_a_list_of_roots_after_backward_appends_the_suffix(tmp_path):
    loss, params = mlp()
    loss.backward()
    written = render([loss], tmp_path / "pictures" / "graph", format="png", params=params, collapse_repeats=True)
    assert written == str(tmp_path / "pictures" / "graph.png")
    with open(written, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(written) > 1000


def test_missing_dot_program_raises_one_clear_error_after_writing_the_dot_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` anywhere on PATH
    loss, params = mlp()
    with pytest.raises(RuntimeError) as raised:
        render(loss, tmp_path / "graph.svg", params=params)
    message = str(raised.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "https://graphviz.org/download/"):
        assert hint in message
    assert str(tmp_path / "graph.dot") in message
    assert "fc.weight" in (tmp_path / "graph.dot").read_text()
    assert not (tmp_path / "graph.svg").exists()


def test_dot_vanishing_after_the_path_check_gives_the_same_error(tmp_path, monkeypatch):
    def not_found(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Digraph, "pipe", not_found)
    loss, _ = mlp()
    with pytest.raises(RuntimeError, match="render: needs the Graphviz `dot` program"):
        render(loss, tmp_path / "g", format="png")
    assert (tmp_path / "g.dot").exists()


def test_unknown_format_is_refused_before_anything_is_written(tmp_path):
    loss, _ = mlp()
    with pytest.raises(ValueError, match="render: format must be one of .*, got 'jpeg'"):
        render(loss, tmp_path / "graph", format="jpeg")
    assert list(tmp_path.iterdir()) == []
