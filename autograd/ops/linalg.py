"""Linear algebra: MatMul with numpy's semantics (1-D, 2-D, batched with broadcasting)."""

import numpy as np

from autograd.op import Op

# inner_over_rows splits products with fewer output entries than TINY_OUTPUT into blocks of
# ROW_BLOCK rows, whose operands fit in L2 cache.
TINY_OUTPUT = 1024
ROW_BLOCK = 1024


def column_sums(rows: np.ndarray) -> np.ndarray:
    """rows.sum(axis=-2) as a GEMV with ones: several times faster than numpy's reduction down long columns."""
    return np.ones(rows.shape[-2], dtype=rows.dtype) @ rows


def inner_over_rows(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a^T @ b for (..., R, M) and (..., R, N): the products summed over a long axis R of rows."""
    rows = a.shape[-2]
    if a.shape[-1] * b.shape[-1] >= TINY_OUTPUT or rows < 4 * ROW_BLOCK:
        return np.matmul(np.swapaxes(a, -1, -2), b, out=out)
    # OpenBLAS runs a product with a tiny output and a long inner dimension at a third of its speed
    # (0.3.31, 2 threads); the same sum taken over row blocks that fit in cache runs at full speed.
    cut = rows - rows % ROW_BLOCK
    blocks = (cut // ROW_BLOCK, ROW_BLOCK)
    a_blocks = a[..., :cut, :].reshape(*a.shape[:-2], *blocks, a.shape[-1])
    b_blocks = b[..., :cut, :].reshape(*b.shape[:-2], *blocks, b.shape[-1])
    total = np.matmul(np.swapaxes(a_blocks, -1, -2), b_blocks).sum(axis=-3, out=out)
    if cut < rows:
        total += np.matmul(np.swapaxes(a[..., cut:, :], -1, -2), b[..., cut:, :])
    return total


def check_same_kind(where: str, x: np.ndarray, weight: np.ndarray) -> None:
    """Refuse an input of another kind of number than the weight (an int batch into a float layer), as PyTorch.

    numpy would promote int64 with float32 to float64: a silently slower layer with float64 gradients.
    """
    if x.dtype.kind != weight.dtype.kind:
        raise TypeError(
            f"{where}: input and weight must be the same kind of number, got dtypes {x.dtype} and {weight.dtype} "
            f"(cast the input, e.g. x.astype(np.{weight.dtype}))"
        )


class MatMul(Op):
    """y = a @ b;  da = g @ b^T, db = a^T @ g (1-D operands promoted as numpy does)."""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dim, got {a.shape} @ {b.shape}")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else -1]:
            raise ValueError(f"matmul: inner dimensions must match, got {a.shape} @ {b.shape}")
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul: batch dimensions do not broadcast, got {a.shape} @ {b.shape}") from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        # Promote 1-D operands to matrices, as numpy does in forward, then drop the added axis.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad[..., None] if b.ndim == 1 else grad
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        da = db = None
        if need_a:
            da = np.matmul(g2, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                da = da[..., 0, :]
        if need_b:
            db = np.matmul(np.swapaxes(a2, -1, -2), g2)
            if b.ndim == 1:
                db = db[..., 0]
        return da, db


def matmul(a, b):
    """Matrix product with numpy's rules.  Raises ValueError when inner dimensions differ."""
    return MatMul.apply(a, b)


class Linear(Op):
    """y = x @ w^T + b;  dx = g @ w, dw = g^T @ x, db = sum(g): fused, so no w^T or bias-add node."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input (..., in_features) and weight (out_features, in_features) must agree, "
                f"got {x.shape} and {weight.shape}"
            )
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
        check_same_kind("linear", x, weight)
        y = np.matmul(x, weight.T)
        if bias is not None:
            y += bias  # in place on the fresh product: one activation-sized array instead of two
        ctx.save_for_backward(x, weight)
        ctx.weight_order = "F" if np.isfortran(weight) else "C"
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = grad @ weight if need_x else None
        dw = LinearWeightGrad.call(x, grad, order=ctx.weight_order) if need_w else None
        db = column_sums(grad.reshape(-1, grad.shape[-1])) if need_b else None
        return dx, dw, db


class LinearWeightGrad(Op):
    """y = g^T x summed over the leading axes (linear's weight gradient);  dx = g @ gy, dg = x @ gy^T."""

    @staticmethod
    def forward(ctx, x, grad, *, order="C"):
        if x.ndim == 0 or grad.ndim == 0 or x.shape[:-1] != grad.shape[:-1]:
            raise ValueError(
                f"linear_weight_grad: x (..., in_features) and grad (..., out_features) must share their leading "
                f"shape, got {x.shape} and {grad.shape}"
            )
        ctx.save_for_backward(x, grad)
        rows = x.reshape(-1, x.shape[-1])
        grad_rows = grad.reshape(-1, grad.shape[-1])
        # x^T g into the transpose of a gradient laid out like the weight: for nn.Linear's weight,
        # stored as (in, out) (order "F"), that is OpenBLAS's faster orientation (784 x 512 from 128
        # rows: 0.55 ms, against 0.85 ms for g^T x into (out, in)), and the update reads both in step.
        dw = np.empty((grad_rows.shape[1], rows.shape[1]), dtype=np.result_type(grad, x), order=order)
        inner_over_rows(rows, grad_rows, out=dw.T)
        return dw

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved
        need_x, need_g = ctx.needs_input_grad
        return (g @ grad if need_x else None), (x @ grad.T if need_g else None)


def linear(x, weight, bias=None):
    """x @ weight.T + bias with weight shaped (out_features, in_features), as PyTorch's linear.

    >>> linear(np.ones((1, 2)), np.array([[1.0, 2.0]]), np.array([0.5])).value.tolist()
    [[3.5]]
    """
    return Linear.apply(x, weight, bias)
