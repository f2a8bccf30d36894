"""Layers, losses, initializers and clipping against PyTorch, with weights moved over by load_state_dict."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autograd as ag  # noqa: E402
import nn  # noqa: E402

F64 = np.float64
T64 = torch.float64


def _torch_state(module) -> dict:
    return {k: v.numpy() for k, v in module.state_dict().items()}


def _randomize_batchnorms(module) -> None:
    """Give every BatchNorm non-trivial affine parameters and running statistics, so loading them matters."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                for tensor, low in ((m.weight, 0.5), (m.bias, -1.0), (m.running_mean, -1.0), (m.running_var, 0.5)):
                    if tensor is not None:
                        tensor.copy_(torch.rand(tensor.shape, generator=g, dtype=tensor.dtype) * 1.5 + low)


def _randomized(module):
    """A torch module with random parameters instead of its ones and zeros, so loading them matters."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


# name -> (nodegrad module, torch module, input shape, training)
SPECS = {
    "Linear": (lambda: nn.Linear(4, 3, dtype=F64), lambda: torch.nn.Linear(4, 3, dtype=T64), (5, 4), True),
    "Linear-no-bias": (
        lambda: nn.Linear(4, 3, bias=False, dtype=F64),
        lambda: torch.nn.Linear(4, 3, bias=False, dtype=T64),
        (2, 5, 4),
        True,
    ),
    "Conv2d": (lambda: nn.Conv2d(3, 4, 3, dtype=F64), lambda: torch.nn.Conv2d(3, 4, 3, dtype=T64), (2, 3, 6, 6), True),
    "Conv2d-all-options": (
        lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, dtype=F64),
        lambda: torch.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, dtype=T64),
        (2, 4, 7, 6),
        True,
    ),
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, dtype=F64), lambda: torch.nn.Conv1d(3, 4, 3, dtype=T64), (2, 3, 9), True),
    "Conv1d-all-options": (
        lambda: nn.Conv1d(4, 6, 3, stride=2, padding=3, dilation=2, groups=2, dtype=F64),
        lambda: torch.nn.Conv1d(4, 6, 3, stride=2, padding=3, dilation=2, groups=2, dtype=T64),
        (2, 4, 11),
        True,
    ),
    "Conv1d-unbatched": (
        lambda: nn.Conv1d(3, 2, (2,), stride=(3,), bias=False, dtype=F64),
        lambda: torch.nn.Conv1d(3, 2, (2,), stride=(3,), bias=False, dtype=T64),
        (3, 10),
        True,
    ),
    "Conv1d-same-even-kernel": (
        lambda: nn.Conv1d(2, 3, 4, padding="same", dilation=1, dtype=F64),
        lambda: torch.nn.Conv1d(2, 3, 4, padding="same", dilation=1, dtype=T64),
        (2, 2, 7),
        True,
    ),
    "Conv1d-valid": (
        lambda: nn.Conv1d(2, 3, 3, stride=2, padding="valid", dtype=F64),
        lambda: torch.nn.Conv1d(2, 3, 3, stride=2, padding="valid", dtype=T64),
        (2, 2, 8),
        True,
    ),
    "Conv2d-same-dilated": (
        lambda: nn.Conv2d(2, 4, (3, 4), padding="same", dilation=(2, 1), groups=2, dtype=F64),
        lambda: torch.nn.Conv2d(2, 4, (3, 4), padding="same", dilation=(2, 1), groups=2, dtype=T64),
        (2, 2, 6, 5),
        True,
    ),
    "AdaptiveAvgPool2d-uneven": (
        lambda: nn.AdaptiveAvgPool2d((3, 4)),
        lambda: torch.nn.AdaptiveAvgPool2d((3, 4)),
        (2, 3, 7, 5),
        True,
    ),
    "AdaptiveAvgPool2d-upsampling": (
        lambda: nn.AdaptiveAvgPool2d((5, None)),
        lambda: torch.nn.AdaptiveAvgPool2d((5, None)),
        (2, 3, 3, 4),
        True,
    ),
    "AdaptiveAvgPool2d-global": (
        lambda: nn.AdaptiveAvgPool2d(1),
        lambda: torch.nn.AdaptiveAvgPool2d(1),
        (2, 3, 5, 6),
        True,
    ),
    "AdaptiveAvgPool2d-divides-unbatched": (
        lambda: nn.AdaptiveAvgPool2d((2, 3)),
        lambda: torch.nn.AdaptiveAvgPool2d((2, 3)),
        (3, 4, 6),
        True,
    ),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (2, 3, 6, 6), True),
    "MaxPool2d-padded": (lambda: nn.MaxPool2d(3, 2, 1), lambda: torch.nn.MaxPool2d(3, 2, 1), (2, 3, 7, 6), True),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, 2, 1), lambda: torch.nn.AvgPool2d(3, 2, 1), (2, 3, 7, 6), True),
    "BatchNorm1d-train": (
        lambda: nn.BatchNorm1d(3, dtype=F64),
        lambda: torch.nn.BatchNorm1d(3, dtype=T64),
        (8, 3),
        True,
    ),
    "BatchNorm1d-3d-eval": (
        lambda: nn.BatchNorm1d(3, dtype=F64),
        lambda: torch.nn.BatchNorm1d(3, dtype=T64),
        (4, 3, 5),
        False,
    ),
    "BatchNorm2d-train": (
        lambda: nn.BatchNorm2d(3, dtype=F64),
        lambda: torch.nn.BatchNorm2d(3, dtype=T64),
        (4, 3, 5, 5),
        True,
    ),
    "BatchNorm2d-eval": (
        lambda: nn.BatchNorm2d(3, dtype=F64),
        lambda: torch.nn.BatchNorm2d(3, dtype=T64),
        (4, 3, 5, 5),
        False,
    ),
    "Dropout-eval": (lambda: nn.Dropout(0.4), lambda: torch.nn.Dropout(0.4), (4, 5), False),
    "ReLU": (nn.ReLU, torch.nn.ReLU, (4, 5), True),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (4, 5), True),
    "ELU": (lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7), (4, 5), True),
    "Sigmoid": (nn.Sigmoid, torch.nn.Sigmoid, (4, 5), True),
    "GELU": (nn.GELU, torch.nn.GELU, (4, 5), True),
    "GELU-tanh": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh"), (4, 5), True),
    "SiLU": (nn.SiLU, torch.nn.SiLU, (4, 5), True),
    "Softplus": (lambda: nn.Softplus(2.0, 1.5), lambda: torch.nn.Softplus(2.0, 1.5), (4, 5), True),
    "LayerNorm": (
        lambda: nn.LayerNorm((3, 4), dtype=F64),
        lambda: _randomized(torch.nn.LayerNorm((3, 4), dtype=T64)),
        (2, 3, 4),
        True,
    ),
    "LayerNorm-no-bias": (
        lambda: nn.LayerNorm(5, eps=1e-3, bias=False, dtype=F64),
        lambda: _randomized(torch.nn.LayerNorm(5, eps=1e-3, bias=False, dtype=T64)),
        (4, 5),
        True,
    ),
    "LayerNorm-no-affine": (
        lambda: nn.LayerNorm(5, elementwise_affine=False, dtype=F64),
        lambda: torch.nn.LayerNorm(5, elementwise_affine=False, dtype=T64),
        (4, 5),
        True,
    ),
    "Tanh": (nn.Tanh, torch.nn.Tanh, (4, 5), True),
    "Softmax": (lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0), (4, 5), True),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1), (4, 5), True),
    "Flatten": (nn.Flatten, torch.nn.Flatten, (2, 3, 4, 5), True),
    "Flatten-range": (lambda: nn.Flatten(0, 2), lambda: torch.nn.Flatten(0, 2), (2, 3, 4, 5), True),
    "Identity": (nn.Identity, torch.nn.Identity, (4, 5), True),
    "Sequential-cnn": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, dtype=F64),
            nn.BatchNorm2d(4, dtype=F64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16, 8, dtype=F64),
            nn.BatchNorm1d(8, dtype=F64),
            nn.Tanh(),
            nn.Linear(8, 3, dtype=F64),
        ),
        lambda: torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1, dtype=T64),
            torch.nn.BatchNorm2d(4, dtype=T64),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(16, 8, dtype=T64),
            torch.nn.BatchNorm1d(8, dtype=T64),
            torch.nn.Tanh(),
            torch.nn.Linear(8, 3, dtype=T64),
        ),
        (6, 1, 4, 4),
        True,
    ),
}


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's note on its own copy
@pytest.mark.parametrize("name", SPECS)
def test_forward_backward_and_state_match_pytorch(name):
    make, make_torch, shape, training = SPECS[name]
    reference = make_torch().train(training)
    _randomize_batchnorms(reference)
    module = make().train(training)
    module.load_state_dict(_torch_state(reference))
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=shape)
    x = ag.tensor(x_np, requires_grad=True)
    x_t = torch.tensor(x_np, requires_grad=True)
    y, y_t = module(x), reference(x_t)
    np.testing.assert_allclose(y.value, y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad = rng.normal(size=y.shape)
    y.backward(grad)
    y_t.backward(torch.tensor(grad))
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    torch_params = dict(reference.named_parameters())
    assert [n for n, _ in module.named_parameters()] == list(torch_params)
    for param_name, param in module.named_parameters():
        np.testing.assert_allclose(
            param.grad, torch_params[param_name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=param_name
        )
    state, torch_state = module.state_dict(), _torch_state(reference)  # running statistics after the step
    assert list(state) == list(torch_state)
    for key, value in torch_state.items():
        np.testing.assert_allclose(state[key], value, rtol=1e-12, err_msg=key)
        assert state[key].dtype == value.dtype, key


def test_float32_modules_load_torch_weights_and_agree():
    reference = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    module = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    module.load_state_dict(reference.state_dict())  # torch tensors are accepted as they are
    x = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
    y = module(x).value
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_running_stats_follow_pytorch_over_several_steps(momentum):
    reference = torch.nn.BatchNorm2d(3, momentum=momentum, dtype=T64)
    module = nn.BatchNorm2d(3, momentum=momentum, dtype=F64)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.normal(2.0, 3.0, size=(5, 3, 4, 4))
        np.testing.assert_allclose(module(x).value, reference(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    for key, value in _torch_state(reference).items():
        np.testing.assert_allclose(module.state_dict()[key], value, rtol=1e-12, err_msg=key)
    x = rng.normal(size=(2, 3, 4, 4))
    np.testing.assert_allclose(module.eval()(x).value, reference.eval()(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_dropout_training_statistics_match_pytorch_semantics():
    x = np.ones((400, 250))
    ag.manual_seed(0)
    ours = nn.Dropout(0.3)(x).value
    theirs = torch.nn.Dropout(0.3)(torch.tensor(x)).numpy()
    for y in (ours, theirs):
        assert abs((y == 0).mean() - 0.3) < 0.005
        np.testing.assert_allclose(np.unique(y[y != 0]), [1 / 0.7])


CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
LOSSES = {
    "CrossEntropyLoss": (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, "labels"),
    "NLLLoss": (nn.NLLLoss, torch.nn.NLLLoss, "labels"),
    "CrossEntropyLoss-weighted-smoothed": (
        lambda reduction: nn.CrossEntropyLoss(CLASS_WEIGHT, ignore_index=2, reduction=reduction, label_smoothing=0.3),
        lambda reduction: torch.nn.CrossEntropyLoss(
            torch.tensor(CLASS_WEIGHT), ignore_index=2, reduction=reduction, label_smoothing=0.3
        ),
        "labels",
    ),
    "CrossEntropyLoss-smoothed": (
        lambda reduction: nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1),
        lambda reduction: torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1),
        "labels",
    ),
    "NLLLoss-weighted": (
        lambda reduction: nn.NLLLoss(CLASS_WEIGHT, ignore_index=0, reduction=reduction),
        lambda reduction: torch.nn.NLLLoss(torch.tensor(CLASS_WEIGHT), ignore_index=0, reduction=reduction),
        "labels",
    ),
    "MultiMarginLoss": (
        lambda reduction: nn.MultiMarginLoss(margin=0.7, reduction=reduction),
        lambda reduction: torch.nn.MultiMarginLoss(margin=0.7, reduction=reduction),
        "labels",
    ),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, "probabilities"),
    "MSELoss": (nn.MSELoss, torch.nn.MSELoss, "values"),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_losses_match_pytorch(name, reduction):
    make, make_torch, kind = LOSSES[name]
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(6, 4)) * 2
    target = {
        "labels": rng.integers(0, 4, size=6),
        "probabilities": rng.uniform(size=(6, 4)),
        "values": rng.normal(size=(6, 4)),
    }[kind]
    x, x_t = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, y_t = make(reduction=reduction)(x, target), make_torch(reduction=reduction)(x_t, torch.tensor(target))
    np.testing.assert_allclose(y.value, y_t.detach().numpy(), rtol=1e-10)
    grad = rng.normal(size=y.shape)
    y.backward(grad)
    y_t.backward(torch.tensor(grad))
    np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_losses_of_an_empty_batch_match_pytorch(name, reduction):
    # PyTorch's mean over no rows is nan (0 / 0), not 0; the sum is 0 and the gradient empty.
    make, make_torch, kind = LOSSES[name]
    x_np = np.zeros((0, 4))
    target = np.zeros(0, np.int64) if kind == "labels" else np.zeros((0, 4))
    x, x_t = ag.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, y_t = make(reduction=reduction)(x, target), make_torch(reduction=reduction)(x_t, torch.tensor(target))
    expected = y_t.detach()
    if name == "MultiMarginLoss" and reduction != "none":
        # torch 2.13's multi_margin_loss reduces an empty batch into uninitialized memory (6.9e-310
        # or 0, from run to run); its reduction of an empty tensor is what every other loss gives.
        expected = getattr(torch.zeros(0, dtype=T64), reduction)()
    np.testing.assert_array_equal(y.value, expected.numpy())
    assert y.dtype == np.float64
    y.backward(np.ones(y.shape))
    y_t.backward(torch.ones(y_t.shape, dtype=T64))
    assert x.grad.shape == tuple(x_t.grad.shape) == (0, 4)


@pytest.mark.parametrize(
    "shape, dims",
    [
        (shape, dims)
        for shape in [(0, 3, 4), (2, 0, 4), ()]
        for dims in [(0, -1), (1, -1), (0, 1), (-1, -1)]
        if shape or {0, -1}.issuperset(dims)  # a 0-d tensor has only dims 0 and -1
    ],
)
def test_flatten_matches_pytorch_on_empty_and_0d_tensors(shape, dims):
    x, x_t = ag.tensor(np.zeros(shape), requires_grad=True), torch.zeros(shape, dtype=T64, requires_grad=True)
    y, y_t = x.flatten(*dims), x_t.flatten(*dims)
    assert y.shape == tuple(y_t.shape) == nn.functional.flatten(x, *dims).shape
    y.sum().backward()
    assert x.grad.shape == shape
    if dims == (1, -1) and shape:
        assert nn.Flatten()(x).shape == tuple(torch.nn.Flatten()(x_t).shape)


def test_functional_forms_match_pytorch():
    F, TF = nn.functional, torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 5, 5))
    w, b, w_linear = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4), rng.normal(size=(2, 5))
    labels, class_weight = np.array([0, 2, 1, 4, 3]), np.linspace(0.5, 2.0, 5)
    t = lambda a: torch.tensor(a)  # noqa: E731
    pairs = [
        (F.conv2d(x, w, b, stride=2, padding=1), TF.conv2d(t(x), t(w), t(b), stride=2, padding=1)),
        (F.max_pool2d(x, 2, 1), TF.max_pool2d(t(x), 2, 1)),
        (F.conv1d(x[0, :, 0], w[:, :, 0], b, 2, 1, 1), TF.conv1d(t(x[0, :, 0]), t(w[:, :, 0]), t(b), 2, 1, 1)),
        (F.conv1d(x[:, :, 0], w[:, :, 0], padding=(2,)), TF.conv1d(t(x[:, :, 0]), t(w[:, :, 0]), padding=(2,))),
        (F.adaptive_avg_pool2d(x, (4, 3)), TF.adaptive_avg_pool2d(t(x), (4, 3))),
        (F.adaptive_avg_pool2d(x[0], 2), TF.adaptive_avg_pool2d(t(x[0]), 2)),
        (F.avg_pool2d(x, 3, padding=1), TF.avg_pool2d(t(x), 3, padding=1)),
        (F.linear(x, w_linear, b[:2]), TF.linear(t(x), t(w_linear), t(b[:2]))),
        (F.leaky_relu(x, 0.3), TF.leaky_relu(t(x), 0.3)),
        (F.elu(x, 2.0), TF.elu(t(x), 2.0)),
        (F.softmax(x, dim=1), TF.softmax(t(x), dim=1)),
        (F.log_softmax(x, dim=2), TF.log_softmax(t(x), dim=2)),
        (F.flatten(x, 1, 2), torch.flatten(t(x), 1, 2)),
        (F.gelu(x), TF.gelu(t(x))),
        (F.gelu(x, approximate="tanh"), TF.gelu(t(x), approximate="tanh")),
        (F.silu(x), TF.silu(t(x))),
        (F.softplus(x, 0.5, 1.0), TF.softplus(t(x), 0.5, 1.0)),
        (F.layer_norm(x, (5, 5), x[1, 0], x[1, 1]), TF.layer_norm(t(x), (5, 5), t(x[1, 0]), t(x[1, 1]))),
        (F.embedding(np.array([[3, 1]]), x[0, 0], padding_idx=1), TF.embedding(torch.tensor([[3, 1]]), t(x[0, 0]), 1)),
        (F.one_hot(np.array([2, 0]), 4), TF.one_hot(torch.tensor([2, 0]), 4)),
        (
            F.cross_entropy(x[0, 0], labels, class_weight, ignore_index=4, label_smoothing=0.1),
            TF.cross_entropy(t(x[0, 0]), t(labels), t(class_weight), ignore_index=4, label_smoothing=0.1),
        ),
        (
            F.nll_loss(x[0, 1], labels, class_weight, reduction="sum"),
            TF.nll_loss(t(x[0, 1]), t(labels), t(class_weight), reduction="sum"),
        ),
        (
            F.batch_norm(x, np.zeros(3), np.ones(3), training=True),
            TF.batch_norm(t(x), torch.zeros(3, dtype=T64), torch.ones(3, dtype=T64), training=True),
        ),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.value, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_reprs_of_the_new_layers_match_pytorch():
    def build(lib):
        return lib.Sequential(
            lib.Embedding(10, 3, padding_idx=-2),
            lib.LayerNorm(3),
            lib.LayerNorm((2, 3), eps=1e-3, elementwise_affine=False),
            lib.GELU(),
            lib.GELU(approximate="tanh"),
            lib.SiLU(),
            lib.Softplus(beta=2.0, threshold=10.0),
        )

    assert repr(build(nn)) == repr(build(torch.nn))


def test_reprs_match_pytorch_where_the_options_agree():
    def build(lib, dtype):
        return lib.Sequential(
            lib.Conv1d(3, 8, 3, stride=2, padding=1, dilation=3, groups=1, dtype=dtype),
            lib.Conv1d(4, 8, (5,), groups=4, bias=False, dtype=dtype),
            lib.Conv1d(4, 8, 4, padding="same", dtype=dtype),
            lib.Conv2d(4, 8, 3, padding="valid", dtype=dtype),
            lib.Conv2d(3, 8, 3, padding=1, dtype=dtype),
            lib.Conv2d(8, 8, (3, 5), stride=2, dilation=2, groups=2, bias=False, dtype=dtype),
            lib.Sequential(lib.ReLU(), lib.LeakyReLU(0.2), lib.ELU(), lib.Sigmoid(), lib.Tanh()),
            lib.AvgPool2d(2, 1, 1),
            lib.AdaptiveAvgPool2d(1),
            lib.AdaptiveAvgPool2d((3, None)),
            lib.Flatten(),
            lib.Identity(),
            lib.Linear(3, 2, dtype=dtype),
            lib.Softmax(dim=1),
            lib.LogSoftmax(dim=-1),
            lib.CrossEntropyLoss(),
        )

    assert repr(build(nn, np.float32)) == repr(build(torch.nn, torch.float32))


# ----- initialization -----


@pytest.mark.parametrize(
    "make, make_torch",
    [
        (lambda: nn.Linear(400, 300), lambda: torch.nn.Linear(400, 300)),
        (lambda: nn.Conv2d(16, 64, 5), lambda: torch.nn.Conv2d(16, 64, 5)),
        (lambda: nn.Conv1d(32, 256, 7, groups=2), lambda: torch.nn.Conv1d(32, 256, 7, groups=2)),
    ],
)
def test_default_init_has_pytorchs_bounds_and_spread(make, make_torch):
    ag.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = make(), make_torch()
    fan_in = ours.weight.value[0].size
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give this
    for name, param in ours.named_parameters():
        for values in (param.value, getattr(theirs, name).detach().numpy()):
            n = values.size
            assert bound * (1 - 5 / n) < np.abs(values).max() <= bound, name
            # U(-b, b) has std b/sqrt(3); its sample std varies by about sqrt(0.8 / (4 n)) relative.
            assert abs(values.std() / (bound / math.sqrt(3)) - 1) < 4 * math.sqrt(0.2 / n), name
            assert abs(values.mean()) < 4 * bound / math.sqrt(3 * n), name


INITS = {
    "uniform_": (lambda t: nn.init.uniform_(t, -0.3, 0.7), lambda t: torch.nn.init.uniform_(t, -0.3, 0.7)),
    "normal_": (lambda t: nn.init.normal_(t, 0.5, 0.02), lambda t: torch.nn.init.normal_(t, 0.5, 0.02)),
    "xavier_uniform_": (
        lambda t: nn.init.xavier_uniform_(t, gain=2.0),
        lambda t: torch.nn.init.xavier_uniform_(t, gain=2.0),
    ),
    "xavier_normal_": (nn.init.xavier_normal_, torch.nn.init.xavier_normal_),
    "kaiming_uniform_": (nn.init.kaiming_uniform_, torch.nn.init.kaiming_uniform_),
    "kaiming_uniform_-relu-fan_out": (
        lambda t: nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
        lambda t: torch.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
    ),
    "kaiming_normal_-leaky": (
        lambda t: nn.init.kaiming_normal_(t, a=0.2),
        lambda t: torch.nn.init.kaiming_normal_(t, a=0.2),
    ),
}


@pytest.mark.parametrize("name", INITS)
def test_initializers_match_pytorch_statistics(name):
    init, init_torch = INITS[name]
    shape = (64, 32, 3, 3)
    ag.manual_seed(0)
    torch.manual_seed(0)
    ours = init(nn.Parameter(np.zeros(shape, np.float32))).value
    theirs = init_torch(torch.zeros(shape)).numpy()
    assert ours.dtype == np.float32
    assert abs(ours.std() - theirs.std()) < 0.03 * theirs.std()
    assert abs(ours.mean() - theirs.mean()) < 0.03 * theirs.std() + 1e-3
    if "uniform" in name:
        np.testing.assert_allclose([ours.min(), ours.max()], [theirs.min(), theirs.max()], rtol=0.01, atol=1e-3)


def test_gains_and_fans_match_pytorch():
    for nonlinearity, param in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu", None),
    ]:
        assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
            torch.nn.init.calculate_gain(nonlinearity, param)
        ), nonlinearity
    for shape in [(3, 4), (5, 2, 3), (8, 3, 5, 5), (2, 0)]:
        assert nn.init._calculate_fan_in_and_fan_out(np.zeros(shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
            torch.zeros(shape)
        )


# ----- gradient clipping -----


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s) for s in [(3, 4), (4,), (2, 2, 2)]]
    params = [nn.Parameter(np.zeros(g.shape)) for g in grads]
    params.append(nn.Parameter(np.zeros(2)))  # no gradient: skipped, as in PyTorch
    torch_params = [torch.zeros(g.shape, dtype=T64, requires_grad=True) for g in grads]
    for p, tp, g in zip(params, torch_params, grads):
        p.grad, tp.grad = g.copy(), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(torch_params, max_norm, norm_type)
    assert total == pytest.approx(total_t.item(), rel=1e-12)
    for p, tp in zip(params, torch_params):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_pytorch():
    g = np.random.default_rng(0).normal(size=(4, 5))
    p, tp = nn.Parameter(np.zeros((4, 5))), torch.zeros((4, 5), dtype=T64, requires_grad=True)
    p.grad, tp.grad = g.copy(), torch.tensor(g)
    nn.utils.clip_grad_value_([p], 0.5)
    torch.nn.utils.clip_grad_value_([tp], 0.5)
    np.testing.assert_array_equal(p.grad, tp.grad.numpy())
