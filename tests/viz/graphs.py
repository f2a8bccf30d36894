"""Small known graphs and a DOT reader shared by the drawing tests."""

import re

import numpy as np

import autograd as ag

_NODE = re.compile(r"^\s+(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\s+(\w+) -> (\w+)")


def parse(dot) -> tuple:
    """(nodes: DOT id -> attribute text, edges: list of (tail, head)) of a Digraph, legend left out."""
    nodes, edges = {}, []
    for line in dot.source.splitlines():
        edge = _EDGE.match(line)
        if edge:
            edges.append(edge.groups())
            continue
        node = _NODE.match(line)
        if node and node.group(1) not in ("graph", "node", "edge", "legend"):
            nodes[node.group(1)] = node.group(2)
    return nodes, edges


def node_with(nodes: dict, text: str) -> str:
    """The attributes of the one node whose attributes contain `text`."""
    found = [attrs for attrs in nodes.values() if text in attrs]
    assert len(found) == 1, f"expected one node containing {text!r}, got {len(found)}"
    return found[0]


def mlp():
    """x (a constant input) -> MatMul fc.weight -> Add fc.bias -> ReLU -> Sum: 4 ops, 3 leaves."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((2, 3)).astype(np.float32), name="x")
    w = ag.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = ag.tensor(np.zeros(4, np.float32), requires_grad=True)
    loss = (x @ w + b).relu().sum()
    return loss, {"fc.weight": w, "fc.bias": b}
