"""Generated op tests: every registered op, from the table in op_specs.py.

For every case: the gradient and the second derivative pass float64 finite-difference checks, the
forward pass matches its numpy reference, float32 stays float32 through forward and backward, and,
where PyTorch is installed, forward values, gradients and second derivatives match PyTorch's.
"""

import numpy as np
import pytest

import autograd as ag
from tests.autograd.op_specs import SPECS

CASES = [pytest.param(spec, shapes, params, id=case_id) for spec in SPECS for case_id, shapes, params in spec.cases()]


def _inputs(spec, shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [ag.tensor(rng.uniform(spec.low, spec.high, s).astype(dtype), requires_grad=True) for s in shapes]


def test_every_registered_op_has_a_spec():
    builtin = {op for op in ag.OP_REGISTRY.values() if op.__module__.startswith("autograd.ops.")}
    missing = builtin - {spec.op for spec in SPECS}
    assert not missing, f"add an OpSpec for {sorted(op.__name__ for op in missing)}"


@pytest.mark.parametrize("spec, shapes, params", CASES)
def test_gradient_matches_finite_differences(spec, shapes, params):
    inputs = _inputs(spec, shapes)
    assert ag.gradcheck(lambda *xs: spec.fn(*xs, **params), inputs)


@pytest.mark.parametrize("spec, shapes, params", CASES)
def test_forward_matches_numpy(spec, shapes, params):
    inputs = _inputs(spec, shapes)
    out = spec.fn(*inputs, **params)
    expected = spec.ref(*[t.value.copy() for t in inputs], **params)
    np.testing.assert_allclose(out.value, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec, shapes, params", CASES)
def test_float32_stays_float32(spec, shapes, params):
    inputs = _inputs(spec, shapes, dtype=np.float32)
    out = spec.fn(*inputs, **params)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for t in inputs:
        assert t.grad is not None and t.grad.dtype == np.float32 and t.grad.shape == t.shape


@pytest.mark.parametrize("spec, shapes, params", [c for c in CASES if c.values[0].torch_fn is not None])
def test_matches_pytorch(spec, shapes, params):
    torch = pytest.importorskip("torch")
    inputs = _inputs(spec, shapes)
    out = spec.fn(*inputs, **params)
    projection = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(projection)

    torch_inputs = [torch.tensor(t.value, requires_grad=True) for t in inputs]
    torch_out = spec.torch_fn(torch, *torch_inputs, **params)
    torch_out.backward(torch.tensor(projection))

    np.testing.assert_allclose(out.value, torch_out.detach().numpy(), rtol=1e-9, atol=1e-12)
    for t, tt in zip(inputs, torch_inputs):
        expected = np.zeros(t.shape) if tt.grad is None else tt.grad.numpy()
        np.testing.assert_allclose(t.grad, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("spec, shapes, params", CASES)
def test_second_derivative_matches_finite_differences(spec, shapes, params):
    inputs = _inputs(spec, shapes)
    assert ag.gradgradcheck(lambda *xs: spec.fn(*xs, **params), inputs)


def _second_order(grad, out, inputs, projection, directions):
    """d/d(inputs) of sum_i <d(out . projection)/d(input_i), direction_i>: one framework's Hessian-vector products."""
    firsts = grad(out, inputs, projection, create_graph=True, allow_unused=True)
    total = sum((g * d).sum() for g, d in zip(firsts, directions) if g is not None and g.requires_grad)
    if isinstance(total, int):
        return [None] * len(inputs)  # every first derivative is constant: nothing to differentiate
    return grad(total, inputs, allow_unused=True)


@pytest.mark.parametrize(
    "spec, shapes, params", [c for c in CASES if c.values[0].torch_fn is not None and c.values[0].torch_second_order]
)
def test_second_derivative_matches_pytorch(spec, shapes, params):
    torch = pytest.importorskip("torch")
    inputs = _inputs(spec, shapes)
    out = spec.fn(*inputs, **params)
    rng = np.random.default_rng(2)
    projection = rng.standard_normal(out.shape)
    directions = [rng.standard_normal(t.shape) for t in inputs]
    ours = _second_order(ag.grad, out, inputs, projection, directions)

    torch_inputs = [torch.tensor(t.value, requires_grad=True) for t in inputs]
    torch_out = spec.torch_fn(torch, *torch_inputs, **params)
    theirs = _second_order(
        torch.autograd.grad, torch_out, torch_inputs, torch.tensor(projection), [torch.tensor(d) for d in directions]
    )
    for t, mine, expected in zip(inputs, ours, theirs):
        expected = np.zeros(t.shape) if expected is None else expected.detach().numpy(force=True)
        np.testing.assert_allclose(np.zeros(t.shape) if mine is None else mine.value, expected, rtol=1e-9, atol=1e-12)
