"""to_dot: nodes, edges and labels of small known graphs, before and after backward."""

import numpy as np
import pytest

import autograd as ag
from autograd.op import Op
from tests.viz.graphs import mlp, node_with, parse

graphviz = pytest.importorskip("graphviz")

from autograd.viz import to_dot  # noqa: E402  (after the skip: to_dot needs graphviz)


def test_mlp_before_backward_has_every_tensor_and_op():
    loss, params = mlp()
    dot = to_dot(loss, params=params)
    nodes, edges = parse(dot)
    # 4 ops, 4 op outputs, 3 leaves; op -> output 4, output -> op 3, leaf -> op 3.
    assert len(nodes) == 11
    assert len(edges) == 10
    assert isinstance(dot, graphviz.Digraph)
    assert "box3d" in node_with(nodes, "fc.weight\\n(3, 4) float32")
    assert "box3d" in node_with(nodes, "fc.bias\\n(4,) float32")
    # The input x needs no gradient: the graph keeps only its shape, drawn as a constant.
    assert "shape=note" in node_with(nodes, 'label="constant\\n(2, 3) float32')
    for op in ("MatMul", "Add", "ReLU", "Sum keepdims=False"):
        assert "shape=box " in node_with(nodes, f'label="{op}')
    assert "penwidth" in node_with(nodes, 'label="() float32')  # the root
    assert "grad norm" not in dot.source


def test_mlp_after_backward_draws_the_same_graph_with_gradients():
    loss, params = mlp()
    before = parse(to_dot(loss, params=params))
    loss.backward()
    assert loss.source.released
    dot = to_dot(loss, params=params)
    nodes, edges = parse(dot)
    assert len(nodes) == len(before[0]) and len(edges) == len(before[1])
    norm = np.linalg.norm(params["fc.weight"].grad)
    assert f"fc.weight\\n(3, 4) float32\\ngrad norm {norm:.3g}" in dot.source
    # The drawing is the same as before backward: the same constant for x.
    assert "shape=note" in node_with(nodes, 'label="constant\\n(2, 3) float32')


def test_leaf_without_params_is_drawn_as_a_leaf_by_name():
    a = ag.tensor([1.0, 2.0], requires_grad=True, name="a")
    nodes, edges = parse(to_dot(a.exp().sum()))
    assert "invhouse" in node_with(nodes, 'label="a\\n(2,) float32')
    assert len(nodes) == 5 and len(edges) == 4


def test_op_settings_are_shown_and_arrays_left_out():
    x = ag.tensor(np.ones((1, 3, 8, 8), np.float32), requires_grad=True)
    w = ag.tensor(np.ones((2, 3, 3, 3), np.float32), requires_grad=True)
    y = ag.conv2d(x, w, stride=2, padding=1)
    z = ag.batch_norm(y, running_mean=np.zeros(2, np.float32), running_var=np.ones(2, np.float32), training=True)
    picked = z[:, 1]
    nodes, _ = parse(to_dot(picked.sum()))
    assert 'label="Conv2d stride=2 padding=1 dilation=1 groups=1"' in node_with(nodes, "Conv2d")
    batch_norm = node_with(nodes, "BatchNorm")
    assert "training=True" in batch_norm and "running_mean" not in batch_norm
    assert 'label="GetItem index=(:, 1)"' in node_with(nodes, "GetItem")


def test_constant_arguments_that_are_not_tensors_are_not_drawn():
    x = ag.tensor([1.0, -1.0], requires_grad=True)
    w = ag.tensor(np.ones((3, 2, 1, 1)), requires_grad=True)
    y = ag.conv2d((x * 2).reshape((1, 2, 1, 1)), w)  # bias=None and the number 2 are no tensors
    nodes, edges = parse(to_dot(y.sum()))
    assert len(nodes) == 4 * 2 + 2  # Mul, Reshape, Conv2d, Sum with their outputs; x and w
    conv = next(k for k, v in nodes.items() if 'label="Conv2d' in v)
    mul = next(k for k, v in nodes.items() if 'label="Mul"' in v)
    assert len([tail for tail, head in edges if head == conv]) == 2  # no edge for bias=None
    assert len([tail for tail, head in edges if head == mul]) == 1  # nor for the number 2


def test_multiple_roots_share_their_common_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    a, b = h.sum(), (h * h).sum()
    nodes, edges = parse(to_dot(a, b))
    assert len(nodes) == 4 * 2 + 1  # Exp, Sum, Mul, Sum and their outputs, one leaf
    assert to_dot([a, b]).source == to_dot(a, b).source
    assert sum("penwidth" in attrs for attrs in nodes.values()) == 2


def test_a_leaf_root_is_one_node():
    x = ag.tensor([1.0], requires_grad=True, name="x")
    nodes, edges = parse(to_dot(x))
    assert list(nodes.values()) == [node_with(nodes, 'label="x\\n(1,) float32"')] and edges == []


class _Split(Op):
    """(y0, y1) = (x[:1], x[1:]);  dx = concat(g0, g1)."""  # private: stays out of OP_REGISTRY

    @staticmethod
    def forward(ctx, x):
        return x[:1].copy(), x[1:].copy()

    @staticmethod
    def backward(ctx, g0, g1):
        return (np.concatenate([g0, g1]),)


@pytest.mark.parametrize("released", [False, True])
def test_each_input_comes_from_the_right_output_of_a_multi_output_op(released):
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    first, rest = _Split.apply(x)
    loss = first.exp().sum() + rest.tanh().sum()
    if released:
        loss.backward()
    nodes, edges = parse(to_dot(loss))
    exp_id = next(k for k, v in nodes.items() if 'label="Exp"' in v)
    tanh_id = next(k for k, v in nodes.items() if 'label="Tanh"' in v)
    split_id = next(k for k, v in nodes.items() if 'label="_Split"' in v)
    assert (f"{split_id}_0", exp_id) in edges
    assert (f"{split_id}_1", tanh_id) in edges


def test_clusters_box_ops_by_module_path():
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((2, 3)))
    w1, w2 = (ag.tensor(rng.standard_normal((3, 3)), requires_grad=True) for _ in range(2))
    h1 = (x @ w1).relu()
    h2 = h1 @ w2
    clusters = {h1.source.parents[0]: "layer1", h1: "layer1", h2.source: "layer2"}
    dot = to_dot(h2.sum(), params={"layer1.weight": w1, "layer2.weight": w2}, clusters=clusters)
    source = dot.source
    assert source.count("subgraph cluster_") == 2
    boxes = {chunk.split('label="')[1].split('"')[0]: chunk for chunk in source.split("subgraph cluster_")[1:]}
    first, second = boxes["layer1"], boxes["layer2"]
    assert "MatMul" in first and "ReLU" in first and "layer1.weight" in first
    assert "MatMul" in second and "layer2.weight" in second and "ReLU" not in second
    assert "Sum" not in first and "Sum" not in second
    assert len(parse(dot)[0]) == 3 * 2 + 1 * 2 + 3  # clusters add no nodes


def test_legend_is_one_node_and_can_be_left_out():
    loss, params = mlp()
    source = to_dot(loss, params=params).source
    assert source.count("\tlegend [") == 1
    assert "parameter (3-D box)" in source and "vanishing" not in source  # no health without grad stats
    assert "legend" not in to_dot(loss, legend=False).source


def test_show_shapes_off_draws_unnamed_intermediates_as_points():
    loss, params = mlp()
    nodes, _ = parse(to_dot(loss, params=params, show_shapes=False))
    assert not any("float32" in attrs for attrs in nodes.values())
    assert sum("shape=point" in attrs for attrs in nodes.values()) == 4


def test_names_with_quotes_and_backslashes_are_escaped():
    x = ag.tensor([1.0], requires_grad=True, name='say "hi"\\now')
    source = to_dot(x.exp()).source
    assert 'label="say \\"hi\\"\\\\now\\n(1,) float32"' in source


def test_a_10000_op_chain_is_walked_without_recursion():
    h = ag.tensor(np.ones(3), requires_grad=True)
    for _ in range(5000):
        h = (h * 0.5).tanh()
    nodes, edges = parse(to_dot(h))
    assert len(nodes) == 2 * 10_000 + 1
    assert len(edges) == 10_000 + 9_999 + 1


def test_bad_arguments_say_what_came():
    loss, _ = mlp()
    with pytest.raises(TypeError, match="to_dot: roots must be TensorNodes or lists of them, got int"):
        to_dot(loss, 3)
    with pytest.raises(ValueError, match="at least one root"):
        to_dot([])
    with pytest.raises(TypeError, match="params must map names to TensorNodes, got ndarray for 'w'"):
        to_dot(loss, params={"w": np.ones(2)})
    with pytest.raises(TypeError, match="clusters must map OpNodes"):
        to_dot(loss, clusters={"fc": "fc"})
