"""Property-based tests (hypothesis): random shapes, axes, indices and conv/pool settings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from tests.autograd.loops import conv2d_loop, pool2d_loop

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
BINARY = {
    "add": (ag.add, np.add),
    "sub": (ag.sub, np.subtract),
    "mul": (ag.mul, np.multiply),
    "div": (ag.div, np.divide),
    "maximum": (ag.maximum, np.maximum),
    "minimum": (ag.minimum, np.minimum),
    "pow": (ag.pow, np.power),
}


def _leaf(shape, seed, low=0.5, high=2.0):
    return ag.tensor(np.random.default_rng(seed).uniform(low, high, shape), requires_grad=True)


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_binary_ops_broadcast_like_numpy(name, shapes):
    fn, reference = BINARY[name]
    a, b = _leaf(shapes.input_shapes[0], 0), _leaf(shapes.input_shapes[1], 1)
    out = fn(a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.value, reference(a.value, b.value))
    assert ag.gradcheck(fn, [a, b])


@st.composite
def _shape_and_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    axis = draw(
        st.none()
        | st.integers(-len(shape), len(shape) - 1)
        | st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True).map(tuple)
    )
    return shape, axis, draw(st.booleans())


REDUCTIONS = {
    "sum": (ag.sum, np.sum),
    "mean": (ag.mean, np.mean),
    "max": (ag.amax, np.max),
    "min": (ag.amin, np.min),
    "var": (lambda x, **kw: ag.var(x, correction=0, **kw), np.var),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(case=_shape_and_axes())
def test_reductions_follow_numpy(name, case):
    shape, axis, keepdims = case
    fn, reference = REDUCTIONS[name]
    x = _leaf(shape, 2, low=-1.0, high=1.0)
    out = fn(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.value, reference(x.value, axis=axis, keepdims=keepdims), atol=1e-12)
    assert ag.gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), [x])


@SETTINGS
@given(data=st.data())
def test_basic_indexing(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = _leaf(shape, 3)
    out = x[index]
    np.testing.assert_array_equal(out.value, x.value[index])
    if out.numel():
        assert ag.gradcheck(lambda t: t[index], [x])


@SETTINGS
@given(data=st.data())
def test_integer_array_indexing_accumulates_repeats(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis_len = shape[0]
    picks = np.array(data.draw(st.lists(st.integers(-axis_len, axis_len - 1), min_size=1, max_size=6)))
    x = _leaf(shape, 4)
    out = x[picks]
    np.testing.assert_array_equal(out.value, x.value[picks])
    out.backward(np.ones(out.shape))
    counts = np.bincount(picks % axis_len, minlength=axis_len).reshape((-1,) + (1,) * (len(shape) - 1))
    np.testing.assert_array_equal(x.grad, np.broadcast_to(counts, shape))


@st.composite
def _conv_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    c = groups * draw(st.integers(1, 2))
    f = groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    h = draw(st.integers(max(1, spans[0] - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, spans[1] - 2 * padding[1]), 7))
    return (
        (2, c, h, w),
        (f, c // groups, *kernel),
        dict(stride=stride, padding=padding, dilation=dilation, groups=groups),
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=_conv_case())
def test_conv2d_matches_a_direct_loop(case):
    x_shape, w_shape, params = case
    x, w, b = _leaf(x_shape, 5, -1, 1), _leaf(w_shape, 6, -1, 1), _leaf(w_shape[0], 7, -1, 1)
    out = ag.conv2d(x, w, b, **params)
    np.testing.assert_allclose(out.value, conv2d_loop(x.value, w.value, b.value, **params), atol=1e-12)
    assert ag.gradcheck(lambda *ts: ag.conv2d(*ts, **params), [x, w, b])
    torch = _optional_torch()
    if torch is not None:
        tx, tw, tb = (torch.tensor(t.value, requires_grad=True) for t in (x, w, b))
        projection = np.random.default_rng(8).standard_normal(out.shape)
        torch.nn.functional.conv2d(tx, tw, tb, **params).backward(torch.tensor(projection))
        for t in (x, w, b):
            t.grad = None
        out = ag.conv2d(x, w, b, **params)
        out.backward(projection)
        for mine, theirs in ((x, tx), (w, tw), (b, tb)):
            np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), atol=1e-10)


@st.composite
def _pool_case(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    h = draw(st.integers(max(1, kernel[0] - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, kernel[1] - 2 * padding[1]), 7))
    return (2, 2, h, w), dict(kernel_size=kernel, stride=stride, padding=padding)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=_pool_case(), kind=st.sampled_from(["max", "avg"]))
def test_pooling_matches_a_direct_loop(case, kind):
    shape, params = case
    fn, reduce, fill = {"max": (ag.max_pool2d, np.max, -np.inf), "avg": (ag.avg_pool2d, np.mean, 0.0)}[kind]
    x = _leaf(shape, 9, -1, 1)
    out = fn(x, **params)
    np.testing.assert_allclose(out.value, pool2d_loop(x.value, reduce=reduce, fill=fill, **params), atol=1e-12)
    assert ag.gradcheck(lambda t: fn(t, **params), [x])
    torch = _optional_torch()
    if torch is not None:
        tx = torch.tensor(x.value, requires_grad=True)
        torch_fn = {"max": torch.nn.functional.max_pool2d, "avg": torch.nn.functional.avg_pool2d}[kind]
        projection = np.random.default_rng(10).standard_normal(out.shape)
        torch_fn(tx, **params).backward(torch.tensor(projection))
        x.grad = None
        fn(x, **params).backward(projection)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-12)


def test_max_pool_gives_tied_gradient_to_the_first_maximum_like_pytorch():
    x = ag.tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)  # all ties, as on MNIST's blank borders
    ag.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0
    np.testing.assert_array_equal(x.grad[0, 0], expected)
    torch = _optional_torch()
    if torch is not None:
        tx = torch.zeros((1, 1, 4, 4), dtype=torch.float64, requires_grad=True)
        torch.nn.functional.max_pool2d(tx, 2).sum().backward()
        np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def _optional_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch
