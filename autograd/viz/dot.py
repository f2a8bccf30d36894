"""Graph drawings: `to_dot` turns the graph behind some tensors into a Graphviz Digraph, `render` writes it.

The drawing reads tensor -> op -> tensor. Leaves, parameters and constants have their own shapes and
colours; every op output is a small tensor node carrying its shape and, after a backward run inside
`autograd.record_grad_stats()`, a colour for the health of the gradient that flowed into it.

It draws the same before and after backward: it walks only what an OpNode keeps for its whole
life (`op`, `params`, its input edges, `input_meta`, `output_meta`, `grad_stats`), with an explicit
stack. A graph that `create_graph=True` recorded (the backward pass) is drawn like any other.
The `graphviz` Python package is imported only when a drawing is made, so `import autograd` does
not need it.

In Jupyter, the drawing `to_dot` returns shows itself as SVG when it is a cell's last value; where the
Graphviz `dot` program is missing it shows a line of text saying so instead of raising. A TensorNode
keeps its text repr, as a torch.Tensor does: drawing the graph behind every tensor a cell shows would
be slow and rarely wanted, so a drawing is asked for by name, `ag.viz.to_dot(t)`.
"""

import functools
import html
import os
import shutil
from typing import TYPE_CHECKING

from autograd.graph import OpNode
from autograd.modes import gradient_summary
from autograd.tensor import TensorNode

if TYPE_CHECKING:
    import graphviz

# Gradient health thresholds, checked in this order: the first that matches names the colour.
EXPLODING_MAX_ABS = 1e3  # any entry above this: the step will throw the weights far away
DEAD_ZERO_FRACTION = 0.5  # more than half exact zeros: units behind a ReLU that no longer learn
VANISHING_MEAN_ABS = 1e-7  # float32 updates this small are lost in rounding of the weights
VANISHING_NORM = 1e-6

# Runs of identical ops shorter than this stay expanded; blocks longer than this are not searched.
COLLAPSE_MIN_REPEATS = 2
COLLAPSE_MAX_BLOCK = 16

HEALTH_COLOURS = {
    "healthy": "#b7e4c7",
    "vanishing": "#a0c4ff",
    "exploding": "#ff6b6b",
    "dead": "#f4c27a",
}
# Attributes shared by every node of a kind; one string each keeps a 10,000-op drawing fast.
_STYLE = {
    "op": 'shape=box style="rounded,filled" fillcolor="#dbe8fb"',
    "tensor": "shape=ellipse style=filled fillcolor=white fontsize=9 height=0.3",
    "point": "shape=point width=0.12 style=filled fillcolor=white",
    "leaf": 'shape=invhouse style=filled fillcolor="#d8f3dc"',
    "parameter": 'shape=box3d style=filled fillcolor="#ffe8a3"',
    "constant": 'shape=note style="filled,dashed" fillcolor="#eeeeee" fontcolor="#555555" fontsize=9',
}
_LEGEND_KINDS = (
    ("op", "#dbe8fb", "op (rounded box), with its settings"),
    ("tensor", "white", "op output (ellipse): shape, dtype"),
    ("parameter", "#ffe8a3", "parameter (3-D box), by name"),
    ("leaf", "#d8f3dc", "leaf that requires grad (house)"),
    ("constant", "#eeeeee", "constant tensor (dashed note)"),
)
_HEALTH_MEANING = {
    "healthy": "gradient healthy",
    "vanishing": f"vanishing: mean |g| < {VANISHING_MEAN_ABS:g} or norm < {VANISHING_NORM:g}",
    "exploding": f"exploding: max |g| > {EXPLODING_MAX_ABS:g}",
    "dead": f"mostly dead: > {DEAD_ZERO_FRACTION:.0%} exact zeros",
}
_SEVERITY = ("healthy", "dead", "vanishing", "exploding")
_FORMATS = ("svg", "png", "pdf")


def gradient_health(stats: dict) -> str:
    """Name the health of one gradient from its summary (see `autograd.gradient_summary`).

    Checked in order: 'exploding' (max |g| > EXPLODING_MAX_ABS), 'dead' (zero fraction >
    DEAD_ZERO_FRACTION), 'vanishing' (mean |g| < VANISHING_MEAN_ABS or norm < VANISHING_NORM),
    else 'healthy'. An all-zero gradient is 'dead': exact zeros come from a cut (a ReLU, a mask),
    not from shrinking.

    Args:
        stats: a dict with keys norm, mean_abs, max_abs, zero_fraction.

    Returns:
        One of 'healthy', 'vanishing', 'exploding', 'dead'.

    >>> gradient_health({"norm": 2.0, "mean_abs": 0.5, "max_abs": 1.0, "zero_fraction": 0.0})
    'healthy'
    >>> gradient_health({"norm": 0.0, "mean_abs": 0.0, "max_abs": 0.0, "zero_fraction": 1.0})
    'dead'
    >>> gradient_health({"norm": 1e-9, "mean_abs": 1e-10, "max_abs": 1e-9, "zero_fraction": 0.0})
    'vanishing'
    """
    if stats["max_abs"] > EXPLODING_MAX_ABS:
        return "exploding"
    if stats["zero_fraction"] > DEAD_ZERO_FRACTION:
        return "dead"
    if stats["mean_abs"] < VANISHING_MEAN_ABS or stats["norm"] < VANISHING_NORM:
        return "vanishing"
    return "healthy"


def op_label(node: OpNode) -> str:
    """The op's name and its displayable settings (ints, floats, strings, bools, tuples of them).

    Settings that are None or arrays (masks, running statistics) are left out.

    >>> import autograd as ag
    >>> x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    >>> op_label(ag.leaky_relu(x, 0.2).source)
    'LeakyReLU negative_slope=0.2'
    """
    settings = []
    for key, value in node.params.items():
        text = _format_setting(value)
        if text is not None:
            settings.append(f"{key}={text}")
    return " ".join([node.op.__name__, *settings])


def _format_setting(value):
    """`value` as short text, or None when it is not a plain setting (None, an array, an object)."""
    if value is None:
        return None
    # Look through nested tuples with a stack: only scalars and slices may hide inside.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
        elif not (item is None or isinstance(item, (bool, int, float, str, slice)) or item is Ellipsis):
            return None
    text = repr(value).replace("slice(None, None, None)", ":")
    return text if len(text) <= 40 else text[:37] + "..."


def _quote(text: str) -> str:
    """`text` as a quoted DOT string; newlines become centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _grad_text(norm: float) -> str:
    return f"grad norm {norm:.3g}"


def _flatten_roots(where: str, roots) -> list:
    flat = []
    stack = list(reversed(roots))
    while stack:
        item = stack.pop()
        if isinstance(item, TensorNode):
            flat.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            raise TypeError(f"{where}: roots must be TensorNodes or lists of them, got {type(item).__name__}")
    if not flat:
        raise ValueError(f"{where}: expected at least one root tensor, got none")
    return flat


def _collect(roots) -> tuple:
    """Every OpNode behind `roots`, each op's parents, and who consumes each op's outputs."""
    ops, parents, consumers = [], {}, {}
    stack = [t.source for t in reversed(roots) if t.source is not None]
    while stack:
        node = stack.pop()
        if id(node) in parents:
            continue
        node_parents = node.parents
        parents[id(node)] = node_parents
        consumers.setdefault(id(node), [])
        ops.append(node)
        for p in node_parents:
            if p is not None:
                users = consumers.setdefault(id(p), [])
                if not users or users[-1] is not node:
                    users.append(node)
                if id(p) not in parents:
                    stack.append(p)
    return ops, parents, consumers


def _collapse(ops, parents, consumers, labels, root_ops) -> tuple:
    """Fold repeated blocks of single-file chains into their first block.

    The rule: a chain is a maximal run of ops where each op's only producing op is the previous one
    and the previous one feeds nothing else (a long chain, a stack of identical layers, an unrolled
    RNN with one shared weight). Inside a chain, a block of up to COLLAPSE_MAX_BLOCK ops (same op
    names and settings, in order) repeated at least COLLAPSE_MIN_REPEATS times in a row is drawn
    once, with "x N". Residual adds and other joins end a chain, so such blocks stay expanded, and
    the roots' own ops are never folded away.

    Returns (hidden, repeats): hidden maps id(op) -> the op drawn in its place, repeats maps
    id(shown op) -> (N, the ops it stands for).
    """
    previous, following = {}, {}
    for node in ops:
        producers = {id(p): p for p in parents[id(node)] if p is not None}
        if len(producers) != 1 or id(node) in root_ops:
            continue  # a join, a leaf-fed start, or a root (kept in sight): the chain breaks here
        (p,) = producers.values()
        if len(consumers[id(p)]) == 1 and id(p) not in root_ops:
            previous[id(node)] = p
            following[id(p)] = node
    codes = {}
    hidden, repeats = {}, {}
    for node in ops:
        if id(node) in previous:
            continue
        chain = [node]
        while id(chain[-1]) in following:
            chain.append(following[id(chain[-1])])
        signature = [codes.setdefault(labels[id(n)], len(codes)) for n in chain]
        start = 0
        while start < len(chain):
            best_period, best_count = 1, 1
            for period in range(1, min(COLLAPSE_MAX_BLOCK, (len(chain) - start) // 2) + 1):
                block = signature[start : start + period]
                count = 1
                while signature[start + count * period : start + (count + 1) * period] == block:
                    count += 1
                if count * period > best_count * best_period:
                    best_period, best_count = period, count
            if best_count < COLLAPSE_MIN_REPEATS:
                start += 1
                continue
            for offset in range(best_period):
                shown = chain[start + offset]
                copies = chain[start + offset : start + best_count * best_period : best_period]
                repeats[id(shown)] = (best_count, copies)
                for copy in copies[1:]:
                    hidden[id(copy)] = shown
            start += best_count * best_period
    return hidden, repeats


def to_dot(
    *roots,
    params: dict | None = None,
    show_shapes: bool = True,
    show_grads: bool = True,
    clusters: dict | None = None,
    collapse_repeats: bool = False,
    grad_health: bool = True,
    legend: bool = True,
) -> "graphviz.Digraph":
    """Draw everything that led to `roots` as a Graphviz Digraph (it displays inline in Jupyter).

    Args:
        *roots: TensorNodes, or lists of them.
        params: name -> tensor, e.g. `dict(model.named_parameters())`; those leaves are drawn as
            parameters and labelled by name.
        show_shapes: label tensors with shape and dtype.
        show_grads: label leaves with the norm of `.grad`, and op outputs with the norm of the
            gradient recorded in `grad_stats`.
        clusters: OpNode (or the TensorNode it produced) -> module path such as 'features.0'; ops
            sharing a path are boxed together as `subgraph cluster_<i>` labelled with the path. A
            leaf joins a box when every op it feeds is in that box.
        collapse_repeats: draw repeated blocks of a chain once with "x N" (rule in `_collapse`);
            the block drawn is the first copy, with its own parameters.
        grad_health: colour op outputs by `gradient_health` where `grad_stats` were recorded (run
            backward inside `autograd.record_grad_stats()`); a collapsed block shows the worst
            health among its copies.
        legend: add a legend node (id `legend`).

    Returns:
        A `graphviz.Digraph`; `.source` is the DOT text. In Jupyter it shows as SVG (see `NotebookDisplay`).

    Raises:
        TypeError: a root, a parameter or a cluster key is not a tensor (or op).
        ValueError: no roots were given.
        ImportError: the `graphviz` Python package is not installed.
    """
    flat = _flatten_roots("to_dot", roots)
    graphviz = _import_graphviz("to_dot")
    param_names = {}
    for name, t in (params or {}).items():
        if not isinstance(t, TensorNode):
            raise TypeError(f"to_dot: params must map names to TensorNodes, got {type(t).__name__} for {name!r}")
        param_names[id(t)] = name
    cluster_of = {}
    for key, path in (clusters or {}).items():
        node = key.source if isinstance(key, TensorNode) else key
        if not isinstance(node, OpNode):
            raise TypeError(f"to_dot: clusters must map OpNodes (or tensors made by ops) to paths, got {key!r}")
        cluster_of[id(node)] = str(path)

    ops, parents, consumers = _collect(flat)
    labels = {id(node): op_label(node) for node in ops}
    root_ops = {id(t.source) for t in flat if t.source is not None}
    hidden, repeats = _collapse(ops, parents, consumers, labels, root_ops) if collapse_repeats else ({}, {})

    drawing = _Drawing(show_shapes, show_grads, grad_health)
    for node in ops:
        drawing.number(node, "o")
    for t in flat:
        if t.source is None:
            drawing.leaf(t)
    root_outputs = {(id(t.source), t._index): t for t in flat if t.source is not None}
    for node in ops:
        if id(node) not in hidden:
            cluster = cluster_of.get(id(node))
            drawing.add_op(node, labels[id(node)], cluster, repeats.get(id(node)), root_outputs)
            drawing.add_inputs(node, parents[id(node)], hidden, cluster)
    drawing.add_leaves(param_names, {id(t) for t in flat})

    dot = _drawing_type(graphviz)(
        "nodegrad", graph_attr={"rankdir": "TB", "fontname": "Helvetica"}, node_attr={"fontname": "Helvetica"}
    )
    dot.body.extend(drawing.body(legend))
    return dot


class _Drawing:
    """DOT lines under construction: nodes grouped by cluster, edges, and the leaves met so far.

    Lines are written by hand rather than through `Digraph.node`: with ids that need no quoting
    and one shared style string per kind, a 10,000-op graph takes a fraction of the time.
    """

    def __init__(self, show_shapes: bool, show_grads: bool, grad_health: bool):
        self.show_shapes = show_shapes
        self.show_grads = show_grads
        self.grad_health = grad_health
        self.ids = {}  # id(op) or id(leaf) -> DOT id, numbered in walk order so the output is stable
        self.nodes = []  # (cluster path or None, DOT line)
        self.edges = []
        self.leaves = {}  # id(leaf) -> tensor
        self.leaf_clusters = {}  # id(leaf) -> cluster paths of the ops it feeds
        self.health_seen = set()
        self._shapes = {}

    def number(self, obj, prefix: str) -> str:
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = f"{prefix}{len(self.ids)}"
        return self.ids[key]

    def leaf(self, t) -> str:
        if id(t) not in self.leaves:
            self.leaves[id(t)] = t
            self.leaf_clusters[id(t)] = set()
        return self.number(t, "l")

    def shape_text(self, shape, dtype) -> str:
        # Memoized: str(dtype) is slow in numpy, and big graphs repeat a few shapes.
        key = (shape, dtype)
        text = self._shapes.get(key)
        if text is None:
            text = self._shapes[key] = f"{tuple(shape)} {dtype}"
        return text

    def add_node(self, cluster, dot_id: str, lines: list, style: str) -> None:
        label = _quote("\n".join(lines))
        self.nodes.append((cluster, f"\t{dot_id} [label={label} {style}]\n"))

    def add_op(self, node, label: str, cluster, repeat, root_outputs: dict) -> None:
        """The op and one small node per output: name (of a root), shape, gradient norm, health colour."""
        me = self.ids[id(node)]
        self.add_node(cluster, me, [label] if repeat is None else [label, f"x {repeat[0]}"], _STYLE["op"])
        for k, (shape, dtype) in enumerate(node.output_meta):
            tensor = root_outputs.get((id(node), k))
            stats = node.grad_stats[k] if node.grad_stats is not None else None
            lines = []
            if (node.output_names or {}).get(k):
                lines.append(node.output_names[k])
            if self.show_shapes:
                lines.append(self.shape_text(shape, dtype))
            if self.show_grads and stats is not None:
                lines.append(_grad_text(stats["norm"]))
            elif self.show_grads and tensor is not None and tensor.grad is not None:
                lines.append(_grad_text(gradient_summary(tensor.grad)["norm"]))
            style = _STYLE["tensor"] if lines else _STYLE["point"]
            if self.grad_health and stats is not None:
                copies = (node,) if repeat is None else repeat[1]
                health = max(
                    (gradient_health(c.grad_stats[k]) for c in copies if c.grad_stats is not None),
                    key=_SEVERITY.index,
                )
                self.health_seen.add(health)
                style = style.replace("fillcolor=white", f'fillcolor="{HEALTH_COLOURS[health]}"')
            if (id(node), k) in root_outputs:
                style += " penwidth=2.5"
            self.add_node(cluster, f"{me}_{k}", lines, style)
            self.edges.append(f"\t{me} -> {me}_{k}\n")

    def add_inputs(self, node, parents: tuple, hidden: dict, cluster) -> None:
        """Edges into the op: from a producing op's output, a leaf, or a constant."""
        me = self.ids[id(node)]
        for i, (parent, edge) in enumerate(zip(parents, node.inputs)):
            if parent is not None:
                shown = hidden.get(id(parent), parent)
                self.edges.append(f"\t{self.ids[id(shown)]}_{edge[1]} -> {me}\n")
            elif edge is not None:
                self.edges.append(f"\t{self.leaf(edge[0])} -> {me}\n")
                self.leaf_clusters[id(edge[0])].add(cluster)
            elif node.input_meta[i] is not None:
                # A tensor without gradient: only its shape is kept, one node per use.
                lines = ["constant", self.shape_text(*node.input_meta[i])] if self.show_shapes else ["constant"]
                self.add_node(cluster, f"c{me}_{i}", lines, _STYLE["constant"])
                self.edges.append(f"\tc{me}_{i} -> {me}\n")

    def add_leaves(self, param_names: dict, root_ids: set) -> None:
        """Every leaf met: parameters by name, other leaves and constants by their own name."""
        for key, t in self.leaves.items():
            if not t.requires_grad:
                kind, title = "constant", t.name or "constant"
            elif key in param_names:
                kind, title = "parameter", param_names[key]
            else:
                kind, title = "leaf", t.name or "leaf"
            lines = [title]
            if self.show_shapes:
                lines.append(self.shape_text(t.shape, t.dtype))
            if self.show_grads and t.grad is not None:
                lines.append(_grad_text(gradient_summary(t.grad)["norm"]))
            clusters = self.leaf_clusters[key]
            cluster = next(iter(clusters)) if len(clusters) == 1 else None
            self.add_node(cluster, self.ids[key], lines, _STYLE[kind] + (" penwidth=2.5" if key in root_ids else ""))

    def body(self, legend: bool) -> list:
        lines = [line for cluster, line in self.nodes if cluster is None]
        by_cluster = {}
        for cluster, line in self.nodes:
            if cluster is not None:
                by_cluster.setdefault(cluster, []).append(line)
        for n, (path, members) in enumerate(by_cluster.items()):
            lines.append(f'\tsubgraph cluster_{n} {{\n\t\tlabel={_quote(path)} style=dashed color="#888888"\n')
            lines.extend("\t" + line for line in members)
            lines.append("\t}\n")
        lines.extend(self.edges)
        if legend:
            lines.append(_legend_line(self.health_seen))
        return lines


def _legend_line(health_kinds) -> str:
    swatches = [(colour, text) for _, colour, text in _LEGEND_KINDS]
    swatches += [(HEALTH_COLOURS[h], _HEALTH_MEANING[h]) for h in _SEVERITY if h in health_kinds]
    rows = [
        f'<tr><td bgcolor="{colour}">&nbsp;&nbsp;</td><td align="left">{html.escape(text)}</td></tr>'
        for colour, text in swatches
    ]
    rows.append('<tr><td border="0"></td><td align="left">bold outline: root; x N: block repeated N times</td></tr>')
    table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>"
    return f"\tlegend [shape=plaintext fontsize=9 label=<{table}>]\n"


class NotebookDisplay:
    """Mixed into the `graphviz.Digraph` that `to_dot` returns: how the drawing shows in Jupyter.

    As SVG where the Graphviz `dot` program runs; where it is missing (or fails), as one line of text
    saying so, never an exception in the middle of a notebook.
    """

    def _repr_svg_(self) -> str | None:
        """The drawing as SVG text, or None (the front end then shows the text) when `dot` cannot draw it."""
        import graphviz  # importable: only drawings made by to_dot, with graphviz, carry this class

        try:
            return self.pipe(format="svg", encoding="utf-8")
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
            return None

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        """IPython's display protocol: {"image/svg+xml": SVG}, or {"text/plain": why not} where `dot` cannot draw."""
        wanted = set(include) if include is not None else {"image/svg+xml", "text/plain"}
        wanted -= set(exclude or ())
        if "image/svg+xml" not in wanted:
            return {}
        svg = self._repr_svg_()
        if svg is not None:
            return {"image/svg+xml": svg}
        if "text/plain" not in wanted:
            return {}
        return {
            "text/plain": f"{self!r}: Graphviz's `dot` program could not draw it (is Graphviz installed? "
            "`apt-get install graphviz`, `brew install graphviz`); `.source` holds the DOT text"
        }

    def __repr__(self) -> str:
        nodes = sum("[label=" in line for line in self.body)
        edges = sum(" -> " in line for line in self.body)
        return f"<nodegrad graph drawing: {nodes} nodes, {edges} edges>"


@functools.cache
def _drawing_type(graphviz) -> type:
    """graphviz.Digraph with NotebookDisplay mixed in, made once, when a drawing is first asked for."""
    return type("Drawing", (NotebookDisplay, graphviz.Digraph), {"__module__": __name__})


def _import_graphviz(where: str):
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            f"{where}: needs the graphviz Python package, got ImportError; run `pip install graphviz` "
            "(or `pip install nodegrad[viz]`)"
        ) from None
    return graphviz


def render(roots, path, format: str = "svg", **to_dot_kwargs) -> str:
    """Draw the graph behind `roots` into a picture at `path`, with its DOT source next to it.

    The .dot file (same path, suffix .dot) is always written first, so the graph survives even
    where the Graphviz `dot` program is missing.

    Args:
        roots: a tensor or a list of tensors.
        path: the picture's path; `.<format>` is appended unless it already ends so.
        format: 'svg', 'png' or 'pdf'.
        **to_dot_kwargs: passed to `to_dot` (params, clusters, collapse_repeats, ...).

    Returns:
        The path of the picture written.

    Raises:
        ValueError: an unknown format.
        RuntimeError: the Graphviz `dot` program is not installed (the .dot file was written).
    """
    if format not in _FORMATS:
        raise ValueError(f"render: format must be one of {_FORMATS}, got {format!r}")
    dot = to_dot(roots, **to_dot_kwargs)
    path = os.fspath(path)
    if not path.endswith("." + format):
        path = f"{path}.{format}"
    dot_path = os.path.splitext(path)[0] + ".dot"
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(dot_path, "w") as f:
        f.write(dot.source)
    graphviz = _import_graphviz("render")
    missing = RuntimeError(
        f"render: needs the Graphviz `dot` program to write {path}, got none on PATH; the DOT source was "
        f"written to {dot_path}. Install Graphviz (`apt-get install graphviz`, `brew install graphviz`, or "
        f"https://graphviz.org/download/) or render it with `dot -T{format} {dot_path} -o {path}`"
    )
    if shutil.which("dot") is None:
        raise missing
    try:
        picture = dot.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise missing from None
    with open(path, "wb") as f:
        f.write(picture)
    return path
