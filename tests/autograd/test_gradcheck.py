"""The public gradient checker: it passes right gradients and names the worst wrong element."""

import numpy as np
import pytest

import autograd as ag
from autograd.op import Op


class WrongSquare(Op):
    """y = x**2 with a deliberately wrong derivative (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (3 * x * grad,)


def teardown_module():
    ag.OP_REGISTRY.pop("WrongSquare", None)


def test_gradcheck_passes_and_fails():
    x = ag.tensor(np.array([0.5, -2.0, 1.0]), requires_grad=True, name="x")
    assert ag.gradcheck(lambda t: (t * t).sum(), [x])
    with pytest.raises(ag.GradcheckError, match=r"gradient of x \(shape \(3,\)\) is wrong at index \(1,\): analytic"):
        ag.gradcheck(lambda t: WrongSquare.apply(t).sum(), [x])


def test_gradcheck_restores_existing_grads():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = np.array([7.0, 7.0])
    ag.gradcheck(lambda t: t.exp(), [x])
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])


def test_gradcheck_wants_float64():
    with pytest.raises(TypeError, match="float64"):
        ag.gradcheck(lambda t: t * 2, [ag.tensor([1.0], requires_grad=True)])


def test_numerical_gradient_and_rel_error():
    x = np.array([1.0, 2.0, -1.0])
    numeric = ag.numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    assert ag.rel_error(numeric, np.cos(x)) < 1e-8
    assert ag.rel_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    np.testing.assert_array_equal(x, [1.0, 2.0, -1.0])


def test_numerical_gradient_of_a_fortran_ordered_array():
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    weights = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    numeric = ag.numerical_gradient(lambda v: float(np.sum(weights * v)), x)
    assert ag.rel_error(numeric, weights) < 1e-8
    with pytest.raises(ValueError, match="numerical_gradient: x must be contiguous"):
        ag.numerical_gradient(lambda v: float(v.sum()), np.ones((4, 4))[:, ::2])


def test_manual_seed_repeats_dropout():
    x = ag.tensor(np.ones((4, 4)))
    ag.manual_seed(3)
    a = ag.dropout(x, 0.5).value
    ag.manual_seed(3)
    b = ag.dropout(x, 0.5).value
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0}
