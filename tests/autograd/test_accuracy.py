"""float32 statistics stay accurate where numpy's own float32 running sums drift.

numpy sums an axis that is not innermost in memory (the batch axis of a C-order array) one row at a
time, in the input's dtype: over 1e5 rows of values near 1e4 a float32 mean is units off and a
variance tens of times too large. Every case compares with a float64 reference computed from the same
float32 data, at tolerances the engine's previous float32 reductions missed by orders of magnitude.
"""

import numpy as np
import pytest

import autograd as ag

ROWS = 100_000


def _far_from_zero(shape, center=1e4, spread=1.0, seed=0):
    """float32 values around `center` with standard deviation `spread`: cancellation's worst case."""
    rng = np.random.default_rng(seed)
    return (center + spread * rng.standard_normal(shape)).astype(np.float32)


REDUCTIONS = [
    # name, engine, float64 reference, rtol
    ("sum", lambda t: ag.sum(t, axis=0), lambda x: x.sum(axis=0), 1e-6),
    ("mean", lambda t: t.mean(0), lambda x: x.mean(axis=0), 1e-6),
    ("mean-keepdims", lambda t: ag.mean(t, axis=0, keepdims=True), lambda x: x.mean(axis=0, keepdims=True), 1e-6),
    ("var", lambda t: t.var(0), lambda x: x.var(axis=0, ddof=1), 1e-5),
    ("var-ddof1", lambda t: ag.var(t, axis=0, ddof=1), lambda x: x.var(axis=0, ddof=1), 1e-5),
    ("np.var", lambda t: np.var(t, axis=0), lambda x: x.var(axis=0), 1e-5),
]


@pytest.mark.parametrize("name, reduce, reference, rtol", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_float32_reductions_over_the_batch_axis_match_float64(name, reduce, reference, rtol):
    x = _far_from_zero((ROWS, 3))
    out = reduce(ag.tensor(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.value, reference(x.astype(np.float64)), rtol=rtol)


def test_float32_reductions_over_several_axes_match_float64():
    x = _far_from_zero((4096, 3, 16))
    exact = x.astype(np.float64)
    np.testing.assert_allclose(ag.mean(ag.tensor(x), axis=(0, 2)).value, exact.mean(axis=(0, 2)), rtol=1e-6)
    np.testing.assert_allclose(ag.var(ag.tensor(x), axis=(0, 2), correction=0).value, exact.var(axis=(0, 2)), rtol=1e-5)


def test_float32_variance_of_a_narrow_spread_far_from_zero():
    """Values 1e4 + 0.01 noise: the deviations are a millionth of the values, yet the variance keeps 5 digits."""
    x = _far_from_zero((4096, 64), spread=0.01)
    expected = x.astype(np.float64).var(axis=0)
    np.testing.assert_allclose(ag.var(ag.tensor(x), axis=0, correction=0).value, expected, rtol=1e-5)


def _batch_norm_reference(x, weight, bias, grad, eps=1e-5):
    """Training-mode batch norm and its gradients in float64, written out from the definitions."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    y = x_hat * weight.reshape(shape) + bias.reshape(shape)
    d_hat = grad * weight.reshape(shape)
    dx = (d_hat - d_hat.mean(axis=axes, keepdims=True) - x_hat * (d_hat * x_hat).mean(axis=axes, keepdims=True)) / (
        np.sqrt(var + eps)
    )
    return y, dx, (grad * x_hat).sum(axis=axes), grad.sum(axis=axes), mean.reshape(-1), var.reshape(-1)


@pytest.mark.parametrize("shape", [(ROWS, 3), (256, 3, 16, 16)], ids=["2d", "4d"])
def test_batch_norm_in_training_normalizes_float32_far_from_zero(shape):
    x = _far_from_zero(shape)
    channels = shape[1]
    weight, bias = np.linspace(0.5, 2.0, channels), np.linspace(-1.0, 1.0, channels)
    # An upstream gradient far from zero too: its per-channel sums are where the backward cancels.
    grad = _far_from_zero(shape, center=1.0, spread=0.01, seed=1)
    y_ref, dx_ref, dw_ref, db_ref, mean_ref, var_ref = _batch_norm_reference(
        x.astype(np.float64), weight, bias, grad.astype(np.float64)
    )

    t = ag.tensor(x, requires_grad=True)
    w = ag.tensor(weight.astype(np.float32), requires_grad=True)
    b = ag.tensor(bias.astype(np.float32), requires_grad=True)
    running_mean, running_var = np.zeros(channels, np.float32), np.ones(channels, np.float32)
    y = ag.batch_norm(t, running_mean, running_var, w, b, training=True, momentum=1.0)
    y.backward(grad)

    assert y.dtype == t.grad.dtype == np.float32
    axes, per_channel = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
    x_hat = (y.value.astype(np.float64) - bias.reshape(per_channel)) / weight.reshape(per_channel)
    np.testing.assert_allclose(x_hat.std(axis=axes), 1.0, atol=1e-5)
    np.testing.assert_allclose(x_hat.mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.value, y_ref, atol=1e-5)
    np.testing.assert_allclose(running_mean, mean_ref, rtol=1e-6)
    count = x.size // channels
    np.testing.assert_allclose(running_var, var_ref * count / (count - 1), rtol=1e-5)
    np.testing.assert_allclose(t.grad, dx_ref, atol=1e-4 * np.abs(dx_ref).max())
    # dw sums g * x_hat, whose terms are 1e4 times larger than the sum: float32 products leave 1e-3 of it.
    np.testing.assert_allclose(w.grad, dw_ref, rtol=2e-3)
    np.testing.assert_allclose(b.grad, db_ref, rtol=1e-6)
