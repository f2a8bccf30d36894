"""The numerical kernels behind the ops' speed: column sums as a GEMV, weight-gradient products over
row blocks, and convolution on sizes large enough to take those paths (the op specs' gradient checks
use small inputs that never do)."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import autograd as ag
from autograd.ops import conv
from autograd.ops.linalg import ROW_BLOCK, column_sums, inner_over_rows


@pytest.mark.parametrize("shape", [(7, 3), (2, 5000, 4), (1, 1)])
def test_column_sums_equal_numpy_sums(shape):
    rows = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_allclose(column_sums(rows), rows.sum(axis=-2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((5 * ROW_BLOCK, 3), (5 * ROW_BLOCK, 7)),  # blocks only
        ((4 * ROW_BLOCK + 37, 2), (4 * ROW_BLOCK + 37, 10)),  # blocks and a remainder
        ((2, 6 * ROW_BLOCK + 1, 4), (2, 6 * ROW_BLOCK + 1, 5)),  # a leading batch axis
        ((100, 3), (100, 7)),  # too few rows to split
        ((5 * ROW_BLOCK, 64), (5 * ROW_BLOCK, 64)),  # an output large enough for one GEMM
    ],
)
def test_inner_over_rows_equals_the_plain_product(a_shape, b_shape):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    np.testing.assert_allclose(inner_over_rows(a, b), np.swapaxes(a, -1, -2) @ b, rtol=1e-10)


@pytest.mark.parametrize("rows", [5 * ROW_BLOCK + 9, 100])  # blocked, one GEMM
def test_inner_over_rows_writes_into_a_transposed_out(rows):
    """Linear's weight gradient lands in the transpose of an array laid out like the weight."""
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((rows, 3)), rng.standard_normal((rows, 5))
    out = np.empty((5, 3)).T
    assert inner_over_rows(a, b, out=out) is out
    np.testing.assert_allclose(out, a.T @ b, rtol=1e-10)


def test_inner_over_rows_reads_strided_operands():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 5 * ROW_BLOCK + 9)).T  # column-major, as conv2d's few-channel matrix
    b = rng.standard_normal((5 * ROW_BLOCK + 9, 8))[:, ::2]
    np.testing.assert_allclose(inner_over_rows(a, b), a.T @ b, rtol=1e-10)


def _conv_gradients_reference(x, w, g, padding):
    """dL/dw and dL/db of L = sum(g * conv2d(x, w, b)) by einsum over every window, in float64."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(xp, w.shape[2:], axis=(2, 3))  # (N, C, OH, OW, KH, KW)
    return np.einsum("nfij,ncijkl->fckl", g, windows), g.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("channels", [1, 5])  # column-major and row-major GEMM matrices
def test_conv2d_gradients_on_many_pixels(channels):
    """Enough output pixels (> 4 row blocks) for the weight gradient's blocked product."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, channels, 40, 41))
    w = ag.tensor(rng.standard_normal((2, channels, 3, 3)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(2), requires_grad=True)
    y = ag.conv2d(ag.tensor(x), w, b, padding=1)
    g = rng.standard_normal(y.shape)
    assert y.shape[0] * y.shape[2] * y.shape[3] > 4 * ROW_BLOCK
    (y * ag.tensor(g)).sum().backward()
    dw, db = _conv_gradients_reference(x, w.value, g, padding=1)
    np.testing.assert_allclose(w.grad, dw, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.grad, db, rtol=1e-9, atol=1e-9)


def test_conv2d_bias_gradient_without_weight_gradient():
    """The bias gradient comes from the weight gradient's product; alone it is a column sum."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6))
    w = ag.tensor(rng.standard_normal((4, 3, 3, 3)))
    b = ag.tensor(rng.standard_normal(4), requires_grad=True)
    y = ag.conv2d(ag.tensor(x), w, b)
    g = rng.standard_normal(y.shape)
    (y * ag.tensor(g)).sum().backward()
    assert w.grad is None
    np.testing.assert_allclose(b.grad, g.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_in_chunks_of_images_equals_one_chunk(monkeypatch):
    """With room for one image's matrix at a time, forward and gradients are those of the whole batch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 6, 7, 7))
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)

    def run():
        xt, wt, bt = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
        y = ag.conv2d(xt, wt, bt, padding=1, groups=2)
        (y * y).sum().backward()
        return y.value, xt.grad, wt.grad, bt.grad

    whole = run()
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)
    assert len(conv._chunks(5, 49, 8)) == 5
    for chunked, expected in zip(run(), whole):
        np.testing.assert_allclose(chunked, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_and_max_pool2d_on_an_empty_batch():
    x = ag.tensor(np.ones((0, 2, 5, 5), np.float32), requires_grad=True)
    w = ag.tensor(np.ones((3, 2, 3, 3), np.float32), requires_grad=True)
    b = ag.tensor(np.ones(3, np.float32), requires_grad=True)
    y = ag.max_pool2d(ag.conv2d(x, w, b, padding=1), 2)
    assert y.shape == (0, 3, 2, 2)
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert w.grad.dtype == np.float32 and not w.grad.any() and not b.grad.any()


def test_conv2d_promotes_mixed_dtypes_as_matmul_does():
    x = ag.tensor(np.ones((1, 8, 5, 5), np.float32), requires_grad=True)
    w = ag.tensor(np.ones((3, 8, 3, 3)), requires_grad=True)
    y = ag.conv2d(x, w, padding=1)
    assert y.dtype == np.float64 == (x.value[0, :, 0, 0] @ w.value[:, :, 0, 0].T).dtype
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64


def test_conv2d_with_a_frozen_weight_saves_no_padded_input():
    x = ag.tensor(np.ones((2, 3, 5, 5)), requires_grad=True)
    y = ag.conv2d(x, ag.tensor(np.ones((4, 3, 3, 3))), padding=1)
    saved_input, _ = y.source.ctx.saved
    assert saved_input is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad[0, 0, 2, 2], 4 * 9)  # every window of 9 taps, 4 filters, weight 1
