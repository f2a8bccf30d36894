"""A run report: one self-contained HTML file with a run's settings, final metrics, graph drawing,
figures and per-layer statistics, to open in any browser, mail, or keep next to a checkpoint.

Nothing is linked: PNG figures are inlined as base64 data URIs and the SVG drawing as an `<svg>`
element, so the file shows the same anywhere, offline, years later. Only the standard library is used.
"""

import base64
import html
import math
import os
import re

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# An SVG file's prologue (XML declaration, DOCTYPE naming an external DTD, comments) has no place
# inside HTML and would be the file's only external reference: everything before `<svg` is dropped.
_SVG_START = re.compile(r"<svg[\s>]")

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.number { text-align: right; font-family: Menlo, Consolas, monospace; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img, svg { max-width: 100%; height: auto; }
"""


def _text(value) -> str:
    """A table cell's text: floats to 4 significant digits, everything else as str."""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _cell(value) -> str:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (
        f'<td class="number">{html.escape(_text(value))}</td>' if numeric else f"<td>{html.escape(_text(value))}</td>"
    )


def _key_value_table(where: str, name: str, entries) -> str:
    if not isinstance(entries, dict):
        raise TypeError(f"{where}: {name} must be a dict, got {type(entries).__name__}")
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th>{_cell(v)}</tr>" for k, v in entries.items())
    return f'<table class="{name}"><tr><th>name</th><th>value</th></tr>{rows}</table>'


def stats_table_html(stats: dict, where: str = "stats_table_html") -> str:
    """An HTML table of name -> {stat -> value}: a row per name, a column per stat (write_report, Monitor in Jupyter).

    >>> stats_table_html({"w": {"norm": 2.0}})
    '<table class="stats"><tr><th>name</th><th>norm</th></tr><tr><th>w</th><td class="number">2</td></tr></table>'
    """
    if not isinstance(stats, dict) or not all(isinstance(row, dict) for row in stats.values()):
        raise TypeError(f"{where}: stats_table must be a dict of name -> dict of stat -> value, got {stats!r:.80}")
    columns = list(dict.fromkeys(stat for row in stats.values() for stat in row))
    head = "<tr><th>name</th>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in columns) + "</tr>"
    rows = "".join(
        f"<tr><th>{html.escape(str(name))}</th>" + "".join(_cell(row.get(c, "")) for c in columns) + "</tr>"
        for name, row in stats.items()
    )
    return f'<table class="stats">{head}{rows}</table>'


def _svg_element(where: str, graph_svg) -> str:
    """The `<svg>...</svg>` element of an SVG string or file, prologue dropped."""
    text = graph_svg.decode("utf-8") if isinstance(graph_svg, bytes) else os.fspath(graph_svg)
    if not text.lstrip().startswith("<"):
        with open(text, encoding="utf-8") as f:
            text = f.read()
    start = _SVG_START.search(text)
    if start is None:
        raise ValueError(f"{where}: graph_svg must be SVG text or the path of an SVG file, got no <svg> element")
    return text[start.start() :]


def _figure_html(where: str, caption, png_path) -> str:
    with open(png_path, "rb") as f:
        data = f.read()
    if not data.startswith(PNG_MAGIC):
        raise ValueError(f"{where}: figures must be PNG files, got {os.fspath(png_path)!r} starting with {data[:8]!r}")
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    caption = html.escape(str(caption))
    return f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'


def write_report(
    path,
    title: str,
    settings: dict,
    metrics: dict,
    graph_svg=None,
    figures=(),
    stats_table: dict | None = None,
) -> str:
    """Write one self-contained HTML page describing a training run.

    Args:
        path: the .html file to write (its directory is created).
        title: the page's title and heading.
        settings: name -> value of what the run was given (learning rate, batch size, seed, ...).
        metrics: name -> value of how it ended (final loss, best validation accuracy, ...).
        graph_svg: an SVG drawing (text, e.g. `to_dot(...).pipe(format="svg").decode()`, or the path
            of an .svg file such as `render(...)` writes), inlined as an `<svg>` element.
        figures: (caption, PNG path) pairs, e.g. from `plot_history` and `Monitor.plot_stats`,
            inlined as base64 data URIs.
        stats_table: name -> {stat -> value}, e.g. per-layer weight and gradient statistics.

    Returns:
        The path written.

    Raises:
        TypeError: settings, metrics or stats_table of the wrong type.
        ValueError: a figure that is not a PNG, or graph_svg without an `<svg>` element.
        OSError: a figure or SVG file cannot be read.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.html"
    >>> _ = write_report(path, "run 1", {"lr": 0.1}, {"val_acc": 0.91})
    >>> "<td class=\\"number\\">0.91</td>" in path.read_text()
    True
    """
    where = "write_report"
    sections = [
        "<h2>Settings</h2>",
        _key_value_table(where, "settings", settings),
        "<h2>Final metrics</h2>",
        _key_value_table(where, "metrics", metrics),
    ]
    if stats_table is not None:
        sections += ["<h2>Layer statistics</h2>", stats_table_html(stats_table, where)]
    if graph_svg is not None:
        sections += ["<h2>Graph</h2>", f'<div class="graph">{_svg_element(where, graph_svg)}</div>']
    figures = list(figures)
    if figures:
        sections.append("<h2>Figures</h2>")
        sections += [_figure_html(where, caption, png) for caption, png in figures]
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )
    path = os.fspath(path)
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
