"""Arithmetic: Add, Sub, Mul, Div, Neg, Pow (numpy broadcasting; the engine un-broadcasts grads)."""

import numpy as np

from autograd.op import Op, elementwise


class Add(Op):
    """y = a + b;  da = g, db = g."""

    @staticmethod
    def forward(ctx, a, b):
        return elementwise("add", np.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    """y = a - b;  da = g, db = -g."""

    @staticmethod
    def forward(ctx, a, b):
        return elementwise("sub", np.subtract, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Op):
    """y = a * b;  da = g * b, db = g * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return elementwise("mul", np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Op):
    """y = a / b;  da = g / b, db = -g * y / b."""

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype.kind in "biu" and b.dtype.kind in "biu":
            a = a.astype(np.float32)  # true division of integers gives PyTorch's default float, not float64
        y = elementwise("div", np.divide, a, b)
        ctx.save_for_backward(b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        b, y = ctx.saved
        da = grad / b
        return da, (-da * y if ctx.needs_input_grad[1] else None)


class Neg(Op):
    """y = -x;  dx = -g."""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return (-grad,)


class Pow(Op):
    """y = a ** b;  da = g * b * a ** (b - 1) (0 where b == 0), db = g * y * log(a) (0 where a == 0 <= b)."""

    @staticmethod
    def forward(ctx, a, b):
        y = elementwise("pow", np.power, a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        # b == 0: y is the constant 1, whose slope 0 * a ** -1 would be 0 * inf = nan at a == 0 (also
        # at every higher order of an integer power, where the exponents reach 0).
        constant = np.equal(b, 0)
        da = np.where(constant, 0, grad * b * np.power(a, np.where(constant, 1, b - 1))) if need_a else None
        db = None
        if need_b:
            # As PyTorch: 0 where a == 0 <= b (for b > 0 the limit of a ** b log a), with log(1) standing
            # in for log(0) so that no -inf reaches higher orders. Elsewhere the formula as it stands:
            # nan for a negative base (log of a negative number), -inf where 0 ** b is inf.
            zero_limit = np.equal(a, 0) & np.greater_equal(b, 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                db = grad * (y * np.log(np.where(zero_limit, 1, a)))
        return da, db


def add(a, b):
    """a + b with numpy broadcasting; Python numbers take the tensor's dtype.

    >>> add(1.0, 2.0).item()
    3.0
    """
    return Add.apply(a, b)


def sub(a, b):
    return Sub.apply(a, b)


def mul(a, b):
    return Mul.apply(a, b)


def div(a, b):
    return Div.apply(a, b)


def neg(x):
    return Neg.apply(x)


def pow(a, b):
    """a ** b; `b` may be a number or a tensor (then it gets a gradient too)."""
    return Pow.apply(a, b)
