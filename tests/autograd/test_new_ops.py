"""The ops of issue #14 beyond their op_specs rows: erf's accuracy against math.erf, the fused ops
(layer_norm, the weighted and smoothed cross_entropy, logsumexp) against their compositions, padding_idx
and one_hot against PyTorch, the two scatter kernels, stability at the edges, and the errors.
"""

import math

import numpy as np
import pytest

import autograd as ag
from autograd.ops.index import scatter_rows
from autograd.ops.math import erf_erfc

# Wide and in the tails: erfc(27) underflows; 1e-300 is where erf(x) ~ 2x / sqrt(pi) runs into subnormals.
ERF_POINTS = np.concatenate([np.linspace(-30, 30, 60_001), np.geomspace(1e-300, 30, 6_000), [0.46875, 4.0]])


def test_erf_and_erfc_match_math_to_the_last_bits():
    x = np.concatenate([ERF_POINTS, -ERF_POINTS])
    erf, erfc = erf_erfc(x)
    expected_erf = np.array([math.erf(v) for v in x])
    expected_erfc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erf, expected_erf, rtol=1e-15, atol=0)  # measured: 4.4e-16
    normal = expected_erfc > 1e-300  # below that erfc is subnormal: only absolute agreement makes sense
    np.testing.assert_allclose(erfc[normal], expected_erfc[normal], rtol=2e-15, atol=0)  # measured: 8.1e-16
    np.testing.assert_allclose(erfc[~normal], expected_erfc[~normal], rtol=0, atol=1e-300)


def test_erf_at_the_special_values():
    erf, erfc = erf_erfc(np.array([np.inf, -np.inf, np.nan, 0.0, -0.0]))
    np.testing.assert_array_equal(erf, [1.0, -1.0, np.nan, 0.0, -0.0])
    np.testing.assert_array_equal(erfc, [0.0, 2.0, np.nan, 1.0, 1.0])
    assert np.signbit(erf[4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "fn",
    [ag.gelu, lambda x: ag.gelu(x, approximate="tanh"), ag.silu, ag.softplus, ag.erf, ag.erfc, ag.expm1, ag.cosh],
    ids=["gelu", "gelu_tanh", "silu", "softplus", "erf", "erfc", "expm1", "cosh"],
)
def test_activations_at_the_edges_stay_finite_without_warnings(fn, dtype):
    x = ag.tensor(np.array([-80.0, -30.0, -1e-30, 0.0, 1e-30, 30.0, 80.0], dtype), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == dtype
    assert np.isfinite(y.value).all() and np.isfinite(x.grad).all()


def test_gelu_of_very_negative_inputs_keeps_its_tiny_values():
    # x Phi(x) with Phi from erfc: 1 + erf(x / sqrt(2)) would cancel to 0 below x = -8.3.
    x = np.array([-10.0, -20.0])
    expected = x * np.array([math.erfc(-v / math.sqrt(2)) / 2 for v in x])
    # x / sqrt(2) is rounded, and erfc's relative error grows by x^2 times that: 1e-12 here, not 1e-16.
    np.testing.assert_allclose(ag.gelu(x).value, expected, rtol=1e-12)


def test_softplus_is_log1p_exp_without_overflow():
    x = np.array([-800.0, -40.0, 0.0, 15.0, 19.9, 25.0, 800.0])
    np.testing.assert_allclose(ag.softplus(x).value, np.where(x > 20, x, np.logaddexp(0, x)), rtol=1e-15)


def test_logsumexp_of_infinities_and_empty_dims_follows_pytorch():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1e4, 1e4]])
    np.testing.assert_array_equal(ag.logsumexp(x, 1).value, [-np.inf, np.inf, 1e4 + math.log(2)])
    np.testing.assert_array_equal(ag.logsumexp(np.zeros((2, 0)), 1).value, [-np.inf, -np.inf])


def test_logsumexp_matches_its_composition_and_gradient():
    x = ag.tensor(np.random.default_rng(0).normal(size=(3, 4, 5)), requires_grad=True)
    fused = ag.logsumexp(x, (0, 2), keepdim=True)
    composed = ag.log(ag.exp(x).sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(fused.value, composed.value, rtol=1e-14)
    (dx_fused,) = ag.grad(fused.sum(), [x])
    (dx_composed,) = ag.grad(composed.sum(), [x])
    np.testing.assert_allclose(dx_fused.value, dx_composed.value, rtol=1e-13)


def test_cumsum_of_float32_accumulates_in_float64():
    x = np.full(1_000_000, 0.1, np.float32)
    out = ag.cumsum(x, 0).value
    assert out.dtype == np.float32
    # numpy's float32 running sum ends near 100958.34, 1% off.
    np.testing.assert_allclose(out[-1], 1e6 * np.float64(np.float32(0.1)), rtol=1e-7)


# ----- fused ops against their compositions -----


def _layer_norm_composed(x, shape, w, b, eps=1e-5):
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - ag.mean(x, axis=axes, keepdims=True)
    return centered / ag.sqrt(ag.var(x, axis=axes, keepdims=True, correction=0) + eps) * w + b


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5))])
def test_layer_norm_matches_its_composition_to_second_order(shape, normalized):
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=shape) * 3 + 2, requires_grad=True)
    w = ag.tensor(rng.normal(size=normalized), requires_grad=True)
    b = ag.tensor(rng.normal(size=normalized), requires_grad=True)
    g = rng.normal(size=shape)
    results = []
    for fn in (ag.layer_norm, _layer_norm_composed):
        y = fn(x, normalized, w, b)
        firsts = ag.grad(y, [x, w, b], g, create_graph=True)
        seconds = ag.grad(sum((f * f).sum() for f in firsts), [x, w, b], allow_unused=True)
        seconds = [np.zeros(t.shape) if s is None else s.value for s, t in zip(seconds, [x, w, b])]
        results.append([y.value] + [f.value for f in firsts] + seconds)
    for fused, composed in zip(*results):
        np.testing.assert_allclose(fused, composed, rtol=1e-9, atol=1e-11)


def test_layer_norm_of_float32_far_from_zero_normalizes_like_float64():
    rng = np.random.default_rng(0)
    x = (1e4 + rng.standard_normal((64, 4096))).astype(np.float32)
    y = ag.layer_norm(x, 4096).value
    reference = (x - x.mean(1, keepdims=True, dtype=np.float64)) / np.sqrt(
        x.var(1, keepdims=True, dtype=np.float64) + 1e-5
    )
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference, atol=2e-3)  # x itself is only known to 1e4 * 6e-8 = 6e-4


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_weighted_smoothed_cross_entropy_matches_its_composition(reduction, smoothing):
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.normal(size=(6, 5)), requires_grad=True)
    target, weight = np.array([0, 4, 1, 1, -100, 3]), rng.uniform(0.5, 2, 5)
    fused = ag.cross_entropy(x, target, weight, reduction=reduction, label_smoothing=smoothing)
    kept = target != -100
    log_probs = ag.log_softmax(x, axis=1)
    mix = np.zeros((6, 5))
    mix[np.arange(6)[kept], target[kept]] = (1 - smoothing) * weight[target[kept]]
    mix += smoothing / 5 * kept[:, None] * weight
    losses = -(log_probs * mix).sum(axis=1)
    composed = {"none": losses, "sum": losses.sum(), "mean": losses.sum() / weight[target[kept]].sum()}[reduction]
    np.testing.assert_allclose(fused.value, composed.value, rtol=1e-12)
    (dx_fused,) = ag.grad(fused.sum(), [x])
    (dx_composed,) = ag.grad(composed.sum(), [x])
    np.testing.assert_allclose(dx_fused.value, dx_composed.value, rtol=1e-11, atol=1e-14)


def test_cross_entropy_that_ignores_every_target_is_nan_for_the_mean_as_pytorch():
    out = ag.cross_entropy(np.zeros((2, 3)), np.array([-100, -100]))
    assert np.isnan(out.value)
    assert ag.cross_entropy(np.zeros((2, 3)), np.array([-100, -100]), reduction="sum").item() == 0


# ----- indexing -----


@pytest.mark.parametrize("count", [3, 50])  # fewer rows than indices (bincount per column), more (sorted runs)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_both_scatter_kernels_add_like_np_add_at(count, dtype):
    rng = np.random.default_rng(0)
    rows, values = rng.integers(0, count, 40), rng.normal(size=(40, 7)).astype(dtype)
    expected = np.zeros((count, 7))
    np.add.at(expected, rows, values.astype(np.float64))
    out = scatter_rows(rows, values, count)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-6)
    assert not scatter_rows(rows[:0], values[:0], count).any()


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_padding_row_gets_no_gradient_as_pytorch(padding_idx):
    rng = np.random.default_rng(0)
    indices, weight_np, g = np.array([[2, 0, 4], [4, 2, 1]]), rng.normal(size=(5, 3)), rng.normal(size=(2, 3, 3))
    weight = ag.tensor(weight_np, requires_grad=True)
    out = ag.embedding(indices, weight, padding_idx=padding_idx)
    np.testing.assert_array_equal(out.value, weight_np[indices])
    out.backward(g)
    expected = np.zeros((5, 3))
    np.add.at(expected, indices, g)
    if padding_idx is not None:
        expected[padding_idx] = 0
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-14)
    torch = pytest.importorskip("torch")
    weight_t = torch.tensor(weight_np, requires_grad=True)
    torch.nn.functional.embedding(torch.as_tensor(indices), weight_t, padding_idx=padding_idx).backward(torch.tensor(g))
    np.testing.assert_allclose(weight.grad, weight_t.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_is_int64_without_gradient_as_pytorch(num_classes):
    indices = np.array([[0, 3], [2, 3]])
    out = ag.one_hot(indices, num_classes)
    assert out.dtype == np.int64 and not out.requires_grad
    assert out.shape == (2, 2, 4 if num_classes == -1 else 6)
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.one_hot(torch.as_tensor(indices), num_classes)
    np.testing.assert_array_equal(out.value, expected.numpy())


def test_cat_is_concat_under_pytorchs_names():
    a, b = np.ones((2, 3)), np.zeros((1, 3))
    np.testing.assert_array_equal(ag.cat([a, b]).value, np.concatenate([a, b]))
    np.testing.assert_array_equal(ag.cat((a.T, b.T), dim=-1).value, np.concatenate([a.T, b.T], axis=1))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: ag.gather(np.ones((3, 4)), 1, np.ones((3, 2))), TypeError, "gather: indices must be integers"),
        (lambda: ag.gather(np.ones((3, 4)), 1, np.zeros(3, int)), ValueError, "gather: index must have 2 dims"),
        (lambda: ag.gather(np.ones((3, 4)), 1, np.zeros((4, 1), int)), ValueError, "must not be larger than"),
        (lambda: ag.gather(np.ones((3, 4)), 0, np.full((1, 1), 3)), ValueError, r"values must lie in \[0, 3\), got 3"),
        (lambda: ag.gather(np.ones((3, 4)), 2, np.zeros((1, 1), int)), ValueError, "gather: dim must lie in"),
        (
            lambda: ag.scatter_add(np.ones((3, 4)), 0, np.zeros((1, 1), int), np.ones(2)),
            ValueError,
            r"scatter_add: src must have the shape of index \(1, 1\), got \(2,\)",
        ),
        (
            lambda: ag.embedding(np.array([5]), np.ones((5, 2))),
            ValueError,
            r"embedding: input values must lie in \[0, 5\)",
        ),
        (lambda: ag.embedding(np.array([1]), np.ones(5)), ValueError, "embedding: weight must have 2 dims"),
        (lambda: ag.embedding(np.array([1]), np.ones((5, 2)), padding_idx=5), ValueError, "padding_idx must lie in"),
        (lambda: ag.one_hot(np.array([1, 4]), 3), ValueError, r"one_hot: tensor values must lie in \[0, 3\), got 4"),
        (lambda: ag.one_hot(np.zeros(0, int)), ValueError, "one_hot: cannot infer num_classes from an empty tensor"),
        (lambda: ag.masked_fill(np.ones(3), np.ones(3), 0), TypeError, "masked_fill: mask must be a bool tensor"),
        (lambda: ag.masked_fill(np.ones(3), np.ones((2, 3), bool), 0), ValueError, "must broadcast to the input"),
        (lambda: ag.tril(np.ones(3)), ValueError, r"tril: input must have at least 2 dims, got shape \(3,\)"),
        (lambda: ag.triu(np.ones((2, 2)), 0.5), TypeError, "triu: diagonal must be an int"),
        (
            lambda: ag.layer_norm(np.ones((2, 3)), 4),
            ValueError,
            r"layer_norm: input must end in normalized_shape \(4,\)",
        ),
        (lambda: ag.layer_norm(np.ones((2, 3)), 3, np.ones(2)), ValueError, "layer_norm: weight must have normalized"),
        (lambda: ag.layer_norm(np.ones((2, 3), int), 3), TypeError, "layer_norm: input must be a floating-point"),
        (lambda: ag.gelu(np.ones(2), approximate="erf"), ValueError, "gelu: approximate must be one of"),
        (
            lambda: ag.cross_entropy(np.ones((2, 3)), np.array([0, 1]), np.ones(2)),
            ValueError,
            r"cross_entropy: weight must have shape \(3,\)",
        ),
        (
            lambda: ag.cross_entropy(np.ones((2, 3)), np.array([0, 1]), label_smoothing=1.5),
            ValueError,
            r"cross_entropy: label_smoothing must lie in \[0, 1\]",
        ),
        (
            lambda: ag.nll_loss(np.ones((2, 3)), np.array([0, 7]), ignore_index=5),
            ValueError,
            r"got 7 at position 1 \(or be ignore_index=5\)",
        ),
    ],
)
def test_errors_name_the_op_and_what_came(call, error, message):
    with pytest.raises(error, match=message):
        call()
