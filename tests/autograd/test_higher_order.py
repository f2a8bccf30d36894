"""Gradients of gradients: ag.grad's semantics, higher orders, PyTorch as the oracle, and the refusals."""

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.op import Op


def leaf(*shape, seed=0):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_third_derivative_of_tanh_is_exact():
    x = leaf(5)
    (d1,) = ag.grad(ag.tanh(x).sum(), x, create_graph=True)
    (d2,) = ag.grad(d1.sum(), x, create_graph=True)
    (d3,) = ag.grad(d2.sum(), x)
    t = np.tanh(x.value)
    np.testing.assert_allclose(d1.value, 1 - t**2, rtol=1e-14)
    np.testing.assert_allclose(d2.value, -2 * t * (1 - t**2), rtol=1e-13)
    np.testing.assert_allclose(d3.value, (6 * t**2 - 2) * (1 - t**2), rtol=1e-12)
    assert not d3.requires_grad


def test_grad_leaves_dot_grad_alone_and_returns_one_tensor_per_input():
    x, w = leaf(3, 2), leaf(2, seed=1)
    x.grad = np.full((3, 2), 7.0)
    gx, gw = ag.grad((x @ w).sum(), [x, w])
    np.testing.assert_allclose(gx.value, np.broadcast_to(w.value, (3, 2)))
    np.testing.assert_allclose(gw.value, x.value.sum(0))
    assert x.grad.tolist() == np.full((3, 2), 7.0).tolist() and w.grad is None


def test_an_unused_input_is_an_error_naming_it_or_none_when_allowed():
    x, unused = leaf(3), leaf(2, seed=1)
    unused.name = "bias"
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(bias, shape \(2,\)\) is not used by the outputs"):
        ag.grad((x * x).sum(), [x, unused])
    gx, gu = ag.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert gu is None and np.allclose(gx.value, 2 * x.value)


def test_retain_graph_defaults_to_create_graph():
    x = leaf(3)
    y = (x * x).sum()
    ag.grad(y, x)
    with pytest.raises(RuntimeError, match="already released"):
        ag.grad(y, x)
    z = (x * x).sum()
    ag.grad(z, x, create_graph=True)
    ag.grad(z, x)  # still there


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = leaf(4)
    h = ag.tanh(x)
    (gh,) = ag.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.value, 2 * np.tanh(x.value))


def test_backward_with_create_graph_keeps_grad_an_array_and_the_graph():
    x = leaf(3)
    y = (x**3).sum()
    y.backward(create_graph=True)
    assert isinstance(x.grad, np.ndarray) and np.allclose(x.grad, 3 * x.value**2)
    (again,) = ag.grad(y, x)  # retained
    assert np.allclose(again.value, x.grad)


def _torch_hessian(torch, fn, x):
    return torch.autograd.functional.hessian(fn, torch.tensor(x)).numpy()


def test_hessian_of_a_small_function_is_symmetric_and_equal_to_torch():
    x = leaf(4)

    def f(t):
        return (t.sigmoid() * t.exp()).sum() + (t @ t) ** 2

    (g,) = ag.grad(f(x), x, create_graph=True)
    rows = [ag.grad(g[i], x, retain_graph=True)[0].value for i in range(4)]
    hessian = np.stack(rows)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")
    expected = _torch_hessian(torch, lambda t: (t.sigmoid() * t.exp()).sum() + (t @ t) ** 2, x.value)
    np.testing.assert_allclose(hessian, expected, rtol=1e-10, atol=1e-12)


def _mlp_and_data(seed=0):
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    for p in model.parameters():
        p.value = p.value.astype(np.float64)
    rng = np.random.default_rng(seed)
    return model, rng.standard_normal((6, 5)), np.array([0, 2, 1, 1, 0, 2]), rng


def _torch_mlp(torch, model):
    layers = [torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)]
    net = torch.nn.Sequential(*layers).double()
    net.load_state_dict({k: torch.tensor(np.array(p.value)) for k, p in model.named_parameters()})
    return net


def test_hessian_vector_product_of_an_mlp_cross_entropy_equals_torch():
    torch = pytest.importorskip("torch")
    model, X, y, rng = _mlp_and_data()
    params = list(model.parameters())
    vectors = [rng.standard_normal(p.shape) for p in params]
    grads = ag.grad(nn.functional.cross_entropy(model(X), y), params, create_graph=True)
    hvp = ag.grad(sum((g * v).sum() for g, v in zip(grads, vectors)), params)

    net = _torch_mlp(torch, model)
    t_params = list(net.parameters())
    t_grads = torch.autograd.grad(
        torch.nn.functional.cross_entropy(net(torch.tensor(X)), torch.tensor(y)), t_params, create_graph=True
    )
    t_hvp = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(t_grads, vectors)), t_params)
    for mine, theirs in zip(hvp, t_hvp):
        np.testing.assert_allclose(mine.value, theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_gradient_penalty_gradient_into_the_weights_equals_torch():
    torch = pytest.importorskip("torch")
    critic, X, _, _ = _mlp_and_data(seed=1)
    points = ag.tensor(X, requires_grad=True)
    (dx,) = ag.grad(critic(points).sum(), points, create_graph=True)
    penalty = ((ag.sqrt((dx * dx).sum(axis=1)) - 1) ** 2).mean()
    # The last bias does not move the input gradient, nor (through ReLU's piecewise-constant slope) the one before it.
    weights = ag.grad(penalty, list(critic.parameters()), allow_unused=True)

    net = _torch_mlp(torch, critic)
    t_points = torch.tensor(X, requires_grad=True)
    (t_dx,) = torch.autograd.grad(net(t_points).sum(), t_points, create_graph=True)
    t_penalty = ((t_dx.norm(dim=1) - 1) ** 2).mean()
    t_weights = torch.autograd.grad(t_penalty, list(net.parameters()), allow_unused=True)
    np.testing.assert_allclose(penalty.item(), t_penalty.item(), rtol=1e-12)
    assert weights[5] is None and t_weights[5] is None
    for mine, theirs in zip(weights[:5], t_weights[:5]):
        expected = theirs.numpy()
        np.testing.assert_allclose(np.zeros(expected.shape) if mine is None else mine.value, expected, atol=1e-12)


class _Square(Op):
    """y = x**2, the forward of the user ops below; each writes dx = 2 x g its own array-only way."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x


class ArrayOnlySquare(_Square):
    """dx = 2 x g, computed on the raw array (first order only)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (2 * np.asarray(x) * grad,)


class EinsumSquare(_Square):
    """dx = 2 x g through np.einsum, which TensorNodes do not support."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (2 * np.einsum("i,i->i", x, grad),)


@pytest.mark.parametrize("op", [ArrayOnlySquare, EinsumSquare])
def test_an_array_only_backward_works_once_and_refuses_a_second_time_by_name(op):
    x = leaf(3)
    (g,) = ag.grad(op.apply(x).sum(), x)
    np.testing.assert_allclose(g.value, 2 * x.value)
    assert ag.gradcheck(op.apply, [x])
    with pytest.raises(RuntimeError, match=f"{op.__name__}.backward cannot be differentiated again"):
        ag.grad(op.apply(x).sum(), x, create_graph=True)


def test_a_backward_that_reads_value_is_refused_for_a_second_derivative():
    class ValueSquare(_Square):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            plain = getattr(grad, "value", grad) * getattr(x, "value", x)
            return (2 * plain,)

    x = leaf(3)
    with pytest.raises(RuntimeError, match=r"ValueSquare.backward cannot be differentiated again: .*\.value of a"):
        ag.grad(ValueSquare.apply(x).sum(), x, create_graph=True)


def test_a_backward_that_builds_its_gradient_without_the_tensors_is_refused():
    class Twice(Op):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return (2 * np.ones_like(grad),)  # right only for a gradient of ones, and cut off from it

    x = leaf(3)
    with pytest.raises(RuntimeError, match="Twice.backward cannot be differentiated again: it returned an array"):
        ag.grad(Twice.apply(x).sum(), x, create_graph=True)


def test_a_python_number_read_off_a_tensor_in_backward_is_refused():
    class Scale(Op):
        """y = x * s;  dx = g * s, ds = sum(g * x), with s read as a Python float (first order only)."""

        @staticmethod
        def forward(ctx, x, s):
            ctx.save_for_backward(x, s)
            return x * s

        @staticmethod
        def backward(ctx, grad):
            x, s = ctx.saved
            return grad * float(s), (grad * x).sum()

    x, s = leaf(3), ag.tensor(np.array(3.0), requires_grad=True)
    (dx,) = ag.grad(Scale.apply(x, s).sum(), x)
    np.testing.assert_allclose(dx.value, 3.0)
    with pytest.raises(RuntimeError, match="Scale.backward cannot be differentiated again"):
        ag.grad(Scale.apply(x, s).sum(), [x, s], create_graph=True)


def test_a_saved_float_that_is_neither_input_nor_output_is_refused_not_frozen():
    class Sin(Op):
        """y = sin(x);  dx = g cos(x), with cos(x) computed in forward (first order only)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(np.cos(x))
            return np.sin(x)

        @staticmethod
        def backward(ctx, grad):
            (cos,) = ctx.saved
            return (grad * cos,)

    x = leaf(2)
    assert ag.gradcheck(Sin.apply, [x])
    with pytest.raises(RuntimeError, match="Sin.backward cannot be differentiated again: forward saved a float array"):
        ag.grad(Sin.apply(x).sum(), x, create_graph=True)


def test_a_leaf_given_a_new_value_after_forward_is_refused_under_create_graph():
    x = leaf(2)
    y = (x * x).sum()
    x.value = np.array([10.0, 20.0])
    with pytest.raises(RuntimeError, match="a leaf it saved was given a new value after forward"):
        ag.grad(y, x, create_graph=True)


def test_grad_runs_only_what_leads_to_its_inputs():
    x, w = leaf(3), leaf(3, seed=1)
    out = (ArrayOnlySquare.apply(w) * x).sum()  # w's branch is not on the way to x
    (dx,) = ag.grad(out, x, create_graph=True)
    np.testing.assert_allclose(dx.value, w.value**2)


def test_leaf_hooks_apply_in_grad_as_in_backward():
    x = leaf(2)
    x.register_hook(lambda g: g * 10)
    (gx,) = ag.grad((x * x).sum(), x)
    np.testing.assert_allclose(gx.value, 20 * x.value)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 20 * x.value)


def test_no_grad_as_a_decorator_restores_grad_mode_after_recursive_calls():
    @ag.no_grad()
    def recurse(n):
        assert not ag.is_grad_enabled()
        if n:
            recurse(n - 1)

    recurse(3)
    assert ag.is_grad_enabled()


@pytest.mark.parametrize("power, order", [(2, 3), (3, 4), (0, 1)])
def test_integer_powers_have_zero_higher_derivatives_at_zero(power, order):
    x = ag.tensor(np.array([0.0, 1.5]), requires_grad=True)
    y = (x**power).sum()
    for _ in range(order):
        (y,) = ag.grad(y, x, create_graph=True)
        y = y.sum()
    np.testing.assert_allclose(y.value, 0.0)


def test_detach_counts_in_place_edits_with_the_original():
    w = leaf(3)
    loss = (w * w).sum()
    w.detach().value += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_backward_with_create_graph_does_not_alias_the_seed():
    x = leaf(3)
    seed = np.ones(3)
    (x + 1).backward(seed, create_graph=True)
    assert x.grad is not seed and not np.shares_memory(x.grad, seed)


def test_hooks_and_retain_grad_see_the_gradient_of_an_intermediate():
    x = leaf(3)
    h = x * 2.0
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(np.array(g)))
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.value)
    np.testing.assert_allclose(seen[0], 2 * h.value)
    np.testing.assert_allclose(x.grad, 8 * x.value)


def test_the_recorded_backward_pass_is_drawn_like_any_graph():
    pytest.importorskip("graphviz")
    x = leaf(3)
    x.name = "x"
    (g,) = ag.grad(ag.tanh(x).sum(), x, create_graph=True)
    source = ag.viz.to_dot(g).source
    # d tanh = g * (1 - y*y): the backward's own Mul and Sub, and the forward's Tanh they read y from.
    for op in ("Tanh", "Mul", "Sub"):
        assert f'label="{op}' in source, op
    assert 'label="x' in source


def test_detect_anomaly_names_the_backward_a_recorded_op_ran_in():
    x = ag.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ag.detect_anomaly():
        y = ag.sqrt(x * 1.0).sum()
        with pytest.raises(RuntimeError, match=r"produced inf .* inside Sqrt.backward run with create_graph=True"):
            ag.grad(y, x, create_graph=True)


def test_an_edit_of_a_tensor_after_its_gradient_graph_was_recorded_is_refused_at_the_second_backward():
    """The gradient graph's ops save the very arrays of the first graph (`y`'s here), which the edit changed.

    nodegrad checks every array a node saved; PyTorch checks only those the requested gradient reads
    and gives [8, 8] here. Refusing is the safe side of that difference.
    """
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (g,) = ag.grad((y * y).sum(), x, create_graph=True)
    with ag.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="Mul saved for backward was modified in place"):
        ag.grad(g.sum(), x)
