"""NaN, infinities and integer dtypes: values and gradients where PyTorch puts them, or PyTorch's refusal.

A NaN that takes an op's output takes its gradient too, an undefined derivative is NaN rather than a
quiet 0, and an op whose result needs a fraction refuses integer input instead of truncating. Each case
checks the property itself and, where PyTorch is installed, compares with it (NaN equal to NaN).
"""

import numpy as np
import pytest

import autograd as ag

NAN, INF = np.nan, np.inf


def _torch():
    return pytest.importorskip("torch")


def _grads(fn, *arrays, seed=None):
    """fn's output and the gradients of its inputs, for a fixed upstream gradient (ones by default)."""
    inputs = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    upstream = np.ones(out.shape) if seed is None else np.random.default_rng(seed).uniform(0.5, 1.5, out.shape)
    out.backward(upstream.astype(out.dtype))
    return out.value, [t.grad for t in inputs], upstream


def _torch_grads(torch_fn, upstream, *arrays):
    torch = _torch()
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = torch_fn(torch, *inputs)
    out.backward(torch.tensor(upstream, dtype=out.dtype))
    return out.detach().numpy(), [t.grad.numpy() for t in inputs]


def _assert_same_as_torch(fn, torch_fn, *arrays, seed=None):
    out, grads, upstream = _grads(fn, *arrays, seed=seed)
    t_out, t_grads = _torch_grads(torch_fn, upstream, *arrays)
    np.testing.assert_allclose(out, t_out, rtol=1e-6, equal_nan=True)
    for grad, t_grad in zip(grads, t_grads):
        np.testing.assert_allclose(grad, t_grad, rtol=1e-6, equal_nan=True)


# ---- pow: the exponent's gradient y * log(a) -------------------------------------------------------

BASES = np.array([-2.0, -0.5, -3.0, 0.0, 0.0, 0.5, 2.0])
EXPONENTS = np.array([2.0, 3.0, 0.0, 2.0, 0.0, 0.5, 1.5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_exponent_gradient_is_nan_for_a_negative_base(dtype):
    _, (da, db), _ = _grads(lambda a, b: a**b, BASES.astype(dtype), EXPONENTS.astype(dtype))
    negative, positive, zero = BASES < 0, BASES > 0, BASES == 0
    assert np.isnan(db[negative]).all(), db  # log of a negative number: undefined, not 0
    assert np.isfinite(db[positive]).all() and (db[zero] == 0).all(), db  # 0 ** b with b >= 0: the limit 0
    assert np.isfinite(da).all(), da  # the base's gradient b * a ** (b - 1) is defined at integer b
    assert da.dtype == db.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_gradients_match_torch_at_negative_and_zero_bases(dtype):
    _assert_same_as_torch(lambda a, b: a**b, lambda t, a, b: a**b, BASES.astype(dtype), EXPONENTS.astype(dtype))


def test_pow_at_zero_base_and_negative_exponent_matches_torch():
    """0 ** -1 = inf: both gradients are -inf, numpy warns about the infinity as it does in forward."""
    with np.errstate(divide="ignore"):
        _assert_same_as_torch(lambda a, b: a**b, lambda t, a, b: a**b, np.array([0.0, 2.0]), np.array([-1.0, -1.0]))


def test_pow_second_derivatives_at_a_negative_base_match_torch():
    torch = _torch()
    a0, b0 = np.array([-2.0, -0.5, 0.5, 2.0]), np.array([2.0, 3.0, 0.5, 1.5])
    v = np.array([0.5, 1.0, 1.5, 2.0])
    a, b = ag.tensor(a0, requires_grad=True), ag.tensor(b0, requires_grad=True)
    da, db = ag.grad((a**b).sum(), (a, b), create_graph=True)
    second = ag.grad((da * v).sum() + (db * v[::-1]).sum(), (a, b))
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    tda, tdb = torch.autograd.grad((ta**tb).sum(), (ta, tb), create_graph=True)
    t_second = torch.autograd.grad((tda * torch.tensor(v)).sum() + (tdb * torch.tensor(v[::-1].copy())).sum(), (ta, tb))
    assert np.isnan(second[1][:2]).all()  # d/db of y log(a) at a < 0: still undefined
    for mine, theirs in zip(second, t_second):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-10, equal_nan=True)
