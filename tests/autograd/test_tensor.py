"""TensorNode: construction, dtypes, operators, conversions and the errors users meet first."""

import operator

import numpy as np
import pytest

import autograd as ag
from autograd.op import Op


def test_python_numbers_get_torch_tensors_dtypes():
    assert ag.tensor(3).dtype == np.int64  # torch.tensor: ints are int64, floats float32, bools bool
    assert ag.tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert ag.tensor([[1, 2.5], [3, 4]]).dtype == np.float32
    assert ag.tensor([True, False]).dtype == np.bool_
    assert ag.TensorNode(2.5).dtype == np.float32
    assert ag.TensorNode([1, 2]).dtype == np.float32  # TensorNode(...) is torch.Tensor(...): always float32


def test_ndarrays_keep_their_dtype():
    assert ag.tensor(np.zeros(2)).dtype == np.float64
    assert ag.tensor(np.zeros(2, dtype=np.int64)).dtype == np.int64


def test_tensor_copies_and_tensornode_wraps():
    data = np.zeros(3)
    assert ag.tensor(data).value is not data
    assert ag.TensorNode(data).value is data


def test_python_scalars_never_upcast_float32():
    x = ag.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = 2.0 * x + 1 - x / 3.0 + x**2 + (1.5 - x) * np.float32(2)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_float_dtypes_promote_as_numpy_and_grads_keep_input_dtype():
    a = ag.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = ag.tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    c = a * b
    assert c.dtype == np.float64
    c.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


# (tensor value, other operand): Python numbers, 0-d arrays and dimensioned arrays of every kind.
PROMOTION_CASES = [
    (np.ones(3, np.int64), 0.5),
    (np.ones(3, np.int64), 2),
    (np.ones(3, np.int32), 2),
    (np.ones(3, np.bool_), 2),
    (np.ones(3, np.bool_), 2.5),
    (np.ones(3, np.float32), 2),
    (np.ones(3, np.float16), 2.5),
    (np.ones(3, np.float32), np.array(2.0)),
    (np.ones(3, np.int64), np.array(0.5)),
    (np.ones(3, np.int32), np.array(2)),
    (np.ones(3, np.uint8), np.array(2)),
    (np.ones(3, np.int64), np.ones(3, np.float32)),
    (np.ones(3, np.float32), np.ones(3, np.float64)),
    (np.array(2, np.int64), 2.5),
    (np.array(2.0, np.float16), 2.5),
    (np.array(2.0, np.float64), np.ones(3, np.float32)),
]


@pytest.mark.parametrize("fn", [operator.add, operator.mul, operator.truediv, operator.pow])
@pytest.mark.parametrize("a, b", PROMOTION_CASES)
def test_dtype_promotion_matches_pytorch(fn, a, b):
    torch = pytest.importorskip("torch")
    b_torch = torch.from_numpy(b) if isinstance(b, np.ndarray) else b
    for wrap in (lambda v: v, ag.tensor):  # an ndarray operand, or a tensor holding it
        other = wrap(b) if isinstance(b, np.ndarray) else b
        for ours, theirs in (
            (fn(ag.tensor(a), other), fn(torch.from_numpy(a), b_torch)),
            (fn(other, ag.tensor(a)), fn(b_torch, torch.from_numpy(a))),
        ):
            assert ours.dtype == theirs.numpy().dtype, (a.dtype, b, fn)
            np.testing.assert_allclose(ours.value, theirs.numpy(), rtol=1e-3)


def test_a_0d_float64_tensor_keeps_a_float32_product_and_gets_a_float64_gradient():
    torch = pytest.importorskip("torch")
    x = ag.tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    s = ag.tensor(np.array(0.5), requires_grad=True)
    x_t, s_t = (torch.tensor(v.value, requires_grad=True) for v in (x, s))
    y, y_t = x * s, x_t * s_t
    assert y.dtype == np.float32 and y_t.dtype == torch.float32
    y.sum().backward()
    y_t.sum().backward()
    for ours, theirs in ((x, x_t), (s, s_t)):
        assert ours.grad.dtype == theirs.grad.numpy().dtype
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy())


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_0d_tensor_matches_pytorch(fn, dim):
    torch = pytest.importorskip("torch")
    x, x_t = ag.tensor(np.array(1.5), requires_grad=True), torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    y, y_t = getattr(ag, fn)(x, dim), getattr(torch, fn)(x_t, dim)
    assert y.shape == () and y.item() == y_t.item()
    (y * 3.0).backward()
    (y_t * 3.0).backward()
    assert x.grad.shape == () and x.grad.item() == x_t.grad.item()


@pytest.mark.parametrize("fn", ["sum", "mean", "max", "min"])
def test_reducing_a_0d_tensor_along_dim_0_matches_pytorch(fn):
    torch = pytest.importorskip("torch")
    x, x_t = ag.tensor(np.array(1.5), requires_grad=True), torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    for dim in (0, -1):
        y = getattr(x, fn)(axis=dim)
        y = y.values if fn in ("max", "min") else y  # over a dim, torch.max gives (values, indices)
        assert y.shape == () and y.item() == getattr(torch, fn if fn in ("sum", "mean") else "a" + fn)(x_t, dim).item()
    with pytest.raises(ValueError, match=rf"{fn}: axis must lie in \[-1, 1\), got 1 for a tensor of 0 dims"):
        getattr(x, fn)(axis=1)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype int64"):
        ag.tensor(np.arange(3), requires_grad=True)
    t = ag.tensor(np.arange(3))
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad = True


def test_integer_tensors_feed_ops():
    x = ag.tensor(np.ones((3, 4)), requires_grad=True)
    labels = ag.tensor(np.array([0, 3, 1]))
    loss = ag.cross_entropy(x, labels)
    loss.backward()
    assert x.grad.shape == (3, 4)


def test_reflected_operators_with_ndarrays():
    x = ag.tensor(np.array([1.0, 2.0]), requires_grad=True)
    arr = np.array([3.0, 4.0])
    for y in (arr + x, arr - x, arr * x, arr / x, arr**x, arr @ x):
        assert isinstance(y, ag.TensorNode)
    (arr - x).sum().backward()
    np.testing.assert_allclose(x.grad, [-1.0, -1.0])


def test_operator_results():
    a = ag.tensor(np.array([[1.0, -2.0], [3.0, 4.0]]))
    np.testing.assert_allclose((-a).value, -a.value)
    np.testing.assert_allclose(abs(a).value, np.abs(a.value))
    np.testing.assert_allclose(a.T.value, a.value.T)
    np.testing.assert_allclose(a[1].value, [3.0, 4.0])
    np.testing.assert_allclose((a @ a).value, a.value @ a.value)
    assert a.reshape(4).shape == (4,) and a.reshape(1, 4).shape == (1, 4)
    assert a.transpose(1, 0).shape == (2, 2) and a.flatten().shape == (4,)


def test_conversions():
    a = ag.tensor(np.array([[1.5]]))
    assert a.item() == 1.5 and float(a) == 1.5
    assert np.asarray(a) is a.value and a.numpy() is a.value
    assert (a.shape, a.ndim, a.size(), a.numel(), len(a)) == ((1, 1), 2, (1, 1), 1, 1)


def test_repr_is_readable():
    x = ag.tensor(np.zeros((2, 3)), requires_grad=True, name="x")
    text = repr(x)
    assert "shape=(2, 3)" in text and "float64" in text and "name='x'" in text and "requires_grad=True" in text
    assert "source=Mul" in repr(x * 2)


def test_backward_from_non_scalar_needs_grad():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element outputs, got shape \(2, 3\)"):
        (x * 2).backward()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).backward()


def test_matmul_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions must match, got \(3, 4\) @ \(5, 2\)"):
        ag.tensor(np.ones((3, 4))) @ ag.tensor(np.ones((5, 2)))


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\) do not broadcast"):
        ag.tensor(np.ones((3, 4))) + ag.tensor(np.ones(5))


def test_wrong_number_of_gradients_names_the_op():
    class Broken(Op):
        """y = x;  returns too many gradients."""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="Broken.backward: must return a tuple of 1 gradients.*got 2"):
        Broken.apply(x).sum().backward()


def test_wrong_gradient_shape_names_the_op():
    class BadShape(Op):
        """y = x;  returns a gradient of the wrong shape."""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return (np.ones(5),)

    x = ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"BadShape.backward: gradient 0 must have the input's shape \(3,\).*got \(5,\)"
    ):
        BadShape.apply(x).sum().backward()


def test_defining_an_op_registers_it():
    class Cube(Op):
        """y = x**3;  dx = 3 x**2 g."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return (3 * x * x * grad,)

    assert ag.OP_REGISTRY["Cube"] is Cube
    x = ag.tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert ag.gradcheck(Cube.apply, [x])
    del ag.OP_REGISTRY["Cube"]


def test_methods_match_functions():
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 4)))
    pairs = [
        (x.sum(axis=1), ag.sum(x, axis=1)),
        (x.mean(), ag.mean(x)),
        (x.max(axis=0).values, ag.max(x, axis=0).values),
        (x.max(axis=0).indices, ag.max(x, axis=0).indices),
        (x.min(), ag.min(x)),
        (x.var(ddof=1), ag.var(x, ddof=1)),
        (x.exp(), ag.exp(x)),
        (x.relu(), ag.relu(x)),
        (x.sigmoid(), ag.sigmoid(x)),
        (x.tanh(), ag.tanh(x)),
        (x.softmax(), ag.softmax(x)),
        (x.log_softmax(0), ag.log_softmax(x, 0)),
        (x.leaky_relu(0.1), ag.leaky_relu(x, 0.1)),
        (x.elu(), ag.elu(x)),
        (x.abs(), ag.abs(x)),
        (x.clip(-0.1, 0.1), ag.clip(x, -0.1, 0.1)),
        (x.unsqueeze(0).squeeze(0), x),
    ]
    for a, b in pairs:
        np.testing.assert_array_equal(a.value, b.value)
    assert x.argmax(axis=1).tolist() == x.value.argmax(axis=1).tolist()


def test_a_one_input_backward_may_return_its_gradient_bare():
    class _Cube(Op):  # private: not registered
        """y = x^3;  dx = 3 x^2 g, returned without a tuple as PyTorch's Functions may."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * x * grad

    x = ag.tensor(np.array([1.0, -2.0]), requires_grad=True)
    (dx,) = ag.grad(_Cube.apply(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(dx.value, [3.0, 12.0])
    dx.sum().backward()  # the bare gradient was recorded: its own derivative is 6 x
    np.testing.assert_allclose(x.grad, [6.0, -12.0])
