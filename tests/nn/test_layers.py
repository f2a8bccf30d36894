"""Every layer and loss gradient-checked through its module in float64, plus shapes, modes and errors."""

import numpy as np
import pytest

import autograd as ag
import nn
import optim

F64 = np.float64


class SelfAttention(nn.Module):
    """MultiheadAttention of an input with itself, returning the output only: a one-input module for the table."""

    def __init__(self, **options):
        super().__init__()
        self.attention = nn.MultiheadAttention(4, 2, dtype=F64, **options)

    def forward(self, x):
        length = x.shape[1] if self.attention.batch_first else x.shape[0]
        mask = np.triu(np.ones((length, length), bool), 1)
        return self.attention(x, x, x, attn_mask=mask, need_weights=False)[0]


# name -> (module factory, input shape); inputs are drawn N(0, 1), away from ReLU's kink and max ties.
LAYER_SPECS = {
    "Linear": (lambda: nn.Linear(4, 3, dtype=F64), (5, 4)),
    "Linear-no-bias-3d": (lambda: nn.Linear(4, 2, bias=False, dtype=F64), (2, 3, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, dtype=F64), (2, 2, 5, 5)),
    "Conv2d-strided-grouped": (
        lambda: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=False, dtype=F64),
        (2, 4, 6, 7),
    ),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, dtype=F64), (2, 2, 7)),
    "Conv1d-strided-grouped-unbatched": (
        lambda: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, bias=False, dtype=F64),
        (4, 9),
    ),
    "Conv2d-same": (lambda: nn.Conv2d(2, 2, (2, 3), padding="same", dtype=F64), (1, 2, 4, 4)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 2, 5, 7)),
    "AdaptiveAvgPool2d-global": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 5)),
    "AdaptiveAvgPool2d-divides-unbatched": (lambda: nn.AdaptiveAvgPool2d((2, None)), (3, 4, 5)),
    "MultiheadAttention": (lambda: SelfAttention(batch_first=True), (2, 3, 4)),
    "MultiheadAttention-no-bias": (lambda: SelfAttention(bias=False), (3, 2, 4)),
    "MultiheadAttention-bias-kv-zero-attn": (lambda: SelfAttention(add_bias_kv=True, add_zero_attn=True), (3, 2, 4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 3, 4, 4)),
    "MaxPool2d-padded": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2, stride=1, padding=1), (2, 2, 3, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3, dtype=F64), (6, 3)),
    "BatchNorm1d-3d": (lambda: nn.BatchNorm1d(3, dtype=F64), (4, 3, 5)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2, dtype=F64), (3, 2, 3, 3)),
    "BatchNorm2d-eval": (lambda: nn.BatchNorm2d(2, dtype=F64).eval(), (3, 2, 3, 3)),
    "BatchNorm2d-no-affine": (
        lambda: nn.BatchNorm2d(2, affine=False, track_running_stats=False, dtype=F64),
        (3, 2, 2, 2),
    ),
    "Dropout": (lambda: nn.Dropout(0.3), (4, 5)),
    "ReLU": (nn.ReLU, (3, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), (3, 4)),
    "ELU": (lambda: nn.ELU(0.5), (3, 4)),
    "Sigmoid": (nn.Sigmoid, (3, 4)),
    "Tanh": (nn.Tanh, (3, 4)),
    "GELU": (nn.GELU, (3, 4)),
    "GELU-tanh": (lambda: nn.GELU(approximate="tanh"), (3, 4)),
    "SiLU": (nn.SiLU, (3, 4)),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=3.0), (3, 4)),
    "LayerNorm": (lambda: _randomized(nn.LayerNorm((3, 4), dtype=F64)), (2, 3, 4)),
    "LayerNorm-no-bias": (lambda: _randomized(nn.LayerNorm(4, bias=False, dtype=F64)), (3, 4)),
    "LayerNorm-no-affine": (lambda: nn.LayerNorm(4, elementwise_affine=False, dtype=F64), (3, 4)),
    # The input scales the looked-up rows, so gradcheck sees both; padding row 1 has no gradient and no weight.
    "Embedding": (lambda: _Lookup(nn.Embedding(5, 3, dtype=F64)), (2, 4, 3)),
    "Embedding-padding": (lambda: _Lookup(nn.Embedding(5, 3, padding_idx=1, dtype=F64), frozen_row=1), (2, 4, 3)),
    "Softmax": (lambda: nn.Softmax(dim=0), (3, 4)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), (3, 4)),
    "Flatten": (nn.Flatten, (2, 3, 2, 2)),
    "Flatten-middle": (lambda: nn.Flatten(1, 2), (2, 3, 2, 2)),
    "Identity": (nn.Identity, (3,)),
    "Sequential": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3, padding=1, dtype=F64),
            nn.BatchNorm2d(2, dtype=F64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(8, 3, dtype=F64),
            nn.Tanh(),
        ),
        (3, 1, 4, 4),
    ),
}


def _randomized(module):
    """A module whose parameters (ones and zeros at init) are random, so gradcheck sees them do something."""
    rng = np.random.default_rng(5)
    for p in module.parameters():
        p.value[...] = rng.normal(size=p.shape)
    return module


class _Lookup(nn.Module):
    """An Embedding's rows at fixed indices, times the input: gradcheck perturbs floats, not indices."""

    def __init__(self, table, frozen_row=None):
        super().__init__()
        self.table, self.frozen_row = table, frozen_row

    def forward(self, x):
        weight = self.table.weight
        if self.frozen_row is not None:
            # What the padding row contributes is withheld from its gradient: hold its value at 0 so the
            # function finite differences see has no dependence on it either.
            weight.value[self.frozen_row] = 0
        return self.table(np.array([[1, 4, 0, 1], [3, 1, 4, 4]])) * x


_LABELS = np.array([0, 2, 1, 2, 0])
# name -> (loss module, input shape, target)
LOSS_SPECS = {
    "CrossEntropyLoss": (nn.CrossEntropyLoss(), (5, 3), _LABELS),
    "CrossEntropyLoss-sum": (nn.CrossEntropyLoss(reduction="sum"), (5, 3), _LABELS),
    "NLLLoss-none": (nn.NLLLoss(reduction="none"), (5, 3), _LABELS),
    "CrossEntropyLoss-weighted-smoothed": (
        nn.CrossEntropyLoss(np.array([0.5, 2.0, 1.5]), ignore_index=1, label_smoothing=0.2),
        (5, 3),
        _LABELS,
    ),
    "NLLLoss-weighted": (nn.NLLLoss(np.array([0.5, 2.0, 1.5]), ignore_index=0), (5, 3), _LABELS),
    "MultiMarginLoss": (nn.MultiMarginLoss(margin=0.5), (5, 3), _LABELS),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss(), (5, 3), np.random.default_rng(1).uniform(size=(5, 3))),
    "MSELoss": (nn.MSELoss(reduction="sum"), (5, 3), np.random.default_rng(2).normal(size=(5, 3))),
}

_CONTAINERS = {"Module", "Sequential", "ModuleList"}


def _exported_modules() -> set:
    return {n for n in nn.__all__ if isinstance(getattr(nn, n), type) and issubclass(getattr(nn, n), nn.Module)}


def test_every_exported_layer_and_loss_has_a_gradcheck_spec():
    covered = {name.split("-")[0] for name in (*LAYER_SPECS, *LOSS_SPECS)}
    missing = _exported_modules() - _CONTAINERS - covered
    assert not missing, f"add a spec for {sorted(missing)}"


@pytest.mark.parametrize("name", LAYER_SPECS)
def test_layer_gradients_match_finite_differences(name):
    factory, shape = LAYER_SPECS[name]
    ag.manual_seed(0)
    module = factory()
    x = ag.tensor(np.random.default_rng(0).normal(size=shape), requires_grad=True)

    def run(x, *params):
        ag.manual_seed(1)  # the same dropout mask on every call
        return module(x)

    assert ag.gradcheck(run, [x, *module.parameters()])


@pytest.mark.parametrize("name", LOSS_SPECS)
def test_loss_gradients_match_finite_differences(name):
    loss, shape, target = LOSS_SPECS[name]
    x = ag.tensor(np.random.default_rng(0).normal(size=shape), requires_grad=True)
    assert ag.gradcheck(lambda x: loss(x, target), [x])


def test_layers_create_parameters_in_the_requested_dtype():
    for layer in (nn.Linear(2, 2), nn.Conv2d(1, 1, 1), nn.BatchNorm1d(2)):
        assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float32)}
    for layer in (nn.Linear(2, 2, dtype=F64), nn.Conv2d(1, 1, 1, dtype=F64), nn.BatchNorm2d(2, dtype=F64)):
        assert {p.dtype for p in layer.parameters()} == {np.dtype(F64)}
    assert nn.BatchNorm2d(2, dtype=F64).running_var.dtype == F64


def test_parameter_names_and_shapes_follow_pytorch():
    shapes = lambda m: {k: v.shape for k, v in m.state_dict().items()}  # noqa: E731
    assert shapes(nn.Linear(5, 3)) == {"weight": (3, 5), "bias": (3,)}
    assert shapes(nn.Linear(5, 3, bias=False)) == {"weight": (3, 5)}
    assert shapes(nn.Conv2d(4, 6, (3, 2), groups=2)) == {"weight": (6, 2, 3, 2), "bias": (6,)}
    assert shapes(nn.BatchNorm2d(3)) == {
        "weight": (3,),
        "bias": (3,),
        "running_mean": (3,),
        "running_var": (3,),
        "num_batches_tracked": (),
    }
    assert shapes(nn.BatchNorm1d(3, affine=False, track_running_stats=False)) == {}


def test_linear_weight_is_stored_as_in_by_out_and_keeps_that_layout_through_training():
    layer = nn.Linear(5, 3)
    assert layer.weight.shape == (3, 5) and layer.weight.value.T.flags.c_contiguous
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    layer(x).sum().backward()
    assert layer.weight.grad.T.flags.c_contiguous  # the update reads weight and gradient in step
    np.testing.assert_allclose(layer.weight.grad, np.ones((4, 3)).T @ x, rtol=1e-6)
    optimizer = optim.Adam(layer.parameters(), lr=0.1)
    optimizer.step()
    layer.load_state_dict({"weight": np.zeros((3, 5), np.float32), "bias": np.zeros(3, np.float32)})
    assert layer.weight.value.T.flags.c_contiguous and not layer.weight.value.any()


def test_dropout_trains_with_a_scaled_mask_and_is_the_identity_in_eval():
    drop = nn.Dropout(0.25)
    x = np.ones((200, 100), np.float32)
    ag.manual_seed(3)
    y = drop(x).value
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    ag.manual_seed(3)
    np.testing.assert_array_equal(drop(x).value, y)  # manual_seed repeats the mask
    assert drop.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x and not nn.Dropout(1.0)(x).value.any()


def test_batchnorm_training_updates_running_stats_and_eval_uses_them():
    bn = nn.BatchNorm1d(2, momentum=0.5, dtype=F64)
    x = np.array([[1.0, 10.0], [3.0, 14.0]])
    y = bn(x).value
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, [1.0, 6.0])  # 0.5 * 0 + 0.5 * batch mean
    np.testing.assert_allclose(bn.running_var, [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 8.0])  # unbiased batch variance
    assert int(bn.num_batches_tracked) == 1
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    out = bn.eval()(x).value
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5))
    np.testing.assert_array_equal(bn.running_mean, mean)  # eval leaves the statistics alone
    assert int(bn.num_batches_tracked) == 1


def test_batchnorm_cumulative_average_and_batch_statistics_without_tracking():
    bn = nn.BatchNorm1d(1, momentum=None, dtype=F64)
    for value in (2.0, 4.0, 9.0):
        bn(np.array([[value - 1], [value + 1]]))
    np.testing.assert_allclose(bn.running_mean, [5.0])  # the plain mean of the batch means
    untracked = nn.BatchNorm1d(1, track_running_stats=False, dtype=F64).eval()
    out = untracked(np.array([[1.0], [3.0]])).value
    np.testing.assert_allclose(out, [[-1.0], [1.0]], atol=1e-4)
    assert untracked.running_mean is None


def test_functional_wrappers_map_dim_to_axis_and_match_the_modules():
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(nn.functional.softmax(x, dim=0).value.sum(axis=0), 1.0)
    np.testing.assert_allclose(nn.functional.log_softmax(x, dim=1).value, nn.LogSoftmax(dim=1)(x).value)
    assert nn.functional.flatten(np.zeros((2, 3, 4))).shape == (24,)
    assert nn.functional.flatten(np.zeros(())).shape == (1,)
    layer = nn.Linear(4, 2, dtype=F64)
    np.testing.assert_allclose(
        nn.functional.linear(x, layer.weight, layer.bias).value, x @ layer.weight.value.T + layer.bias.value
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Linear(-1, 2), "Linear: in_features must be a non-negative int, got -1"),
        (lambda: nn.Conv2d(3, 4, 3, groups=2), r"Conv2d: in_channels \(3\) and out_channels \(4\) must be divisible"),
        (lambda: nn.Conv2d(2, 2, 0), "Conv2d: kernel_size must be an int >= 1 or a pair of them, got 0"),
        (lambda: nn.MaxPool2d((2, 2, 2)), "MaxPool2d: kernel_size must be an int >= 1 or a pair of them"),
        (lambda: nn.Conv1d(2, 2, (3, 3)), r"Conv1d: kernel_size must be an int >= 1 or a tuple of 1, got \(3, 3\)"),
        (lambda: nn.Conv1d(3, 4, 3, groups=2), r"Conv1d: in_channels \(3\) and out_channels \(4\) must be divisible"),
        (lambda: nn.Conv1d(2, 2, 3)(np.zeros((1, 2, 3, 4))), r"conv1d: input must have 3 dims \(N, C, L\) or 2"),
        (
            lambda: nn.Conv1d(2, 2, 3, stride=2, padding="same"),
            r"Conv1d: padding='same' needs stride 1, got stride=\(2,\)",
        ),
        (lambda: nn.Conv2d(2, 2, 3, padding="full"), "Conv2d: padding must be an int, a tuple, 'valid' or 'same'"),
        (
            lambda: nn.functional.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), stride=2, padding="same"),
            "stride 1",
        ),
        (lambda: nn.AdaptiveAvgPool2d(0), "AdaptiveAvgPool2d: output_size must be an int >= 1"),
        (lambda: nn.AdaptiveAvgPool2d((1, 2, 3)), "AdaptiveAvgPool2d: output_size must be an int or a pair"),
        (lambda: nn.AdaptiveAvgPool2d(2)(np.zeros((2, 2))), r"adaptive_avg_pool2d: input must have 4 dims"),
        (lambda: nn.Dropout(1.5), r"Dropout: p must lie in \[0, 1\], got 1.5"),
        (lambda: nn.CrossEntropyLoss(reduction="avg"), "CrossEntropyLoss: reduction must be one of"),
        (lambda: nn.MultiMarginLoss(p=2), "MultiMarginLoss: only p=1 is supported, got p=2"),
        (lambda: nn.BatchNorm2d(2)(np.zeros((2, 2))), r"BatchNorm2d: input must be \(N, C, H, W\), got shape \(2, 2\)"),
        (lambda: nn.BatchNorm1d(2)(np.zeros((2, 2, 2, 2))), r"BatchNorm1d: input must be \(N, C\) or \(N, C, L\)"),
        (lambda: nn.functional.flatten(np.zeros((2, 3)), 1, 0), "flatten: start_dim must not come after end_dim"),
        (lambda: nn.functional.flatten(np.zeros((2, 3)), 2), r"flatten: start_dim must lie in \[-2, 2\), got 2"),
        (lambda: nn.functional.multi_margin_loss(np.zeros((1, 2)), [0], p=2), "multi_margin_loss: only p=1"),
    ],
)
def test_layer_errors_name_the_layer_and_what_came(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Dropout("0.5"), r"Dropout: p must be a number in \[0, 1\], got '0.5'"),
        (lambda: nn.Linear(2.0, 3), "Linear: in_features must be a non-negative int, got 2.0"),
        (lambda: nn.Conv2d(2, 2, 1.5), "Conv2d: kernel_size must be an int >= 1 or a pair of them, got 1.5"),
        (lambda: nn.Conv2d(2, 2, 3, groups=1.0), "Conv2d: groups must be an int >= 1, got 1.0"),
        (lambda: nn.MaxPool2d(2, stride=(1, 0.5)), r"MaxPool2d: stride must be .* got \(1, 0.5\)"),
        (
            lambda: nn.Linear(3, 2)(np.ones((4, 3), np.int64)),
            "linear: input and weight must be the same kind of number, got dtypes int64 and float32",
        ),
        (lambda: nn.Flatten(1.0)(np.zeros((2, 3))), "flatten: start_dim must be an int, got 1.0"),
    ],
)
def test_settings_of_the_wrong_type_raise_type_error_naming_the_layer(make, message):
    with pytest.raises(TypeError, match=message):
        make()
