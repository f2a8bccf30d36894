"""ONNX export round trips: every mapped op in a small graph, the MNIST CNN and MLP, a batch size other
than the example's, and the errors. Each graph is exported, run in onnxruntime, and compared with the
engine on the same inputs. Skipped without onnx and onnxruntime (pip install -e ".[onnx]"); what
happens without them is tested in test_onnx_optional.py."""

from dataclasses import dataclass, field

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.onnx.export import op_name
from autograd.onnx.trace import tracing
from autograd.op import OP_REGISTRY, Op
from demos import mnist_cnn, mnist_mlp

INSTALL = 'ONNX export tests need onnx and onnxruntime: pip install -e ".[onnx]"'
onnx = pytest.importorskip("onnx", reason=INSTALL)
ort = pytest.importorskip("onnxruntime", reason=INSTALL)

# float32 rounding: onnxruntime sums in another order than numpy, so results differ in the last bits.
RTOL, ATOL = 1e-5, 1e-5
EXPORT_BATCH, RUN_BATCH = 2, 5


@dataclass
class Case:
    """A small graph to export: `fn` of inputs drawn uniformly from [low, high) in `shapes` ("B": the batch)."""

    name: str
    fn: object
    shapes: list
    low: float = -2.0
    high: float = 2.0
    dynamic: bool = True  # the first dim is a batch that may change after export
    expected: object = None  # what the exported graph computes, where the engine draws at random (dropout)
    opsets: tuple = (17,)
    kwargs: dict = field(default_factory=dict)


R = np.random.default_rng(7)
W_CONV = R.standard_normal((4, 2, 3, 3)).astype(np.float32)
W_LIN = R.standard_normal((5, 4)).astype(np.float32)
B_LIN = R.standard_normal(5).astype(np.float32)
TARGET = np.array([1, 0])
OPSETS = (13, 17, 18)  # 18 moved the axes of ReduceMean/Max/Min from an attribute to an input


def bn_eval(x):
    bn = nn.BatchNorm2d(2)
    bn.running_mean[...] = [0.5, -0.25]
    bn.running_var[...] = [2.0, 0.5]
    bn.weight.value[...] = [1.5, -0.5]
    return bn.eval()(x)


CASES = [
    Case("add", lambda a, b: a + b, [("B", 3), (3,)]),
    Case("add_number", lambda a: 1.5 + a, [("B", 3)]),
    Case("sub", lambda a, b: a - b, [("B", 3), ("B", 3)]),
    Case("mul", lambda a, b: a * b * 2, [("B", 1, 3), (4, 1)]),
    Case("div", lambda a, b: a / b, [("B", 3), (3,)], low=0.5),
    Case("pow_number", lambda a: a**3, [("B", 3)]),
    Case("pow_tensor", lambda a, b: a**b, [("B", 3), ("B", 3)], low=0.5),
    Case("neg", lambda a: -a, [("B", 3)]),
    Case("exp", ag.exp, [("B", 3)]),
    Case("log", ag.log, [("B", 3)], low=0.1),
    Case("sqrt", ag.sqrt, [("B", 3)], low=0.1),
    Case("abs", ag.abs, [("B", 3)]),
    Case("sigmoid", ag.sigmoid, [("B", 3)], low=-8, high=8),
    Case("tanh", ag.tanh, [("B", 3)]),
    Case("relu", ag.relu, [("B", 3)]),
    Case("leaky_relu", lambda a: ag.leaky_relu(a, 0.2), [("B", 3)]),
    Case("elu", lambda a: ag.elu(a, 0.7), [("B", 3)]),
    Case("softmax", lambda a: ag.softmax(a, axis=1), [("B", 4, 3)], low=-20, high=20),
    Case("log_softmax", ag.log_softmax, [("B", 4)], low=-20, high=20),
    Case("softmax_two_axes", lambda a: ag.softmax(a, axis=(1, 2)), [("B", 4, 3)], opsets=OPSETS),
    Case("log_softmax_two_axes", lambda a: ag.log_softmax(a, axis=(-2, -1)), [("B", 4, 3)], opsets=OPSETS),
    Case("sin", ag.sin, [("B", 3)]),
    Case("cos", ag.cos, [("B", 3)]),
    Case("tan", ag.tan, [("B", 3)], low=-1.2, high=1.2),
    Case("sinh", ag.sinh, [("B", 3)]),
    Case("cosh", ag.cosh, [("B", 3)]),
    Case("erf", ag.erf, [("B", 3)]),
    Case("erfc", ag.erfc, [("B", 3)]),
    Case("log1p", ag.log1p, [("B", 3)], low=-0.5),
    Case("expm1", ag.expm1, [("B", 3)]),
    Case("softplus", lambda a: ag.softplus(a, beta=2.0, threshold=1.0), [("B", 3)]),
    Case("gelu", ag.gelu, [("B", 3)], low=-4, high=4),
    Case("gelu_tanh", lambda a: ag.gelu(a, approximate="tanh"), [("B", 3)], low=-4, high=4),
    Case("logsumexp", lambda a: ag.logsumexp(a, (1, 2)), [("B", 3, 4)], low=-20, high=20, opsets=OPSETS),
    Case("cumsum", lambda a: ag.cumsum(a, -1), [("B", 3, 4)]),
    Case("cumsum_reverse", lambda a: ag.ops.Cumsum.apply(a, axis=0, reverse=True), [("B", 3)]),
    Case("gather", lambda a: ag.gather(a, 1, np.array([[2, 0, 0, 1]] * EXPORT_BATCH)), [("B", 3)], dynamic=False),
    Case(
        "scatter_add",
        lambda a, b: ag.scatter_add(a, 1, np.array([[2, 0, 0]] * EXPORT_BATCH), b),
        [("B", 3), ("B", 3)],
        dynamic=False,
    ),
    Case("embedding", lambda a: ag.embedding(np.array([[2, 0], [1, 2]]), a), [(3, 4)], dynamic=False),
    Case("layer_norm", lambda a: ag.layer_norm(a, (3, 4), W_LIN[:3], B_LIN[:3].repeat(4).reshape(3, 4)), [("B", 3, 4)]),
    Case("layer_norm_plain", lambda a: ag.layer_norm(a, 4), [("B", 3, 4)], opsets=(17, 18)),
    Case("cast", lambda a: ag.cast(a, np.float64) * 2, [("B", 3)]),
    Case("clip", lambda a: ag.clip(a, -0.5, 0.5), [("B", 3)]),
    Case("clip_below", lambda a: ag.clip(a, a_min=0.0), [("B", 3)]),
    Case("maximum", lambda a, b: ag.maximum(a, b), [("B", 3), (3,)]),
    Case("minimum", lambda a: ag.minimum(a, 0.25), [("B", 3)]),
    Case("where_greater", lambda a, b: ag.where(a > 0, a, b), [("B", 3), ("B", 3)]),
    Case("where_greater_equal", lambda a: ag.where(a >= 0.5, a, 0.0), [("B", 3)]),
    Case("where_less", lambda a: ag.where(a < b_const(), -a, a), [("B", 3)]),
    Case("where_less_equal", lambda a: ag.where(a <= 0, a * 2, 1.0), [("B", 3)]),
    Case("where_ag_gt", lambda a, b: ag.where(ag.gt(a, b), a, b), [("B", 3), ("B", 3)]),  # the function form
    Case("sum_all", lambda a: a.sum(), [("B", 3, 4)], opsets=OPSETS),
    Case("sum_axis", lambda a: a.sum(axis=1, keepdims=True), [("B", 3, 4)], opsets=OPSETS),
    Case("mean", lambda a: a.mean(axis=(0, 2)), [("B", 3, 4)], opsets=OPSETS),
    Case("max", lambda a: a.amax(dim=-1), [("B", 3, 4)], opsets=OPSETS),
    Case("min", lambda a: a.min(axis=None, keepdims=True), [("B", 3, 4)], opsets=OPSETS),
    Case("var", lambda a: a.var(axis=1), [("B", 3, 4)], opsets=OPSETS),
    Case("var_ddof_over_batch", lambda a: a.var(axis=(0, 1), ddof=1), [("B", 3, 4)], opsets=OPSETS),
    Case("matmul", lambda a, b: a @ b, [("B", 4), (4, 3)]),
    Case("matmul_batched", lambda a, b: a @ b, [("B", 2, 4), (4, 3)]),
    Case("matmul_vector", lambda a: a @ W_LIN[0], [("B", 4)]),
    Case("linear", lambda a: ag.linear(a, W_LIN, B_LIN), [("B", 4)]),
    Case("linear_no_bias", lambda a: ag.linear(a, W_LIN), [("B", 4)]),
    Case("linear_batched", lambda a: ag.linear(a, W_LIN, B_LIN), [("B", 3, 4)]),
    Case("conv2d", lambda a: ag.conv2d(a, W_CONV, B_LIN[:4], stride=2, padding=1), [("B", 2, 7, 7)]),
    Case("conv2d_dilated", lambda a: ag.conv2d(a, W_CONV, dilation=2, padding=(2, 1)), [("B", 2, 7, 8)]),
    Case("conv2d_groups", lambda a: ag.conv2d(a, W_CONV[:, :1], groups=2), [("B", 2, 5, 5)]),
    Case("max_pool2d", lambda a: ag.max_pool2d(a, 3, stride=2, padding=1), [("B", 2, 7, 7)]),
    Case("avg_pool2d", lambda a: ag.avg_pool2d(a, 2, stride=1, padding=1), [("B", 2, 5, 5)]),
    Case("batch_norm_running", bn_eval, [("B", 2, 3, 3)]),
    Case(
        "batch_norm_batch_statistics",
        lambda a: ag.batch_norm(a, weight=W_LIN[0, :2], bias=B_LIN[:2], training=True),
        [("B", 2, 3, 3)],
        opsets=OPSETS,
    ),
    Case("dropout", lambda a: ag.dropout(a, 0.5) * 3, [("B", 3)], expected=lambda a: a * 3),
    Case("cross_entropy", lambda a: ag.cross_entropy(a, TARGET), [(2, 3)], dynamic=False),
    Case("cross_entropy_none", lambda a: ag.cross_entropy(a, TARGET, reduction="none"), [(2, 3)], dynamic=False),
    Case("nll_loss", lambda a: ag.nll_loss(ag.log_softmax(a), TARGET, reduction="sum"), [(2, 3)], dynamic=False),
    Case(
        "cross_entropy_weighted",
        lambda a: ag.cross_entropy(a, np.array([1, 0, 2]), W_LIN[0, :3] ** 2, ignore_index=2),
        [(3, 3)],
        dynamic=False,
    ),
    Case(
        "nll_loss_weighted",
        lambda a: ag.nll_loss(a, np.array([1, 0, 2]), W_LIN[1, :3] ** 2, ignore_index=0, reduction="none"),
        [(3, 3)],
        dynamic=False,
    ),
    Case("mse_loss", lambda a, b: ag.mse_loss(a, b), [("B", 3), ("B", 3)]),
    Case(
        "bce_with_logits", lambda a, b: ag.binary_cross_entropy_with_logits(a, b, "sum"), [("B", 3), ("B", 3)], high=8
    ),
    Case("reshape", lambda a: a.reshape(-1, 2, 6), [("B", 3, 4)]),
    Case("flatten", lambda a: nn.Flatten()(a), [("B", 3, 4)]),
    Case("expand", lambda a: a.expand(-1, 3, 4), [("B", 1, 4)]),
    Case("expand_constant", lambda a: a + ag.expand(B_LIN[:4], (3, 4)), [("B", 3, 4)]),
    Case("transpose", lambda a: a.T, [("B", 3, 4)]),
    Case("swapaxes", lambda a: ag.swapaxes(a, 0, 2), [("B", 3, 4)]),
    Case("squeeze", lambda a: ag.squeeze(a, 1), [("B", 1, 4)]),
    Case("squeeze_all", lambda a: ag.squeeze(a), [("B", 1, 4, 1)]),
    Case("unsqueeze", lambda a: ag.unsqueeze(a, -1), [("B", 3)]),
    Case("concat", lambda a, b: ag.concat([a, b, a], axis=-1), [("B", 3), ("B", 2)]),
    Case("stack", lambda a, b: ag.stack([a, b], axis=1), [("B", 3), ("B", 3)]),
    Case("pad", lambda a: ag.pad(a, ((0, 0), (1, 2))), [("B", 3)]),
    Case("getitem_int", lambda a: a[:, 1], [("B", 3, 4)]),
    Case("getitem_steps", lambda a: a[..., ::2] + a[::-1, ::-1, 1::2], [("B", 3, 4)]),
    Case("getitem_none", lambda a: a[1:, None, -1], [("B", 3, 4)]),
    Case("getitem_array", lambda a: a[:, [0, 2, 2]], [("B", 3, 4)]),
    Case("getitem_mask", lambda a: a[:, np.array([True, False, True, True])], [("B", 4)]),
    Case("getitem_2d_array", lambda a: a[np.array([[0, 1], [1, 0]])], [("B", 3)], dynamic=False),
]


def b_const():
    return ag.tensor([0.5, -0.5, 0.0], name="threshold")


def inputs_for(case: Case, batch: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    shapes = [tuple(batch if n == "B" else n for n in shape) for shape in case.shapes]
    return [rng.uniform(case.low, case.high, shape).astype(np.float32) for shape in shapes]


def run_onnx(path, inputs: list) -> list:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


def engine(fn, inputs: list) -> np.ndarray:
    return np.asarray(fn(*[ag.tensor(x) for x in inputs]).value)


@pytest.mark.parametrize(
    "case, opset", [(c, o) for c in CASES for o in c.opsets], ids=[f"{c.name}-{o}" for c in CASES for o in c.opsets]
)
def test_round_trip(case, opset, tmp_path):
    path = tmp_path / f"{case.name}.onnx"
    ag.onnx.export(case.fn, inputs_for(case, EXPORT_BATCH, seed=0), path, opset_version=opset)
    batch = RUN_BATCH if case.dynamic else EXPORT_BATCH
    inputs = inputs_for(case, batch, seed=1)
    (out,) = run_onnx(path, inputs)
    expected = engine(case.expected or case.fn, inputs)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)


def test_every_converter_has_a_round_trip_case():
    traced = set()
    for case in CASES:
        with tracing() as trace:
            case.fn(*[ag.tensor(x) for x in inputs_for(case, EXPORT_BATCH, seed=0)])
        traced |= {application.op for application in trace}
    missing = set(ag.onnx.CONVERTERS) - traced
    assert not missing, f"add a Case for {sorted(op_name(op) for op in missing)}"


# The engine's ops that are not exported: gradient ops (export the forward model), and a loss ONNX has not.
REFUSED = {
    "Conv2dInputGrad",
    "Conv2dWeightGrad",
    "LinearWeightGrad",
    "MaxPool2dGrad",
    "MaxPool2dGather",
    "AvgPool2dGrad",
    "GetItemGrad",
    "EmbeddingGrad",
    "MultiMarginLoss",
}


def test_every_engine_op_is_exported_or_refused_on_purpose():
    engine_ops = {name for name, op in OP_REGISTRY.items() if op.__module__.startswith("autograd.ops")}
    undecided = engine_ops - set(ag.onnx.supported_ops()) - REFUSED
    assert not undecided, f"map {sorted(undecided)} in autograd/onnx or add them to REFUSED"
    assert not REFUSED & set(ag.onnx.supported_ops())


@pytest.fixture
def cnn():
    ag.manual_seed(0)
    model = mnist_cnn.make_model("bn_dropout", channels=(4, 8), hidden=16, dropout_p=0.25)
    rng = np.random.default_rng(3)
    for name, buffer in model.named_buffers():  # running statistics away from BatchNorm's (0, 1) start
        if name.endswith(("running_mean", "running_var")):
            buffer[...] = rng.uniform(0.5, 1.5, buffer.shape)
    return model


def mnist_images(batch: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, 1, 28, 28)).astype(np.float32)


@pytest.mark.parametrize("variant", ["plain", "bn_dropout"])
def test_mnist_cnn_round_trip_at_another_batch_size(variant, tmp_path):
    ag.manual_seed(0)
    model = mnist_cnn.make_model(variant, channels=(4, 8), hidden=16, dropout_p=0.25)
    model.train()
    proto = ag.onnx.export(model, mnist_images(EXPORT_BATCH, seed=0), tmp_path / "cnn.onnx")
    assert all(m.training for m in model.modules()), "export must give the model its mode back"
    images = mnist_images(RUN_BATCH, seed=1)
    (logits,) = run_onnx(tmp_path / "cnn.onnx", [images])
    model.eval()
    np.testing.assert_allclose(logits, model(images).value, rtol=RTOL, atol=ATOL)
    assert [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim] == ["batch", "", "", ""]
    assert not {n.op_type for n in proto.graph.node} & {"Dropout"}


def test_mnist_cnn_with_batch_norm_uses_running_statistics(cnn, tmp_path):
    proto = ag.onnx.export(cnn, mnist_images(EXPORT_BATCH, seed=0), tmp_path / "cnn.onnx")
    (logits,) = run_onnx(tmp_path / "cnn.onnx", [mnist_images(RUN_BATCH, seed=1)])
    np.testing.assert_allclose(logits, cnn.eval()(mnist_images(RUN_BATCH, seed=1)).value, rtol=RTOL, atol=ATOL)
    assert "BatchNormalization" in {n.op_type for n in proto.graph.node}


def test_mnist_mlp_round_trip(tmp_path):
    ag.manual_seed(1)
    model = mnist_mlp.make_model(dict(mnist_mlp.QUICK))
    rows = np.random.default_rng(0).standard_normal((RUN_BATCH, 784)).astype(np.float32)
    proto = ag.onnx.export(model, rows[:EXPORT_BATCH], tmp_path / "mlp.onnx")
    (logits,) = run_onnx(tmp_path / "mlp.onnx", [rows])
    np.testing.assert_allclose(logits, model.eval()(rows).value, rtol=RTOL, atol=ATOL)
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm"]


def test_parameters_and_buffers_are_initializers_named_by_the_state_dict(cnn, tmp_path):
    proto = ag.onnx.export(cnn, mnist_images(EXPORT_BATCH, seed=0), tmp_path / "cnn.onnx")
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    used = {k: v for k, v in cnn.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert set(used) <= set(stored)
    for name, value in used.items():
        np.testing.assert_array_equal(stored[name], value)


def test_a_function_names_its_constants_by_their_tensor_names(tmp_path):
    weight = ag.tensor(W_LIN, name="my_weight")
    proto = ag.onnx.export(lambda x: ag.relu(x @ weight.T), np.ones((2, 4), np.float32), tmp_path / "f.onnx")
    assert "my_weight" in {t.name for t in proto.graph.initializer}


def test_names_several_outputs_and_an_input_passed_through(tmp_path):
    def fn(x, y):
        return x * y, x, ag.tanh(y)

    x, y = inputs_for(Case("", None, [("B", 3), ("B", 3)]), EXPORT_BATCH, seed=0)
    proto = ag.onnx.export(fn, (x, y), tmp_path / "f.onnx", input_names=["x", "y"], output_names=["xy", "same", "t"])
    assert [i.name for i in proto.graph.input] == ["x", "y"]
    assert [o.name for o in proto.graph.output] == ["xy", "same", "t"]
    for out, expected in zip(run_onnx(tmp_path / "f.onnx", [x, y]), (x * y, x, np.tanh(y))):
        np.testing.assert_allclose(out, expected, rtol=RTOL, atol=ATOL)


def test_a_detached_input_stays_an_input(tmp_path):
    ag.onnx.export(lambda x: x.detach() * 2, np.ones((2, 3), np.float32), tmp_path / "f.onnx")
    x = inputs_for(Case("", None, [("B", 3)]), RUN_BATCH, seed=2)[0]
    np.testing.assert_allclose(run_onnx(tmp_path / "f.onnx", [x])[0], x * 2)


def test_an_unmapped_op_is_named_with_what_is_supported(tmp_path):
    class Cube(Op):
        """y = x**3;  dx = 3 x**2 g (defined here, so the exporter has no converter for it)."""

        @staticmethod
        def forward(ctx, x):
            return x**3

    original = Op.__dict__["apply"]
    with pytest.raises(ag.onnx.UnsupportedOpError, match=r"no ONNX counterpart for Cube.*supported: .*Conv2d"):
        ag.onnx.export(lambda x: ag.relu(Cube.apply(x)), np.ones((2, 3), np.float32), tmp_path / "f.onnx")
    assert Op.__dict__["apply"] is original, "the tracer must be gone after a failed export"
    del OP_REGISTRY["Cube"]
    assert not (tmp_path / "f.onnx").exists()


def test_an_engine_op_without_counterpart_is_refused(tmp_path):
    logits = np.ones((2, 3), np.float32)
    with pytest.raises(ag.onnx.UnsupportedOpError, match="MultiMarginLoss"):
        ag.onnx.export(lambda x: ag.multi_margin_loss(x, TARGET), logits, tmp_path / "f.onnx")


def test_an_index_of_two_arrays_is_refused(tmp_path):
    with pytest.raises(ag.onnx.UnsupportedOpError, match="GetItem"):
        ag.onnx.export(lambda x: x[[0, 1], [1, 2]], np.ones((2, 3), np.float32), tmp_path / "f.onnx")


def test_ops_the_outputs_do_not_need_are_left_out(tmp_path):
    def fn(x):
        ag.multi_margin_loss(x, TARGET)  # unmapped, but nothing returned depends on it
        return ag.relu(x)

    proto = ag.onnx.export(fn, np.ones((2, 3), np.float32), tmp_path / "f.onnx")
    assert [n.op_type for n in proto.graph.node] == ["Relu"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(opset_version=11), r"opset_version must be an int in \[13, "),
        (dict(input_names=["a", "b"]), "input_names must be 1 non-empty strings"),
        (dict(input_names=["same"], output_names=["same"]), "must all differ"),
    ],
)
def test_bad_arguments_say_what_was_expected(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ag.onnx.export(ag.relu, np.ones((2, 3), np.float32), tmp_path / "f.onnx", **kwargs)
