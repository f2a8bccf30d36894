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


# ---- a NaN is the maximum: max_pool2d ------------------------------------------------------------

POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1)]


def _with_nans(shape=(2, 3, 6, 7), seed=0):
    """Random values with NaNs sprinkled: some windows hold one NaN, some several."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x[rng.random(shape) < 0.08] = NAN
    x[0, 0, :2, :2] = NAN  # a whole window of NaN
    return x


def _channels_last(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("params", POOLS, ids=["k2", "k3s2p1", "k2x3s1"])
@pytest.mark.parametrize("layout", [np.ascontiguousarray, _channels_last], ids=["nchw", "channels-last"])
def test_max_pool2d_sends_the_gradient_to_the_nan_of_a_window(params, layout):
    x = layout(_with_nans())
    out, (dx,), upstream = _grads(lambda t: ag.max_pool2d(t, **params), x, seed=1)
    holds_nan = np.isnan(out)
    assert holds_nan.any() and not holds_nan.all()
    # The outputs that are NaN send their gradient to NaN inputs, the others to numbers, none is lost.
    np.testing.assert_allclose(dx[np.isnan(x)].sum(), upstream[holds_nan].sum())
    np.testing.assert_allclose(dx.sum(), upstream.sum())
    t_out, (t_dx,) = _torch_grads(lambda t, a: t.nn.functional.max_pool2d(a, **params), upstream, x)
    np.testing.assert_allclose(out, t_out, equal_nan=True)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12)


def test_max_pool2d_nan_gradient_lands_on_a_nan():
    x = np.array([[[[1.0, NAN, 3.0, 0.0], [2.0, 0.0, 5.0, NAN]]]])
    out, (dx,), _ = _grads(lambda t: ag.max_pool2d(t, 2), x)
    assert np.isnan(out).all()
    np.testing.assert_array_equal(dx != 0, np.isnan(x))


@pytest.mark.parametrize("params", [dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, padding=1)])
def test_max_pool2d_of_minus_inf_windows_never_sends_gradient_into_the_padding(params):
    x = np.full((1, 2, 5, 6), -INF)
    x[0, 1, 3:, 4:] = np.arange(4.0).reshape(2, 2)  # the other channel mixes real values and -inf windows
    out, (dx,), upstream = _grads(lambda t: ag.max_pool2d(t, **params), x, seed=2)
    assert np.isneginf(out).any()
    np.testing.assert_allclose(dx.sum(), upstream.sum())  # nothing lost in the padding
    t_out, (t_dx,) = _torch_grads(lambda t, a: t.nn.functional.max_pool2d(a, **params), upstream, x)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12)


def test_max_pool2d_second_order_follows_the_nan_and_inf_winners_as_torch():
    """d/dg <max_pool2d's dx(g), v> gathers v at the winners: MaxPool2dGrad and MaxPool2dGather agree."""
    torch = _torch()
    params = dict(kernel_size=3, stride=2, padding=1)
    x0 = _with_nans()
    x0[1, 2] = -INF
    v = np.random.default_rng(3).standard_normal(x0.shape)
    x = ag.tensor(x0, requires_grad=True)
    out = ag.max_pool2d(x, **params)
    g = ag.tensor(np.ones(out.shape), requires_grad=True)
    (dx,) = ag.grad(out, x, g, create_graph=True)
    (dg,) = ag.grad((dx * v).sum(), g)
    tx = torch.tensor(x0, requires_grad=True)
    t_out = torch.nn.functional.max_pool2d(tx, **params)
    tg = torch.ones(t_out.shape, dtype=torch.float64, requires_grad=True)
    (t_dx,) = torch.autograd.grad(t_out, tx, tg, create_graph=True)
    (t_dg,) = torch.autograd.grad((t_dx * torch.tensor(v)).sum(), tg)
    np.testing.assert_allclose(dg, t_dg.numpy(), rtol=1e-12)


# ---- a NaN is the maximum: reductions and element-wise choices ---------------------------------------


def test_max_and_min_share_the_gradient_between_the_nans_they_return():
    x = np.array([[1.0, NAN, NAN], [1.0, 2.0, 2.0], [NAN, 0.0, -1.0]])
    for reduce in (ag.max, ag.min):
        out, (dx,), _ = _grads(lambda t, reduce=reduce: reduce(t, axis=1).values, x)
        assert np.isnan(out[[0, 2]]).all()
        np.testing.assert_allclose(dx[[0, 2]], np.isnan(x[[0, 2]]) / np.isnan(x[[0, 2]]).sum(1, keepdims=True))
        np.testing.assert_allclose(dx.sum(axis=1), 1.0)  # each row's gradient is all there, none NaN


def test_max_and_min_with_nans_match_torch():
    x = np.array([[1.0, NAN, NAN], [1.0, 2.0, 2.0], [NAN, 0.0, -1.0]])
    # Over all elements torch splits the gradient between the NaNs, as these do.
    _assert_same_as_torch(ag.max, lambda t, a: a.max(), x)
    _assert_same_as_torch(ag.min, lambda t, a: a.min(), x)
    # Over one axis, with one NaN or one maximum per row, torch.max(dim) picks the same elements.
    single = np.array([[NAN, 0.0, -1.0], [1.0, 3.0, 2.0]])
    _assert_same_as_torch(lambda t: ag.max(t, axis=1).values, lambda t, a: a.max(dim=1).values, single)
    _assert_same_as_torch(lambda t: ag.min(t, axis=1).values, lambda t, a: a.min(dim=1).values, single)


ELEMENTWISE_WITH_NAN = [
    ("relu", ag.relu, lambda t, a: t.relu(a)),
    ("leaky_relu", ag.leaky_relu, lambda t, a: t.nn.functional.leaky_relu(a)),
    ("elu", ag.elu, lambda t, a: t.nn.functional.elu(a)),
    ("abs", ag.abs, lambda t, a: a.abs()),
    ("clip", lambda a: ag.clip(a, -1.0, 1.0), lambda t, a: a.clamp(-1.0, 1.0)),
]


@pytest.mark.parametrize("name, fn, torch_fn", ELEMENTWISE_WITH_NAN, ids=[c[0] for c in ELEMENTWISE_WITH_NAN])
def test_activations_at_nan_match_torch(name, fn, torch_fn):
    _assert_same_as_torch(fn, torch_fn, np.array([NAN, -2.0, -0.5, 0.5, 2.0]), seed=4)


def test_relu_passes_the_gradient_of_a_nan_it_returns():
    _, (dx,), _ = _grads(ag.relu, np.array([NAN, -1.0, 1.0]))
    np.testing.assert_array_equal(dx, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("choose, torch_name", [(ag.maximum, "maximum"), (ag.minimum, "minimum")])
def test_maximum_and_minimum_give_both_inputs_the_gradient_of_a_nan(choose, torch_name):
    a = np.array([NAN, 1.0, NAN, 2.0, 3.0])
    b = np.array([1.0, NAN, NAN, 2.0, -3.0])
    out, (da, db), _ = _grads(choose, a, b)
    unordered = np.isnan(a) | np.isnan(b)
    assert np.isnan(out[unordered]).all()
    np.testing.assert_array_equal(da[unordered], 1.0)
    np.testing.assert_array_equal(db[unordered], 1.0)
    _assert_same_as_torch(choose, lambda t, x, y: getattr(t, torch_name)(x, y), a, b, seed=5)
    # Broadcast operands: the shares are laid out in the output's shape.
    _assert_same_as_torch(choose, lambda t, x, y: getattr(t, torch_name)(x, y), a[:, None], b[None, :], seed=5)


# ---- integer input where the result needs a fraction ---------------------------------------------

INTEGER_DTYPES = [np.int64, np.int32, np.uint8, np.bool_]


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
def test_dropout_refuses_integer_input(dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    message = f"dropout: input must be a floating-point tensor, got dtype {np.dtype(dtype)}"
    with pytest.raises(TypeError, match=message):
        ag.dropout(ag.tensor(x), p=0.3)
    # What torch allows, this allows too: nothing to scale when nothing is dropped or everything is.
    assert ag.dropout(x, p=0.0) is x and ag.dropout(x, p=0.3, training=False) is x
    zeros = ag.dropout(ag.tensor(x), p=1.0)
    assert zeros.dtype == dtype and not zeros.value.any()


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("p, training", [(0.3, True), (0.5, True), (0.0, True), (1.0, True), (0.3, False)])
def test_dropout_of_integer_input_refuses_or_passes_as_torch(dtype, p, training):
    torch = _torch()
    x = np.arange(12).reshape(3, 4).astype(dtype)
    try:
        theirs = torch.nn.functional.dropout(torch.tensor(x), p=p, training=training).numpy()
    except RuntimeError as error:
        assert "can't be cast" in str(error)
        with pytest.raises(TypeError, match="dropout: input must be a floating-point tensor"):
            ag.dropout(ag.tensor(x), p=p, training=training)
    else:
        mine = ag.dropout(ag.tensor(x), p=p, training=training)
        assert mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine.value, theirs)


def test_dropout_module_refuses_integer_input():
    import nn

    with pytest.raises(TypeError, match="dropout: .* got dtype int64"):
        nn.Dropout(0.5)(ag.tensor(np.arange(4)))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_refuses_integer_input(training):
    x = np.arange(12).reshape(4, 3)
    with pytest.raises(TypeError, match="batch_norm: input must be a floating-point tensor, got dtype int64"):
        ag.batch_norm(ag.tensor(x), np.zeros(3), np.ones(3), training=training)


def test_empty_tensors_reduce_as_in_pytorch():
    """Found by the differential test: a reduction of an empty tensor along a full axis is an empty result,
    the mean of nothing is NaN (no warning), and only an extremum over an empty axis is refused."""
    empty = np.zeros((1, 0), np.float32)
    for fn in (ag.amax, ag.amin, ag.var):
        out, (grad,), _ = _grads(lambda x, fn=fn: fn(x, axis=0), empty)
        assert out.shape == (0,) and grad.shape == (1, 0)
    out, (grad,), _ = _grads(lambda x: ag.mean(x, axis=0), np.zeros((0, 3), np.float32))
    assert np.isnan(out).all() and out.dtype == np.float32 and grad.shape == (0, 3)
    with pytest.raises(ValueError, match=r"max: cannot reduce over an empty axis, got shape \(1, 0\)"):
        ag.max(ag.tensor(empty), axis=1)
    with pytest.raises(ValueError, match="var: needs more than ddof=1 elements"):
        ag.var(ag.tensor(np.ones((2, 1))), axis=1, ddof=1)
