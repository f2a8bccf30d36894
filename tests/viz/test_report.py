"""write_report: one HTML file that holds everything (tables, inlined PNGs, the SVG) and links to nothing."""

import html.parser
import shutil

import numpy as np
import pytest

import autograd as ag

pytest.importorskip("matplotlib")

from autograd.viz import plot_history, write_report  # noqa: E402

SVG = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="5"/></svg>\n'
)


class Page(html.parser.HTMLParser):
    """The parts of a page the tests look at: title, tables (by class, as rows of cells), images, svg, links."""

    def __init__(self, text: str):
        super().__init__()
        self.title, self.tables, self.images, self.svgs, self.links = "", {}, [], 0, []
        self._in_title, self._table, self._row = False, None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [value for key, value in attrs.items() if key in ("src", "href") and value]
        if tag == "title":
            self._in_title = True
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("class"), [])
        elif tag == "tr":
            self._row = []
            self._table.append(self._row)
        elif tag == "img":
            self.images.append((attrs["src"], attrs.get("alt")))
        elif tag == "svg":
            self.svgs += 1
        elif tag in ("link", "script", "iframe"):
            self.links.append(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "table":
            self._table, self._row = None, None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif self._row is not None and data.strip():
            self._row.append(data.strip())


def figure(tmp_path, name: str) -> str:
    return plot_history(np.linspace(2.0, 0.1, 30), path=tmp_path / f"{name}.png")


def test_the_report_holds_every_part_inline(tmp_path):
    figures = [("loss", figure(tmp_path, "loss")), ("loss again <b>", figure(tmp_path, "again"))]
    path = write_report(
        tmp_path / "out" / "report.html",
        "MNIST run <1>",
        settings={"lr": 0.01, "batch_size": 128, "update_rule": "adam"},
        metrics={"best_val_acc": 0.97123, "final_loss": 0.0456},
        graph_svg=SVG,
        figures=figures,
        stats_table={"0.weight": {"norm": 12.5, "grad_norm": 0.03}, "0.bias": {"norm": 1.0}},
    )
    text = open(path, encoding="utf-8").read()
    page = Page(text)
    assert page.title == "MNIST run <1>"
    assert ["lr", "0.01"] in page.tables["settings"] and ["update_rule", "adam"] in page.tables["settings"]
    assert ["best_val_acc", "0.9712"] in page.tables["metrics"]
    assert page.tables["stats"][0] == ["name", "norm", "grad_norm"]
    assert ["0.weight", "12.5", "0.03"] in page.tables["stats"] and ["0.bias", "1"] in page.tables["stats"]
    assert [alt for _, alt in page.images] == ["loss", "loss again <b>"]
    assert all(src.startswith("data:image/png;base64,iVBORw0KGgo") for src, _ in page.images)
    assert page.svgs == 1
    assert all(link.startswith("data:") for link in page.links)
    assert 'src="http' not in text and 'href="http' not in text and "DOCTYPE svg" not in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
def test_a_rendered_graph_file_is_inlined(tmp_path):
    pytest.importorskip("graphviz")
    x = ag.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    svg_path = ag.viz.render((x * 2).sum(), tmp_path / "graph", format="svg")
    path = write_report(tmp_path / "r.html", "graph", {}, {}, graph_svg=svg_path)
    text = open(path, encoding="utf-8").read()
    page = Page(text)
    assert page.svgs == 1 and "Mul" in text
    assert page.links == [] and "<!DOCTYPE svg" not in text and "<?xml" not in text


def test_bad_inputs_are_refused_before_anything_is_written(tmp_path):
    not_png = tmp_path / "fake.png"
    not_png.write_bytes(b"GIF89a....")
    with pytest.raises(ValueError, match="write_report: figures must be PNG files, got .*fake.png"):
        write_report(tmp_path / "a.html", "t", {}, {}, figures=[("fake", not_png)])
    with pytest.raises(ValueError, match="graph_svg must be SVG text or the path of an SVG file, got no <svg>"):
        write_report(tmp_path / "a.html", "t", {}, {}, graph_svg="<html></html>")
    with pytest.raises(TypeError, match="write_report: settings must be a dict, got list"):
        write_report(tmp_path / "a.html", "t", [("lr", 1)], {})
    with pytest.raises(TypeError, match="stats_table must be a dict of name -> dict of stat -> value"):
        write_report(tmp_path / "a.html", "t", {}, {}, stats_table={"w": 1.0})
    assert not (tmp_path / "a.html").exists()
