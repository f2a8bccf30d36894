"""Second and higher derivatives of convolution and pooling, and the gradient ops they are built from.

The gradient ops are checked three ways: their forward against an obviously right reference (the
adjoint of the loop references in loops.py, one basis vector at a time), their gradients by finite
differences (gradcheck, gradgradcheck), and second derivatives of conv2d and the pools against PyTorch.
"""

import numpy as np
import pytest

import autograd as ag
from autograd import ops
from autograd.ops.conv import AvgPool2dGrad, Conv2dInputGrad, Conv2dWeightGrad, MaxPool2dGather, MaxPool2dGrad
from tests.autograd.loops import adjoint, conv2d_loop, gather_loop, pool2d_loop

CONV_CASES = [  # (x shape, w shape, settings)
    ((2, 3, 6, 5), (4, 3, 3, 3), dict()),
    ((1, 2, 7, 7), (3, 2, 3, 2), dict(stride=2, padding=1)),
    ((1, 2, 8, 7), (2, 2, 2, 3), dict(padding=(1, 2), dilation=2)),
    ((2, 4, 5, 5), (4, 2, 3, 3), dict(stride=(1, 2), padding=1, groups=2)),
    ((1, 3, 6, 6), (6, 1, 3, 3), dict(stride=2, padding=1, groups=3)),
]
POOL_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1)]
X_SHAPE = (2, 2, 6, 7)


def _tensor(shape, seed, low=-1.0, high=1.0):
    return ag.tensor(np.random.default_rng(seed).uniform(low, high, shape), requires_grad=True)


def _winners(x_shape, settings, seed=3):
    """Random window offsets for the pool of an x_shape input: the gather and scatter take any."""
    kernel = settings["kernel_size"]
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    out_shape = ops.max_pool2d(np.zeros(x_shape), **settings).shape
    return np.random.default_rng(seed).integers(0, kh * kw, out_shape).astype(np.uint8)


# ----- conv2d -----


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_CASES)
def test_conv2d_gradgradcheck(x_shape, w_shape, settings, bias):
    x, w, b = _tensor(x_shape, 0), _tensor(w_shape, 1), _tensor(w_shape[:1], 2)
    if bias:
        assert ag.gradgradcheck(lambda x, w, b: ag.conv2d(x, w, b, **settings), [x, w, b])
    else:
        assert ag.gradgradcheck(lambda x, w: ag.conv2d(x, w, **settings), [x, w])


def test_conv2d_bias_alone_is_differentiable_twice():
    """A frozen weight: the bias gradient is a column sum of g, which is linear in g."""
    x, w, b = ag.tensor(np.ones((1, 2, 4, 4))), ag.tensor(np.ones((3, 2, 3, 3))), _tensor((3,), 2)
    assert ag.gradgradcheck(lambda b: ag.conv2d(x, w, b, padding=1), [b])


@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_CASES)
def test_conv2d_input_grad_forward_is_the_adjoint_of_conv2d(x_shape, w_shape, settings):
    w = np.random.default_rng(1).standard_normal(w_shape)
    y_shape = conv2d_loop(np.zeros(x_shape), w, **settings).shape
    g = np.random.default_rng(2).standard_normal(y_shape)
    dx = Conv2dInputGrad.apply(g, w, input_size=x_shape[2:], **settings)
    expected = adjoint(lambda x: conv2d_loop(x, w, **settings), x_shape, g)
    np.testing.assert_allclose(dx.value, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_CASES)
def test_conv2d_weight_grad_forward_is_the_adjoint_of_conv2d(x_shape, w_shape, settings):
    x = np.random.default_rng(1).standard_normal(x_shape)
    y_shape = conv2d_loop(x, np.zeros(w_shape), **settings).shape
    g = np.random.default_rng(2).standard_normal(y_shape)
    dw, db = Conv2dWeightGrad.apply(x, g, kernel_size=w_shape[2:], with_bias=True, **settings)
    expected = adjoint(lambda w: conv2d_loop(x, w, **settings), w_shape, g)
    np.testing.assert_allclose(dw.value, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db.value, g.sum(axis=(0, 2, 3)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_CASES)
def test_conv2d_gradient_ops_gradgradcheck(x_shape, w_shape, settings):
    y_shape = conv2d_loop(np.zeros(x_shape), np.zeros(w_shape), **settings).shape
    x, w, g = _tensor(x_shape, 0), _tensor(w_shape, 1), _tensor(y_shape, 2)

    def input_grad(g, w):
        return Conv2dInputGrad.apply(g, w, input_size=x_shape[2:], **settings)

    def weight_grad(x, g):
        dw, db = Conv2dWeightGrad.apply(x, g, kernel_size=w_shape[2:], with_bias=True, **settings)
        return ag.concat([dw.reshape(-1), db])

    assert ag.gradcheck(input_grad, [g, w]) and ag.gradgradcheck(input_grad, [g, w])
    assert ag.gradcheck(weight_grad, [x, g]) and ag.gradgradcheck(weight_grad, [x, g])


def test_conv2d_third_derivative():
    """Every order is a chain of the same ops: d/dx of a Hessian-vector product, by finite differences."""
    x, w = _tensor((1, 2, 5, 5), 0), _tensor((2, 2, 3, 3), 1)
    v = np.random.default_rng(4).standard_normal((1, 2, 5, 5))

    def hessian_vector(x, w):
        y = ag.conv2d(x, w, padding=1)
        (dw,) = ag.grad((y * y * y).sum(), [w], create_graph=True)
        (dx,) = ag.grad((dw * dw).sum(), [x], create_graph=True)
        return (dx * ag.tensor(v)).sum()

    assert ag.gradgradcheck(hessian_vector, [x, w])


def test_conv2d_first_order_saves_the_input_itself():
    """Under create_graph the saved input must be the graph's tensor, not a padded copy of it."""
    x, w = _tensor((1, 2, 5, 5), 0), _tensor((3, 2, 3, 3), 1)
    y = ag.conv2d(x, w, padding=1)
    saved_input, saved_weight = y.source.ctx.saved
    assert saved_input is x.value and saved_weight is w.value


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape, w_shape, settings", CONV_CASES)
def test_conv2d_second_derivatives_match_pytorch(x_shape, w_shape, settings, bias):
    """d/dx and d/dw (and d/db) of sum(dx * u + dw * v) with dx, dw the first derivatives of sum(y * g)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[:1]))
    u, v = rng.standard_normal(x_shape), rng.standard_normal(w_shape)

    def second(lib, conv, tensor, grad, x, w, b):
        y = conv(x, w, b if bias else None, **settings)
        g = tensor(np.random.default_rng(6).standard_normal(tuple(y.shape)))
        dx, dw = grad((y * y * g).sum(), [x, w], create_graph=True)
        return grad((dx * tensor(u)).sum() + (dw * tensor(v)).sum(), [x, w, b], allow_unused=True)

    ours = [ag.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    found = second(ag, ag.conv2d, ag.tensor, ag.grad, *ours)
    expected = second(torch, torch.nn.functional.conv2d, torch.tensor, torch.autograd.grad, *theirs)
    for f, e in zip(found, expected):
        e = np.zeros(0) if e is None else e.detach().numpy()
        f = np.zeros(0) if f is None or (not bias and not e.size) else getattr(f, "value", f)
        np.testing.assert_allclose(f, e, rtol=1e-9, atol=1e-10)


# ----- pools -----


@pytest.mark.parametrize("settings", POOL_CASES)
def test_max_pool2d_gradgradcheck(settings):
    # Values apart (a permutation scaled by 0.1): finite differences never cross a tie.
    values = np.random.default_rng(0).permutation(np.prod(X_SHAPE)).reshape(X_SHAPE) * 0.1
    x = ag.tensor(values, requires_grad=True)
    assert ag.gradgradcheck(lambda x: ag.max_pool2d(x, **settings) ** 2, [x])


@pytest.mark.parametrize("settings", POOL_CASES)
def test_avg_pool2d_gradgradcheck(settings):
    assert ag.gradgradcheck(lambda x: ag.avg_pool2d(x, **settings) ** 2, [_tensor(X_SHAPE, 0)])


@pytest.mark.parametrize("settings", POOL_CASES)
def test_max_pool2d_gradient_ops(settings):
    winner = _winners(X_SHAPE, settings)
    x, g = _tensor(X_SHAPE, 0), _tensor(winner.shape, 1)

    def scatter(g):
        return MaxPool2dGrad.apply(g, winner, input_size=X_SHAPE[2:], **settings)

    def gather(x):
        return MaxPool2dGather.apply(x, winner, **settings)

    np.testing.assert_allclose(gather(x).value, gather_loop(x.value, winner, **settings), rtol=1e-12)
    expected = adjoint(lambda x: gather_loop(x, winner, **settings), X_SHAPE, g.value)
    np.testing.assert_allclose(scatter(g).value, expected, rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(scatter, [g]) and ag.gradgradcheck(scatter, [g])
    assert ag.gradcheck(gather, [x]) and ag.gradgradcheck(gather, [x])


@pytest.mark.parametrize("settings", POOL_CASES)
def test_avg_pool2d_grad_op(settings):
    y_shape = pool2d_loop(np.zeros(X_SHAPE), reduce=np.mean, fill=0.0, **settings).shape
    g = _tensor(y_shape, 1)

    def scatter(g):
        return AvgPool2dGrad.apply(g, input_size=X_SHAPE[2:], **settings)

    expected = adjoint(lambda x: pool2d_loop(x, reduce=np.mean, fill=0.0, **settings), X_SHAPE, g.value)
    np.testing.assert_allclose(scatter(g).value, expected, rtol=1e-12, atol=1e-12)
    assert ag.gradcheck(scatter, [g]) and ag.gradgradcheck(scatter, [g])


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("settings", POOL_CASES)
def test_pool_second_derivatives_match_pytorch(pool, settings):
    """d/dx of sum(dx * u), dx the first derivative of sum(pool(x)**3 * g): a Hessian-vector product."""
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).permutation(np.prod(X_SHAPE)).reshape(X_SHAPE) * 0.1 - 2.0
    u = np.random.default_rng(1).standard_normal(X_SHAPE)

    def second(fn, tensor, grad, x):
        y = fn(x, **settings)
        g = tensor(np.random.default_rng(2).standard_normal(tuple(y.shape)))
        (dx,) = grad((y * y * y * g).sum(), [x], create_graph=True)
        return grad((dx * tensor(u)).sum(), [x])[0]

    found = second(getattr(ag, pool), ag.tensor, ag.grad, ag.tensor(values, requires_grad=True))
    x = torch.tensor(values, requires_grad=True)
    expected = second(getattr(torch.nn.functional, pool), torch.tensor, torch.autograd.grad, x)
    np.testing.assert_allclose(found.value, expected.detach().numpy(), rtol=1e-9, atol=1e-10)


def test_gradient_ops_name_themselves_in_errors():
    with pytest.raises(ValueError, match=r"conv2d_input_grad: grad must have the forward output's shape"):
        Conv2dInputGrad.apply(np.zeros((1, 4, 3, 3)), np.zeros((4, 2, 3, 3)), input_size=(6, 6))
    with pytest.raises(ValueError, match=r"max_pool2d_grad: winner must be integers of shape \(1, 2, 3, 3\)"):
        MaxPool2dGrad.apply(np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 3, 3)), input_size=(6, 6), kernel_size=2)
