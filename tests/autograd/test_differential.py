"""Differential test against PyTorch, driven by hypothesis, for every op of the table that has a torch oracle
(all registered ops but Dropout, whose masks come from another generator, and the gradient ops of GetItem and
MaxPool2d, which PyTorch does not expose).

Where test_ops.py checks each op on a few fixed cases, this draws the cases: random shapes for element-wise
ops (0-d and empty included), broadcasting shape pairs for binary ops, random axes and keepdims for
reductions, the table's own shapes elsewhere; float32 and float64; C-ordered, transposed (Fortran-ordered)
or strided inputs; values spread over the op's domain or pushed to its edges (its bounds, zero, ties).
Forward values, the output's dtype, gradients and their dtypes must agree with PyTorch's, and where
PyTorch refuses an input (a max over an empty axis) or warns about it (a variance of one value with
Bessel's correction), nodegrad must refuse it.

In CI the examples are few and derandomized (profile "ci"); a longer randomized search runs by hand:

    NODEGRAD_DIFFERENTIAL=long python -m pytest tests/autograd/test_differential.py
"""

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from tests.autograd.op_specs import BINARY_SHAPES, REDUCE_PARAMS, SPECS, UNARY_SHAPES

torch = pytest.importorskip("torch", reason="the differential test needs PyTorch: pip install torch==2.13.0")

QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=15, derandomize=True, deadline=None, suppress_health_check=QUIET)
settings.register_profile("long", max_examples=400, deadline=None, suppress_health_check=QUIET)
PROFILE = settings.get_profile(os.environ.get("NODEGRAD_DIFFERENTIAL", "ci"))

ORACLES = [spec for spec in SPECS if spec.torch_fn is not None]
# The reduction specs name their axis and keepdims parameters in their richest case.
AXIS_NAME, KEEPDIMS_NAME = (name for name in REDUCE_PARAMS[2])
TOLERANCE = {np.float32: (2e-4, 2e-5), np.float64: (1e-9, 1e-11)}  # (rtol, atol relative to the largest value)


def kind(spec) -> str:
    if spec.shapes == UNARY_SHAPES:
        return "elementwise"
    if spec.shapes == BINARY_SHAPES:
        return "broadcast"
    if spec.params[: len(REDUCE_PARAMS)] == REDUCE_PARAMS:
        return "reduction"
    return "table"


@st.composite
def cases(draw, spec):
    """(shapes, params) for one call of the spec's op."""
    shape_kind = kind(spec)
    if shape_kind == "elementwise":
        shapes = (draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)),)
        return shapes, draw(st.sampled_from(spec.params))
    if shape_kind == "broadcast":
        pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3))
        return pair.input_shapes, draw(st.sampled_from(spec.params))
    if shape_kind == "reduction":
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
        axis = draw(
            st.none()
            | st.integers(-len(shape), len(shape) - 1)
            | st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple)
        )
        extra = {k: v for k, v in draw(st.sampled_from(spec.params)).items() if k not in (AXIS_NAME, KEEPDIMS_NAME)}
        return (shape,), {**extra, AXIS_NAME: axis, KEEPDIMS_NAME: draw(st.booleans())}
    return draw(st.sampled_from(spec.shapes)), draw(st.sampled_from(spec.params))


def values(spec, shape, dtype, seed: int, edges: bool) -> np.ndarray:
    """Uniform over [low, high]; with `edges`, about a third of the entries moved to the domain's edges."""
    rng = np.random.default_rng(seed)
    array = np.asarray(rng.uniform(spec.low, spec.high, shape))
    if edges and array.size:
        candidates = [spec.low, spec.high, np.nextafter(spec.high, spec.low)]
        candidates += [0.0] if spec.low < 0 < spec.high else []
        candidates += [array.flat[0]]  # a tie with another entry
        chosen = rng.random(shape) < 0.35
        array[chosen] = rng.choice(candidates, int(chosen.sum()))
    return np.asarray(array, dtype)


def laid_out(array: np.ndarray, layout: str) -> np.ndarray:
    """The same values in memory that is transposed (Fortran order) or strided (every other element)."""
    if layout == "fortran" and array.ndim >= 2:
        return np.asfortranarray(array)
    if layout == "strided" and array.ndim:
        wide = np.repeat(array, 2, axis=-1)
        return wide[..., ::2]
    return array


def assert_close(ours, theirs, dtype, what: str) -> None:
    rtol, atol = TOLERANCE[dtype]
    scale = 1.0 + (np.nanmax(np.abs(theirs)) if theirs.size and np.isfinite(theirs).any() else 0.0)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol * scale, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("spec", ORACLES, ids=[spec.op.__name__ for spec in ORACLES])
@PROFILE
@given(
    data=st.data(),
    dtype=st.sampled_from([np.float32, np.float64]),
    layout=st.sampled_from(["c", "fortran", "strided"]),
    seed=st.integers(0, 2**16),
    edges=st.booleans(),
)
def test_agrees_with_pytorch(spec, data, dtype, layout, seed, edges):
    shapes, params = data.draw(cases(spec))
    # Float parameters (class weights) in the inputs' dtype, as a PyTorch user's tensors would be.
    params = {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v for k, v in params.items()}
    arrays = [values(spec, shape, dtype, seed + i, edges) for i, shape in enumerate(shapes)]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            theirs = spec.torch_fn(torch, *theirs_in, **params)
        except (RuntimeError, IndexError, ValueError):
            theirs = None
    # What PyTorch only warns about (a variance of one value) we refuse, unless its result is empty anyway.
    if theirs is None or (warned and theirs.numel() > 0):
        with pytest.raises((RuntimeError, IndexError, ValueError)):
            spec.fn(*[ag.tensor(laid_out(a, layout), requires_grad=True) for a in arrays], **params)
        return
    ours_in = [ag.TensorNode(laid_out(a.copy(), layout), requires_grad=True) for a in arrays]
    ours = spec.fn(*ours_in, **params)
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), f"{spec.op.__name__} output dtype"
    assert_close(ours.value, theirs.detach().numpy(), dtype, f"{spec.op.__name__} forward {shapes} {params}")

    projection = np.random.default_rng(seed).standard_normal(ours.shape).astype(ours.dtype)
    ours.backward(projection)
    theirs.backward(torch.from_numpy(projection))
    for i, (mine, their) in enumerate(zip(ours_in, theirs_in)):
        expected = np.zeros(mine.shape, dtype) if their.grad is None else their.grad.numpy()
        got = np.zeros(mine.shape, dtype) if mine.grad is None else mine.grad
        assert got.dtype == expected.dtype, f"{spec.op.__name__} gradient {i} dtype"
        assert_close(got, expected, dtype, f"{spec.op.__name__} gradient {i} {shapes} {params}")
