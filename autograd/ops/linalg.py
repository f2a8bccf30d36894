"""Linear algebra: MatMul with numpy's semantics (1-D, 2-D, batched with broadcasting)."""

import numpy as np

from autograd.op import Op


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
