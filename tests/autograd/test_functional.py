"""autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp against torch.autograd.functional, finite differences."""

import numpy as np
import pytest

import autograd as ag
from autograd import functional as F


def leaf(*shape, seed=0):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(s) for s in shapes)


# ----- the test functions: written once, run on TensorNodes and on torch tensors alike -----
def matmul_tanh(x, y):
    """Scalar of two matrices."""
    return ((x @ y).tanh() ** 2).sum()


def mixed(x, y):
    """Scalar of a vector and a matrix: exp, sigmoid, pow, mul."""
    return (((x @ y).sigmoid() * x.exp()) ** 3).sum() + (x * x * y.sum()).sum()


def two_outputs(x, y):
    """A vector and a matrix from a vector and a matrix."""
    return (x @ y).tanh(), (y * x.reshape(3, 1)).exp() ** 2


def vector(x):
    return (x * x).sigmoid() * x.exp()


def unused_second(x, y):
    return (x.exp() ** 2).sum()


SCALAR_CASES = [(matmul_tanh, [(2, 3), (3, 2)]), (mixed, [(3,), (3, 3)])]


def to_torch(torch, values):
    return tuple(torch.tensor(a, dtype=torch.float64) for a in values)


def assert_same(ours, theirs, atol=1e-10):
    """Same nesting (tuple vs tensor) and values."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"expected a tuple of {len(theirs)}, got {ours!r}"
        for a, b in zip(ours, theirs):
            assert_same(a, b, atol)
    else:
        assert isinstance(ours, ag.TensorNode), f"expected a TensorNode, got {type(ours).__name__}"
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.value, theirs.detach().numpy(), rtol=1e-8, atol=atol)


# ----- against torch -----
@pytest.mark.parametrize("func, shapes", SCALAR_CASES)
def test_vjp_vhp_hvp_of_scalar_functions_match_torch(func, shapes):
    torch = pytest.importorskip("torch")
    xs, vs = arrays(*shapes), arrays(*shapes, seed=1)
    ours_in, theirs_in = tuple(ag.tensor(a) for a in xs), to_torch(torch, xs)
    assert_same(F.vjp(func, ours_in), torch.autograd.functional.vjp(func, theirs_in))
    for name in ("vhp", "hvp"):
        ours = getattr(F, name)(func, ours_in, v=vs)
        theirs = getattr(torch.autograd.functional, name)(func, theirs_in, v=to_torch(torch, vs))
        assert_same(ours, theirs)


@pytest.mark.parametrize("func, shapes", SCALAR_CASES)
def test_hessian_matches_torch_and_is_symmetric(func, shapes):
    torch = pytest.importorskip("torch")
    xs = arrays(*shapes)
    ours = F.hessian(func, tuple(ag.tensor(a) for a in xs))
    assert_same(ours, torch.autograd.functional.hessian(func, to_torch(torch, xs)))
    n = [a.size for a in xs]
    full = np.block([[ours[i][j].value.reshape(n[i], n[j]) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(full, full.T, atol=1e-12)


def test_vjp_jvp_jacobian_of_a_tuple_function_match_torch():
    torch = pytest.importorskip("torch")
    xs = arrays((3,), (3, 4))
    ours_in, theirs_in = tuple(ag.tensor(a) for a in xs), to_torch(torch, xs)
    outs = two_outputs(*theirs_in)
    u, v = arrays(*[tuple(o.shape) for o in outs], seed=1), arrays((3,), (3, 4), seed=2)
    tf = torch.autograd.functional
    assert_same(F.vjp(two_outputs, ours_in, u), tf.vjp(two_outputs, theirs_in, to_torch(torch, u)))
    assert_same(F.jvp(two_outputs, ours_in, v), tf.jvp(two_outputs, theirs_in, to_torch(torch, v)))
    assert_same(F.jacobian(two_outputs, ours_in), tf.jacobian(two_outputs, theirs_in))


def test_single_input_single_output_structures_match_torch():
    torch = pytest.importorskip("torch")
    (x,) = arrays((4,))
    (v,) = arrays((4,), seed=1)
    ours, theirs, tf = ag.tensor(x), torch.tensor(x), torch.autograd.functional
    assert_same(F.jacobian(vector, ours), tf.jacobian(vector, theirs))
    assert_same(F.jvp(vector, ours, v), tf.jvp(vector, theirs, torch.tensor(v)))
    assert_same(F.vjp(vector, ours, v), tf.vjp(vector, theirs, torch.tensor(v)))
    scalar = lambda t: (vector(t) ** 2).sum()  # noqa: E731
    assert_same(F.hessian(scalar, ours), tf.hessian(scalar, theirs))
    assert_same(F.hvp(scalar, ours, v), tf.hvp(scalar, theirs, torch.tensor(v)))


def test_jacobian_single_output_tuple_inputs_and_create_graph_match_torch():
    torch = pytest.importorskip("torch")
    xs = arrays((3,), (3, 4))
    f = lambda x, y: (x @ y).tanh()  # noqa: E731
    ours = F.jacobian(f, tuple(ag.tensor(a) for a in xs), create_graph=True)
    theirs = torch.autograd.functional.jacobian(f, to_torch(torch, xs), create_graph=True)
    assert_same(ours, theirs)


def test_unused_input_gives_zeros_as_torch():
    torch = pytest.importorskip("torch")
    xs = arrays((3,), (2,))
    ours_in, theirs_in, tf = tuple(ag.tensor(a) for a in xs), to_torch(torch, xs), torch.autograd.functional
    assert_same(F.vjp(unused_second, ours_in), tf.vjp(unused_second, theirs_in))
    assert_same(F.hessian(unused_second, ours_in), tf.hessian(unused_second, theirs_in))
    assert_same(F.vhp(unused_second, ours_in, xs), tf.vhp(unused_second, theirs_in, theirs_in))


def test_hessian_of_a_hessian_input_create_graph_matches_torch():
    """create_graph=True keeps results differentiable with respect to inputs that require grad."""
    torch = pytest.importorskip("torch")
    (x,) = arrays((3,))
    ours_x, theirs_x = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    f = lambda t: (t.exp() * t.tanh()).sum()  # noqa: E731
    (ours,) = ag.grad(F.hessian(f, ours_x, create_graph=True).sum(), ours_x)
    (theirs,) = torch.autograd.grad(torch.autograd.functional.hessian(f, theirs_x, create_graph=True).sum(), theirs_x)
    assert_same(ours, theirs)


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_create_graph_results_differentiate_back_to_the_inputs_as_torch(name):
    torch = pytest.importorskip("torch")
    xs, vs = arrays((2, 3), (3, 2)), arrays((2, 3), (3, 2), seed=1)
    if name == "vjp":
        vs = (np.array(1.5),)
    ours_in = tuple(ag.tensor(a, requires_grad=True) for a in xs)
    theirs_in = tuple(t.requires_grad_() for t in to_torch(torch, xs))
    _, ours = getattr(F, name)(matmul_tanh, ours_in, vs[0] if name == "vjp" else vs, create_graph=True)
    _, theirs = getattr(torch.autograd.functional, name)(
        matmul_tanh, theirs_in, to_torch(torch, vs)[0] if name == "vjp" else to_torch(torch, vs), create_graph=True
    )
    ours, theirs = (ours,) if name == "jvp" else ours, (theirs,) if name == "jvp" else theirs
    ours_total, theirs_total = sum((o * o).sum() for o in ours), sum((t * t).sum() for t in theirs)
    assert_same(ag.grad(ours_total, ours_in), torch.autograd.grad(theirs_total, theirs_in))


# ----- without torch -----
def test_jacobian_matches_finite_differences():
    x = leaf(4, seed=3)
    jac = F.jacobian(vector, x)
    for i in range(4):
        row = ag.numerical_gradient(lambda t, i=i: float(vector(ag.tensor(t)).value[i]), x.value.copy())
        np.testing.assert_allclose(jac.value[i], row, rtol=1e-6, atol=1e-8)


def test_jvp_is_jacobian_times_v_and_vjp_is_v_times_jacobian():
    x = leaf(4, seed=4)
    (v,) = arrays((4,), seed=5)
    jac = F.jacobian(vector, x).value
    np.testing.assert_allclose(F.jvp(vector, x, v)[1].value, jac @ v)
    np.testing.assert_allclose(F.vjp(vector, x, v)[1].value, v @ jac)


def test_inputs_are_detached_and_results_do_not_require_grad():
    x = leaf(3)
    out, result = F.vjp(lambda t: (t**2).sum(), x)
    assert x.grad is None and not out.requires_grad and not result.requires_grad
    out, result = F.vjp(lambda t: (t**2).sum(), x, create_graph=True)
    assert result.requires_grad


def test_ndarray_inputs_and_no_grad_mode():
    with ag.no_grad():
        out, (dx,) = F.vjp(lambda t: (t**3).sum(), (np.array([1.0, 2.0]),))
    assert dx.value.tolist() == [3.0, 12.0] and out.item() == 9.0


def test_hvp_equals_vhp():
    xs = tuple(ag.tensor(a) for a in arrays((2, 3), (3, 2), seed=6))
    vs = arrays((2, 3), (3, 2), seed=7)
    for a, b in zip(F.hvp(matmul_tanh, xs, vs)[1], F.vhp(matmul_tanh, xs, vs)[1]):
        np.testing.assert_allclose(a.value, b.value, atol=1e-12)


# ----- errors -----
def test_strict_names_the_unused_input():
    xs = tuple(ag.tensor(a) for a in arrays((3,), (2,)))
    for fn in (F.vjp, F.jacobian, F.hessian):
        with pytest.raises(RuntimeError, match="strict=True.*input 1"):
            fn(unused_second, xs, strict=True)
    for fn in (F.vhp, F.hvp):
        with pytest.raises(RuntimeError, match="strict=True.*input 1"):
            fn(unused_second, xs, v=arrays((3,), (2,)), strict=True)
    with pytest.raises(RuntimeError, match="jvp: strict=True.*input 1"):
        F.jvp(lambda x, y: x * 2, xs, v=arrays((3,), (2,)), strict=True)
    with pytest.raises(RuntimeError, match="jvp: strict=True.*output 1"):
        F.jvp(lambda x, y: (x * 2, y.detach()), xs, v=arrays((3,), (2,)), strict=True)


def test_strict_without_an_unused_input_passes_and_non_strict_gives_zeros():
    xs = tuple(ag.tensor(a) for a in arrays((3,), (2,)))
    F.vjp(matmul_tanh, (ag.tensor(np.ones((2, 3))), ag.tensor(np.ones((3, 2)))), strict=True)
    _, (dx, dy) = F.vjp(unused_second, xs)
    assert dy.value.tolist() == [0.0, 0.0]
    _, (jx, jy) = F.jvp(lambda x, y: (x * 2, y.detach()), xs, v=arrays((3,), (2,)))
    assert jy.value.tolist() == [0.0, 0.0]


def test_strict_refuses_a_linear_function_in_hessian_and_in_a_recorded_jacobian():
    with pytest.raises(RuntimeError, match="hessian: strict=True.*gradient 0 constant"):
        F.hessian(lambda t: (t * 3).sum(), ag.tensor(np.ones(2)), strict=True)
    with pytest.raises(RuntimeError, match="jacobian: strict=True with create_graph=True.*result 0 constant"):
        F.jacobian(lambda t: t * 3, ag.tensor(np.ones(2)), create_graph=True, strict=True)


def test_strict_jvp_names_an_output_that_no_input_reaches():
    outside = leaf(2)  # requires grad, but is not one of the inputs
    with pytest.raises(
        RuntimeError, match="jvp: strict=True expects every output to depend on the inputs, got output 1"
    ):
        F.jvp(lambda x: (x * 2, outside * 2), ag.tensor(np.ones(3)), v=np.ones(3), strict=True)
    _, (_, zeros) = F.jvp(lambda x: (x * 2, outside * 2), ag.tensor(np.ones(3)), v=np.ones(3))
    assert zeros.value.tolist() == [0.0, 0.0]


def test_bad_v_and_bad_types_raise_clearly():
    x = ag.tensor(np.ones(3))
    with pytest.raises(RuntimeError, match=r"vjp: v may be omitted only for a single one-element output"):
        F.vjp(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match=r"jvp: expected v\[0\] to have the shape of input 0, \(3,\), got \(2,\)"):
        F.jvp(lambda t: t * 2, x, np.ones(2))
    with pytest.raises(RuntimeError, match=r"vjp: expected v to be a single tensor with one entry per output \(1\)"):
        F.vjp(lambda t: t * 2, x, (np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match="jacobian: expected inputs to be a TensorNode or ndarray .*got list"):
        F.jacobian(lambda t: t, [1.0, 2.0])
    with pytest.raises(
        RuntimeError, match=r"hessian: expected func to return a one-element TensorNode, got shape \(3,\)"
    ):
        F.hessian(lambda t: t * 2, x)
