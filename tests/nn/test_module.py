"""Module, Parameter, Sequential and ModuleList: registration, traversal, modes, hooks, state, repr."""

import warnings

import numpy as np
import pytest

import autograd as ag
import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        self.bn = nn.BatchNorm1d(2)
        self.scale = nn.Parameter(np.ones(2, np.float32))
        self.register_buffer("steps", np.zeros((), np.int64))
        self.note = "plain attribute"

    def forward(self, x):
        return self.bn(self.features(x)) * self.scale


def test_parameter_dtypes_and_leafness():
    assert nn.Parameter([1, 2]).dtype == np.float32
    assert nn.Parameter(np.zeros(3)).dtype == np.float64
    p = nn.Parameter(np.zeros(3, np.float32))
    assert p.requires_grad and p.is_leaf and isinstance(p, ag.TensorNode)
    assert repr(p).startswith("Parameter containing:\nTensorNode(")
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


def test_attribute_assignment_registers_parameters_modules_and_buffers():
    block = Block()
    assert list(block._parameters) == ["scale"]
    assert list(block._modules) == ["features", "bn"]
    assert list(block._buffers) == ["steps"]
    assert block.note == "plain attribute" and "note" not in block._parameters
    block.scale = nn.Parameter(np.zeros(2))  # replacing keeps one registration
    assert [n for n, _ in block.named_parameters(recurse=False)] == ["scale"]
    block.scale = None
    assert list(block.named_parameters(recurse=False)) == []
    with pytest.raises(TypeError, match=r"Block.bn: must be Module or None, got int"):
        block.bn = 3
    with pytest.raises(TypeError, match=r"Block.steps: must be ndarray or None, got list"):
        block.steps = [1]
    del block.features
    assert "features" not in block._modules and not hasattr(block, "features")


def test_assigning_before_super_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) in Forgetful.__init__ first"):
        Forgetful()


def test_dotted_names_like_pytorch():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == [
        "scale",
        "features.0.weight",
        "features.0.bias",
        "features.2.weight",
        "features.2.bias",
        "bn.weight",
        "bn.bias",
    ]
    assert [n for n, _ in block.named_buffers()] == [
        "steps",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert [n for n, _ in block.named_modules()] == ["", "features", "features.0", "features.1", "features.2", "bn"]
    assert [n for n, _ in block.named_children()] == ["features", "bn"]
    assert [type(m).__name__ for m in block.children()] == ["Sequential", "BatchNorm1d"]
    assert len(list(block.parameters())) == 7 and len(list(block.buffers())) == 4
    assert list(block.modules())[0] is block
    assert [n for n, _ in block.named_parameters(prefix="model")][:2] == ["model.scale", "model.features.0.weight"]


def test_shared_modules_and_parameters_are_listed_once_but_saved_under_every_name():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(net.modules())) == 3
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch
    net.load_state_dict(net.state_dict())


def test_traversal_is_iterative_on_a_very_deep_tree():
    depth = 2000  # twice Python's recursion limit
    root = nn.Linear(1, 1)
    for _ in range(depth):
        parent = nn.Module()
        parent.a = root
        root = parent
    names = [n for n, _ in root.named_parameters()]
    assert names == [".".join(["a"] * depth + ["weight"]), ".".join(["a"] * depth + ["bias"])]
    assert len(list(root.modules())) == depth + 1
    state = root.state_dict()
    root.load_state_dict(state)
    assert not root.eval().training and not list(root.modules())[-1].training
    text = repr(root)
    assert text.count("\n") == 2 * depth and "Linear(in_features=1, out_features=1, bias=True)" in text
    visited = []
    root.apply(visited.append)
    assert isinstance(visited[0], nn.Linear) and visited[-1] is root


def test_a_module_containing_itself_is_reported_not_looped():
    net = nn.Sequential(nn.ReLU())
    net.add_module("loop", net)
    assert len(list(net.modules())) == 2  # remove_duplicate walks stop at the repeat
    with pytest.raises(ValueError, match="contains itself"):
        net.state_dict()


def test_apply_visits_children_before_parents():
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.ReLU())
    order = []
    net.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "Sequential", "ReLU", "Sequential"]


def test_train_and_eval_reach_every_module():
    block = Block()
    assert all(m.training for m in block.modules())
    assert block.eval() is block
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())
    with pytest.raises(ValueError, match="mode must be a bool"):
        block.train("no")


def test_zero_grad_and_requires_grad():
    net = nn.Sequential(nn.Linear(3, 2))
    net(np.ones((1, 3), np.float32)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_double_and_float_cast_in_place_keeping_parameter_identity_for_the_optimizer():
    import optim

    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    params = list(net.parameters())
    optimizer = optim.Adam(net.parameters(), lr=0.1)
    x = np.random.default_rng(0).normal(size=(5, 3))
    net(x.astype(np.float32)).sum().backward()
    optimizer.step()
    assert net.double() is net
    assert list(net.parameters()) == params and all(a is b for a, b in zip(net.parameters(), params))
    assert {p.dtype for p in params} == {np.dtype(np.float64)} and params[0].grad.dtype == np.float64
    assert net[1].running_mean.dtype == np.float64 and net[1].num_batches_tracked.dtype == np.int64
    assert net[0].weight.value.T.flags.c_contiguous  # Linear's layout survives the cast
    before = params[0].value.copy()
    optimizer.zero_grad()
    y = net(x)
    assert y.dtype == np.float64
    y.sum().backward()
    optimizer.step()  # the optimizer built before the cast updates the cast parameters
    assert params[0].dtype == np.float64 and not np.array_equal(params[0].value, before)
    net.float()
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float32)} and net[1].running_var.dtype == np.float32
    assert net.to("cpu") is net and net.cpu() is net and net.to(device="cpu", dtype="float64") is net
    assert net[0].bias.dtype == np.float64
    net.to(np.zeros(1, np.float32))
    assert net[2].weight.dtype == np.float32
    assert net.half()[0].weight.dtype == np.float16


def test_to_takes_torch_dtypes_and_devices_and_refuses_others():
    net = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="CPU only, got device 'cuda'"):
        net.to("cuda")
    with pytest.raises(TypeError, match="only floating point or complex dtypes are accepted, got int64"):
        net.to(np.int64)
    with pytest.raises(TypeError, match="expected a dtype, a device or a tensor"):
        net.to(object())
    torch = pytest.importorskip("torch", reason="needs PyTorch as the oracle: pip install torch==2.13.0 (pinned)")
    assert net.to(torch.device("cpu"), torch.float64).weight.dtype == np.float64
    with pytest.raises(ValueError, match="CPU only"):
        net.to(torch.device("meta"))


def test_get_submodule_follows_dotted_names():
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 2), nn.ReLU()), nn.Linear(2, 1))
    assert net.get_submodule("0.1") is net[0][1] and net.get_submodule("") is net
    with pytest.raises(AttributeError, match="Sequential has no submodule '5' in '0.5'"):
        net.get_submodule("0.5")


def test_forward_hooks_see_inputs_and_can_replace_the_output():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs[0].shape, out.shape)))
    replace = layer.register_forward_hook(lambda m, inputs, out: out * 0)
    x = np.ones((3, 2), np.float32)
    assert not layer(x).value.any()
    assert seen == [(layer, (3, 2), (3, 2))]
    handle.remove()
    replace.remove()
    assert layer(x).value.any() and len(seen) == 1


def test_state_dict_holds_copies_including_buffers():
    block = Block()
    state = block.state_dict()
    assert list(state) == [
        "scale",
        "steps",
        "features.0.weight",
        "features.0.bias",
        "features.2.weight",
        "features.2.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["scale"][:] = 7
    assert not (block.scale.value == 7).any()


def test_state_dict_round_trip_restores_parameters_and_buffers():
    ag.manual_seed(0)
    source = Block()
    source(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32))  # moves the BatchNorm buffers
    target = Block()
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert a.dtype == b.dtype
    assert int(target.bn.num_batches_tracked) == 1


def test_load_state_dict_casts_accepts_tensors_and_keeps_identity():
    layer = nn.Linear(2, 3)  # float32
    weight_array = layer.weight.value
    layer.load_state_dict({"weight": ag.tensor(np.full((3, 2), 0.5)), "bias": np.arange(3)})
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer.weight.value is weight_array and (weight_array == 0.5).all()
    assert layer.bias.value.tolist() == [0.0, 1.0, 2.0]


def test_load_state_dict_reports_every_problem_at_once_and_changes_nothing():
    net = nn.Sequential()
    net.fc = nn.Linear(5, 10)
    before = net.state_dict()
    bad = {"fc.weight": np.zeros((5, 10)), "foo": np.zeros(1)}
    message = (
        "load_state_dict: missing ['fc.bias']; unexpected ['foo']; "
        "shape mismatch fc.weight: expected (10, 5), got (5, 10)"
    )
    with pytest.raises(ValueError) as error:
        net.load_state_dict(bad)
    assert str(error.value) == message
    np.testing.assert_array_equal(net.fc.weight.value, before["fc.weight"])
    with pytest.raises(ValueError, match=r"^load_state_dict: shape mismatch fc.weight"):
        net.load_state_dict(bad, strict=False)  # shapes must fit even when not strict
    result = net.load_state_dict({"fc.weight": np.ones((10, 5)), "foo": 1}, strict=False)
    assert result.missing_keys == ["fc.bias"] and result.unexpected_keys == ["foo"]
    assert (net.fc.weight.value == 1).all()


def _bn_net_and_other_state():
    """A Linear + BatchNorm1d net, and a state dict of the same layout with different values everywhere."""
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    other = {name: np.full_like(array, 2) for name, array in net.state_dict().items()}
    return net, other


@pytest.mark.parametrize(
    "entry, value, reason",
    [
        ("1.running_var", np.array(["a", "b", "c"]), r"dtype mismatch 1.running_var: expected float32 .*got <U1"),
        ("1.running_var", np.array([1j, 2j, 3j]), "dtype mismatch 1.running_var: expected float32 .*got complex128"),
        ("1.num_batches_tracked", np.array(2.5), "dtype mismatch 1.num_batches_tracked: expected int64 .*got float64"),
        ("1.running_var", np.array([object()] * 3), "dtype mismatch 1.running_var: expected float32 .*got object"),
    ],
    ids=["strings", "complex", "float-into-int", "objects"],
)
def test_a_mistyped_entry_after_good_ones_changes_nothing(entry, value, reason):
    net, state = _bn_net_and_other_state()
    before = net.state_dict()
    with pytest.raises(ValueError, match=rf"^load_state_dict: {reason}"):
        net.load_state_dict({**state, entry: value})
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_a_read_only_buffer_is_reported_before_anything_is_written():
    net, state = _bn_net_and_other_state()
    net[1].running_var.flags.writeable = False
    before = net.state_dict()
    with pytest.raises(ValueError, match=r"^load_state_dict: read-only 1.running_var"):
        net.load_state_dict(state)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_a_cast_that_fails_fails_before_the_first_write():
    net, state = _bn_net_and_other_state()
    before = net.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="overflow"):
            net.load_state_dict({**state, "1.running_var": np.full(3, 1e300)})  # float64 overflows float32
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match="load_state_dict: state_dict must map names to arrays, got list"):
        nn.Linear(2, 2).load_state_dict([("weight", np.zeros((2, 2)))])


def test_loading_into_a_parameter_a_graph_saved_makes_that_graph_refuse_backward():
    layer = nn.Linear(2, 2, dtype=np.float64)
    x = ag.tensor(np.ones((1, 2)), requires_grad=True)
    y = (x @ layer.weight).sum()  # MatMul saved the weight array
    layer.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(2)})
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_repr_prints_the_tree_like_pytorch():
    net = nn.Sequential(nn.Linear(3, 2), nn.Sequential(nn.ReLU(), nn.Dropout(0.25)), nn.Flatten())
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=2, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.25)\n"
        "  )\n"
        "  (2): Flatten(start_dim=1, end_dim=-1)\n"
        ")"
    )

    class Multi(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n)"
    assert repr(nn.Module()) == "Module()"


def test_sequential_indexing_slicing_and_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    net = nn.Sequential(*layers)
    assert len(net) == 3 and list(net) == layers
    assert net[0] is layers[0] and net[-1] is layers[2]
    head = net[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [n for n, _ in head.named_parameters()] == ["2.weight", "2.bias"]  # PyTorch keeps the keys
    with pytest.raises(IndexError, match=r"Sequential: index must lie in \[-3, 3\), got 3"):
        net[3]
    net[1] = nn.Tanh()
    assert isinstance(net[1], nn.Tanh)
    net.append(nn.Sigmoid())
    x = np.ones((4, 2), np.float32)
    expected = ag.sigmoid(layers[2](ag.tanh(layers[0](x)))).value
    np.testing.assert_allclose(net(x).value, expected)
    named = nn.Sequential({"first": nn.Linear(1, 1)})
    assert [n for n, _ in named.named_parameters()] == ["first.weight", "first.bias"]


def test_module_list_registers_its_entries():
    layers = nn.ModuleList([nn.Linear(1, 2)])
    layers.append(nn.Linear(2, 3)).extend([nn.ReLU(), nn.Linear(3, 1)])
    assert len(layers) == 4 and isinstance(layers[-1], nn.Linear) and isinstance(layers[2], nn.ReLU)
    names = [n for n, _ in layers.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    tail = layers[1:]
    assert isinstance(tail, nn.ModuleList) and [n for n, _ in tail.named_modules()][1:] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="ModuleList: index must lie in"):
        layers[4]
    with pytest.raises(NotImplementedError, match="ModuleList: has no forward"):
        layers(1)

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))

    assert [n for n, _ in Tower().named_parameters()][-1] == "blocks.1.bias"


def test_registration_errors():
    module = nn.Module()
    with pytest.raises(KeyError, match="contain no '.'"):
        module.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match="register_buffer: 'x' must be an ndarray or None, got list"):
        module.register_buffer("x", [1])
    with pytest.raises(TypeError, match="register_parameter: 'w' must be an nn.Parameter or None, got TensorNode"):
        module.register_parameter("w", ag.tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="add_module: 'm' must be an nn.Module or None, got int"):
        module.add_module("m", 1)
    with pytest.raises(NotImplementedError, match=r"Module: forward\(\) is not defined"):
        module(1)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        _ = module.nothing
