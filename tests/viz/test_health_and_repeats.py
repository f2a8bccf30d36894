"""to_dot: gradient-health colours from recorded grad stats, and collapsing repeated blocks."""

import numpy as np
import pytest

import autograd as ag
from autograd.viz import HEALTH_COLOURS
from tests.viz.graphs import node_with, parse

pytest.importorskip("graphviz")

from autograd.viz import to_dot  # noqa: E402  (after the skip: to_dot needs graphviz)


def health_graph():
    """Three heads off one input: ReLU kills most gradients, 1e4 explodes them, 1e-12 makes them vanish."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((8, 4)), requires_grad=True, name="x")
    shifted = x - 1.5  # about 93% of a standard normal lies below 1.5, so the ReLU zeroes those gradients
    shifted.name = "shifted"
    big = x * 1.0
    big.name = "big"
    tiny = x * 1.0
    tiny.name = "tiny"
    loss = shifted.relu().sum() + (big * 1e4).sum() + (tiny * 1e-12).sum()
    loss.name = "loss"
    return loss, (shifted, big, tiny)


def test_gradient_health_colours_each_op_output():
    loss, keep = health_graph()
    with ag.record_grad_stats():
        loss.backward()
    dot = to_dot(loss)
    nodes, _ = parse(dot)
    assert HEALTH_COLOURS["dead"] in node_with(nodes, 'label="shifted\\n')
    assert HEALTH_COLOURS["exploding"] in node_with(nodes, 'label="big\\n')
    assert HEALTH_COLOURS["vanishing"] in node_with(nodes, 'label="tiny\\n')
    assert HEALTH_COLOURS["healthy"] in node_with(nodes, 'label="loss\\n')
    legend = dot.source.split("\tlegend [")[1]
    for meaning in ("gradient healthy", "mostly dead", "exploding: max |g| &gt; 1000", "vanishing: mean |g| &lt;"):
        assert meaning in legend


def test_no_colours_without_recorded_stats_or_when_turned_off():
    loss, keep = health_graph()
    loss.backward(retain_graph=True)
    assert not any(colour in to_dot(loss).source for colour in HEALTH_COLOURS.values())
    with ag.record_grad_stats():
        loss.backward()
    source = to_dot(loss, grad_health=False).source
    assert not any(colour in source for colour in HEALTH_COLOURS.values())
    assert "grad norm" in node_with(parse(to_dot(loss))[0], 'label="big\\n')


def test_a_chain_of_one_op_collapses_to_one_node_with_its_count():
    x = ag.tensor(np.ones(3), requires_grad=True, name="x")
    h = x
    for _ in range(30):
        h = h.tanh()
    loss = h.sum()
    nodes, edges = parse(to_dot(loss, collapse_repeats=True))
    # x -> Tanh (x 30) -> its output -> Sum -> loss
    assert len(nodes) == 5 and len(edges) == 4
    assert 'label="Tanh\\nx 30"' in node_with(nodes, "Tanh")
    assert len(parse(to_dot(loss))[0]) == 2 * 31 + 1


def test_repeated_layers_collapse_to_the_first_with_its_parameters():
    rng = np.random.default_rng(0)
    h = ag.tensor(rng.standard_normal((2, 4)))
    params = {}
    for i in range(10):
        w = params[f"layers.{i}.weight"] = ag.tensor(rng.standard_normal((4, 4)) * 0.5, requires_grad=True)
        b = params[f"layers.{i}.bias"] = ag.tensor(np.zeros(4), requires_grad=True)
        h = (h @ w + b).relu()
    loss = h.sum()
    with ag.record_grad_stats():
        loss.backward()
    nodes, edges = parse(to_dot(loss, params=params, collapse_repeats=True))
    for op in ("MatMul", "Add", "ReLU"):
        assert f'label="{op}\\nx 10"' in node_with(nodes, f'label="{op}')
    assert "layers.0.weight" in node_with(nodes, "weight") and "layers.0.bias" in node_with(nodes, "bias")
    # 4 ops + 4 outputs + the input, the first weight and bias
    assert len(nodes) == 4 * 2 + 3
    assert len(edges) == 4 + 3 + 3


def test_different_settings_and_residual_joins_stay_expanded():
    x = ag.tensor(np.ones(3), requires_grad=True)
    h = x
    for slope in (0.1, 0.2, 0.3, 0.4):
        h = ag.leaky_relu(h, slope)
    nodes, _ = parse(to_dot(h, collapse_repeats=True))
    assert len(nodes) == 2 * 4 + 1
    for _ in range(5):
        h = h + h.tanh()
    nodes, _ = parse(to_dot(h, collapse_repeats=True))
    assert len(nodes) == 2 * (4 + 10) + 1
    assert "\\nx " not in to_dot(h, collapse_repeats=True).source


def test_collapsed_block_shows_the_worst_health_of_its_copies():
    x = ag.tensor(np.ones(3), requires_grad=True)
    h = x
    for scale in [1.0] * 18 + [1e-4, 1e4]:
        h = h * scale  # only the 19th output receives an exploding gradient (1e4); the first is healthy
    loss = h.sum()
    with ag.record_grad_stats():
        loss.backward()
    nodes, _ = parse(to_dot(loss, collapse_repeats=True))
    assert 'label="Mul\\nx 20"' in node_with(nodes, "Mul")
    assert HEALTH_COLOURS["exploding"] in node_with(nodes, 'label="(3,) float64\\ngrad norm 1.73"')
