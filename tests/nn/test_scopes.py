"""record_scopes: every op lands in the innermost module that made it, and graph drawings box them by path."""

import re

import numpy as np
import pytest

import autograd as ag
import nn

graphviz = pytest.importorskip("graphviz")


def dot_clusters(dot) -> dict:
    """{cluster label: the DOT lines of the nodes inside it} from a Digraph's source."""
    clusters, current = {}, None
    lines = dot.source.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("subgraph cluster_"):
            label = re.search(r'label="([^"]*)"', lines[i + 1]).group(1)
            current = clusters.setdefault(label, [])
        elif current is not None and line.strip() == "}":
            current = None
        elif current is not None and "[label=" in line:
            current.append(line)
    return clusters


def ops_between(inputs, output) -> set:
    """The OpNodes on the way back from `output` to the ops that made `inputs` (the test's own walk)."""
    stops = {id(t.source) for t in inputs if isinstance(t, ag.TensorNode) and t.source is not None}
    found, stack = {}, [output.source]
    while stack:
        node = stack.pop()
        if node is None or id(node) in stops or id(node) in found:
            continue
        found[id(node)] = node
        stack.extend(node.parents)
    return set(found.values())


def capture(module, calls: list):
    return module.register_forward_hook(lambda m, inputs, output: calls.append((inputs, output)))


def small_cnn():
    ag.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3))


def test_a_sequential_cnn_boxes_each_layer_and_leaves_the_loss_outside():
    model = small_cnn()
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    calls = []
    handle = capture(model[4], calls)
    with nn.record_scopes(model) as scopes:
        loss = ag.cross_entropy(model(x), np.array([0, 2]))
    handle.remove()

    assert sorted(set(scopes.clusters.values())) == ["0", "1", "2", "3", "4"]
    ((linear_inputs, linear_output),) = calls
    linear_ops = ops_between(linear_inputs, linear_output)
    assert {n.op.__name__ for n in linear_ops} == {"Linear"}
    assert all(scopes.clusters[n] == "4" for n in linear_ops)
    assert loss.source not in scopes.clusters  # the loss is computed outside the model
    assert {n.op.__name__ for n, path in scopes.clusters.items() if path == "0"} == {"Conv2d"}

    loss.backward()
    dot = ag.viz.to_dot(loss, params=dict(model.named_parameters()), clusters=scopes.clusters)
    boxes = dot_clusters(dot)
    assert sorted(boxes) == ["0", "1", "2", "3", "4"]
    linear_box = "\n".join(boxes["4"])
    for text in ("Linear", "4.weight", "4.bias"):
        assert text in linear_box
    assert "0.weight" in "\n".join(boxes["0"]) and "Conv2d" in "\n".join(boxes["0"])
    assert not any("CrossEntropy" in line for lines in boxes.values() for line in lines)


class Head(nn.Module):
    """Own ops before and after a child: x * 2 -> fc -> + 1."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x * 2.0) + 1.0


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
        self.head = Head()

    def forward(self, x):
        return self.head(self.features(x)).relu()


def test_a_nested_model_gives_each_op_to_the_innermost_module():
    ag.manual_seed(0)
    model = Net()
    x = np.ones((5, 3), np.float32)
    calls = []
    handle = capture(model.head.fc, calls)
    with nn.record_scopes(model) as scopes:
        out = model(x)
    handle.remove()

    by_path = {}
    for node, path in scopes.clusters.items():
        by_path.setdefault(path, []).append(node.op.__name__)
    assert by_path["features.0"] == ["Linear"]
    assert by_path["features.1"] == ["Tanh"]
    assert by_path["head.fc"] == ["Linear"]
    # The head's own multiply comes before its child: found by stepping over the child's call.
    assert sorted(by_path["head"]) == ["Add", "Mul"]
    assert "features" not in by_path  # a Sequential owns no op of its own
    assert out.source.op.__name__ == "ReLU" and out.source not in scopes.clusters  # the root claims nothing
    ((fc_inputs, fc_output),) = calls
    assert all(scopes.clusters[n] == "head.fc" for n in ops_between(fc_inputs, fc_output))

    boxes = dot_clusters(ag.viz.to_dot(out, params=dict(model.named_parameters()), clusters=scopes.clusters))
    assert sorted(boxes) == ["features.0", "features.1", "head", "head.fc"]
    assert "head.fc.weight" in "\n".join(boxes["head.fc"])


def test_hooks_are_removed_at_the_end_and_a_reused_module_claims_every_call():
    relu = nn.ReLU()
    model = nn.Sequential(nn.Linear(2, 2), relu, nn.Linear(2, 2), relu)
    x = np.ones((1, 2), np.float32)
    with nn.record_scopes(model) as scopes:
        model(x)
    assert [n.op.__name__ for n, path in scopes.clusters.items() if path == "1"] == ["ReLU", "ReLU"]
    assert all(not m._forward_hooks for m in model.modules())
    count = len(scopes.clusters)
    model(x)
    assert len(scopes.clusters) == count


def test_nothing_is_recorded_under_no_grad_and_a_non_module_is_refused():
    model = nn.Sequential(nn.Linear(2, 2))
    with ag.no_grad(), nn.record_scopes(model) as scopes:
        model(np.ones((1, 2), np.float32))
    assert scopes.clusters == {}
    with pytest.raises(TypeError, match="record_scopes: model must be an nn.Module, got function"):
        nn.record_scopes(lambda x: x)
