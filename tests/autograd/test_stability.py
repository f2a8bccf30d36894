"""Numerically stable at the edges: finite values and gradients, and no numpy warnings.

pyproject.toml turns every RuntimeWarning (overflow, divide by zero, invalid) into a test error.
"""

import numpy as np
import pytest

import autograd as ag

EXTREME_LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 5e3, -5e3]])
TARGETS = np.array([1, 0, 2])  # each target sits on the least likely class: the hardest case


def _finite_value_and_grad(fn, array):
    x = ag.tensor(array, requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape, dtype=out.dtype))
    assert np.isfinite(out.value).all(), out.value
    assert np.isfinite(x.grad).all(), x.grad
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ag.softmax(x),
        lambda x: ag.log_softmax(x),
        lambda x: ag.cross_entropy(x, TARGETS),
        lambda x: ag.nll_loss(ag.log_softmax(x), TARGETS),
        lambda x: ag.multi_margin_loss(x, TARGETS),
    ],
    ids=["softmax", "log_softmax", "cross_entropy", "nll_of_log_softmax", "multi_margin"],
)
def test_softmax_family_with_huge_logits(fn, dtype):
    _finite_value_and_grad(fn, EXTREME_LOGITS.astype(dtype))


def test_cross_entropy_of_huge_logits_has_the_exact_value():
    out = ag.cross_entropy(ag.tensor(EXTREME_LOGITS), TARGETS, reduction="none")
    np.testing.assert_allclose(out.value, [2e4, 2e4, 1e4 + np.log(2)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [ag.sigmoid, ag.tanh, ag.elu, ag.softmax], ids=["sigmoid", "tanh", "elu", "softmax"])
def test_activations_at_plus_minus_1e3(fn, dtype):
    out = _finite_value_and_grad(fn, np.array([-1e3, -50.0, 0.0, 50.0, 1e3], dtype=dtype))
    assert out.dtype == dtype


def test_sigmoid_saturates_exactly():
    np.testing.assert_array_equal(ag.sigmoid(ag.tensor(np.array([-1e3, 1e3]))).value, [0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_at_plus_minus_1e3(dtype):
    target = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    logits = np.array([-1e3, 1e3, 1e3, -1e3], dtype=dtype)
    out = _finite_value_and_grad(lambda x: ag.binary_cross_entropy_with_logits(x, target, reduction="none"), logits)
    np.testing.assert_allclose(out.value, [1e3, 1e3, 0.0, 0.0])
