"""Elementwise math: Exp, Log, Sqrt, Abs, trigonometric and hyperbolic functions, Log1p, Expm1, Erf, Erfc,
Clip, Maximum, Minimum, Where, Cast.

numpy has no error function: `erf_erfc` evaluates W. J. Cody's rational approximations (Math. Comp. 23,
1969; netlib SPECFUN's CALERF), accurate to a few units in the last place of float64.
"""

import math

import numpy as np

from autograd.op import Op, as_int, elementwise, promote


class Exp(Op):
    """y = exp(x);  dx = g * y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad * y,)


class Log(Op):
    """y = log(x);  dx = g / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        return (grad / x,)


class Sqrt(Op):
    """y = sqrt(x);  dx = g / (2 y)."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return (grad / (2 * y),)


class Abs(Op):
    """y = |x|;  dx = g * sign(x) (0 at 0 and at NaN, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved
        # numpy's sign of NaN is NaN, PyTorch's (whose gradient this matches) is 0.
        return (grad * np.where(np.isnan(x), 0, np.sign(x)),)


class _OfInput(Op):
    """Shared by the elementwise ops whose derivative is a function of the input: y = f(x);  dx = g * f'(x).

    A subclass names f and f' (`function`, `derivative`); f' must work on TensorNodes too (numpy's
    functions that numpy_api maps, or ops), for gradients of gradients.
    """

    function = derivative = None

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return cls.function(x)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved
        return (grad * cls.derivative(x),)


class Sin(_OfInput):
    """y = sin(x);  dx = g * cos(x)."""

    function, derivative = staticmethod(np.sin), staticmethod(np.cos)


class Cos(_OfInput):
    """y = cos(x);  dx = -g * sin(x)."""

    function, derivative = staticmethod(np.cos), staticmethod(lambda x: -np.sin(x))


class _OfOutput(Op):
    """Shared by the elementwise ops whose derivative is a function of the output: y = f(x);  dx = g * h(y)."""

    function = derivative = None

    @classmethod
    def forward(cls, ctx, x):
        y = cls.function(x)
        ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, grad):
        (y,) = ctx.saved
        return (grad * cls.derivative(y),)


class Tan(_OfOutput):
    """y = tan(x);  dx = g * (1 + y**2)."""

    function, derivative = staticmethod(np.tan), staticmethod(lambda y: 1 + y * y)


class Sinh(_OfInput):
    """y = sinh(x);  dx = g * cosh(x)."""

    function, derivative = staticmethod(np.sinh), staticmethod(np.cosh)


class Cosh(_OfInput):
    """y = cosh(x);  dx = g * sinh(x)."""

    function, derivative = staticmethod(np.cosh), staticmethod(np.sinh)


class Log1p(_OfInput):
    """y = log(1 + x), exact for small x;  dx = g / (1 + x)."""

    function, derivative = staticmethod(np.log1p), staticmethod(lambda x: 1 / (1 + x))


class Expm1(_OfOutput):
    """y = exp(x) - 1, exact for small x;  dx = g * (y + 1)."""

    function, derivative = staticmethod(np.expm1), staticmethod(lambda y: y + 1)


# W. J. Cody's coefficients: erf(x) = x A(x^2) / B(x^2) for |x| <= 0.46875, erfc(x) = exp(-x^2) C(x) / D(x)
# up to 4, and exp(-x^2) (1/sqrt(pi) - P(1/x^2) / (x^2 Q(1/x^2))) / x beyond.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_A_TOP = 1.85777706184603153e-1
_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_C_TOP = 2.15311535474403846e-8
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2)
_P_LAST, _Q_LAST, _P_TOP = 6.58749161529837803e-4, 2.33520497626869185e-3, 1.63153871373020978e-2
_INV_SQRT_PI = 1 / math.sqrt(math.pi)


def _rational(top, numerator, denominator, z):
    """(top z^n + numerator[0] z^(n-1) + ... + numerator[-1]) / (z^n + denominator[0] z^(n-1) + ...), Horner."""
    num, den = top * z, z
    for a, b in zip(numerator[:-1], denominator[:-1]):
        num, den = (num + a) * z, (den + b) * z
    return (num + numerator[-1]) / (den + denominator[-1])


def erf_erfc(x: np.ndarray) -> tuple:
    """(erf(x), erfc(x)) in float64, to ~1e-16 relative (erfc too, down to its underflow near x = 26.5).

    >>> [round(v.item(), 12) for v in erf_erfc(np.array(0.5))]
    [0.520499877813, 0.479500122187]
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.abs(x)
    small = y <= 0.46875
    z = np.where(small, y * y, 0.0)
    erf_small = x * _rational(_A_TOP, _A, _B, z)
    # Beyond 0.46875, erfc(|x|) = exp(-y^2) R(y); capped at 30, where it is 0 anyway (inf would give inf - inf).
    big = np.where(small, 1.0, np.minimum(y, 30.0))
    inv = 1 / (big * big)
    tail = (_INV_SQRT_PI - inv * _rational(_P_TOP, (*_P, _P_LAST), (*_Q, _Q_LAST), inv)) / big
    ratio = np.where(big <= 4, _rational(_C_TOP, _C, _D, big), tail)
    # exp(-y^2) as exp(-r^2) exp(-(y - r)(y + r)) with r = y rounded to 1/16: r^2 is exact, and the
    # rounding error of y * y, which exp would amplify y^2 times, is avoided.
    rounded = np.trunc(big * 16) / 16
    erfc_abs = np.exp(-rounded * rounded) * np.exp(-(big - rounded) * (big + rounded)) * ratio
    negative = x < 0
    erf = np.where(small, erf_small, np.where(negative, erfc_abs - 1, 1 - erfc_abs))
    erfc = np.where(small, 1 - erf_small, np.where(negative, 2 - erfc_abs, erfc_abs))
    return erf, erfc


def _erf_slope(x):
    """d erf(x) / dx."""
    return (2 * _INV_SQRT_PI) * np.exp(-x * x)


class Erf(_OfInput):
    """y = erf(x);  dx = g * 2 / sqrt(pi) * exp(-x^2)."""

    function = staticmethod(lambda x: erf_erfc(x)[0].astype(x.dtype, copy=False))
    derivative = staticmethod(_erf_slope)


class Erfc(_OfInput):
    """y = erfc(x) = 1 - erf(x), without cancellation for large x;  dx = -g * 2 / sqrt(pi) * exp(-x^2)."""

    function = staticmethod(lambda x: erf_erfc(x)[1].astype(x.dtype, copy=False))
    derivative = staticmethod(lambda x: -_erf_slope(x))


class Clip(Op):
    """y = min(max(x, a_min), a_max);  dx = g where a_min <= x <= a_max, else 0."""

    @staticmethod
    def forward(ctx, x, *, a_min=None, a_max=None):
        if a_min is None and a_max is None:
            raise ValueError("clip: at least one of a_min and a_max must be given, got neither")
        inside = np.ones(x.shape, dtype=bool)
        if a_min is not None:
            inside &= x >= a_min
        if a_max is not None:
            inside &= x <= a_max
        ctx.save_for_backward(inside)
        return np.clip(x, a_min, a_max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved
        return (grad * inside,)


class _Choose(Op):
    """Shared by Maximum and Minimum: the chosen input gets the gradient, ties split it, and both
    inputs get all of it where the output is NaN (as PyTorch)."""

    @staticmethod
    def _keep_shares(ctx, y, a_wins, tied):
        """The inputs' shares of the gradient: piecewise constant, so ctx attributes, not differentiated."""
        # Only the share of `a` is kept (one array instead of both inputs); `b` gets the rest...
        ctx.share_a, ctx.share_b = np.where(tied, 0.5, a_wins).astype(y.dtype, copy=False), None
        nan = np.isnan(y)
        if nan.any():
            # ...except at a NaN (from a, b or both), where neither input is smaller and both get it.
            ctx.share_b = np.where(nan, 1, 1 - ctx.share_a).astype(y.dtype, copy=False)
            ctx.share_a[nan] = 1

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share_a, grad * (1 - ctx.share_a if ctx.share_b is None else ctx.share_b)


class Maximum(_Choose):
    """y = max(a, b);  da = g where a > b, db = g where b > a, half each on ties."""

    @staticmethod
    def forward(ctx, a, b):
        y = elementwise("maximum", np.maximum, a, b)
        _Choose._keep_shares(ctx, y, a > b, a == b)
        return y


class Minimum(_Choose):
    """y = min(a, b);  da = g where a < b, db = g where b < a, half each on ties."""

    @staticmethod
    def forward(ctx, a, b):
        y = elementwise("minimum", np.minimum, a, b)
        _Choose._keep_shares(ctx, y, a < b, a == b)
        return y


class Where(Op):
    """y = a where condition else b;  da = g where condition, db = g elsewhere (condition gets none)."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        try:
            return np.where(condition, *promote(a, b))
        except ValueError:
            raise ValueError(
                f"where: condition {np.shape(condition)}, a {np.shape(a)} and b {np.shape(b)} do not broadcast"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved
        _, need_a, need_b = ctx.needs_input_grad
        return (
            None,
            (np.where(condition, grad, 0) if need_a else None),
            (np.where(condition, 0, grad) if need_b else None),
        )


class Cast(Op):
    """y = x converted to dtype;  dx = g converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, *, dtype, order="K"):
        ctx.dtype = x.dtype
        return x.astype(dtype, order=order)

    @staticmethod
    def backward(ctx, grad):
        return (grad.astype(ctx.dtype),)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):
    return Abs.apply(x)


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def tan(input):
    return Tan.apply(input)


def sinh(input):
    return Sinh.apply(input)


def cosh(input):
    return Cosh.apply(input)


def log1p(input):
    """log(1 + input), accurate where input is small."""
    return Log1p.apply(input)


def expm1(input):
    """exp(input) - 1, accurate where input is small."""
    return Expm1.apply(input)


def erf(input):
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt (computed in float64)."""
    return Erf.apply(input)


def erfc(input):
    """1 - erf(input), accurate where erf(input) is close to 1."""
    return Erfc.apply(input)


def clip(x, a_min=None, a_max=None):
    """Limit `x` to [a_min, a_max]; either bound may be None, a number or a tensor (which then gets the
    gradient where it is the result: a composition of maximum and minimum, as torch.clamp)."""
    bounds = [b for b in (a_min, a_max) if b is not None]
    if any(not isinstance(b, (int, float, np.number)) for b in bounds):
        low = x if a_min is None else maximum(x, a_min)
        return low if a_max is None else minimum(low, a_max)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind in "biu" and any(isinstance(b, (float, np.floating)) for b in bounds):
        x = cast(x, np.float32)  # an int tensor clamped to float bounds is float32, as in PyTorch
    return Clip.apply(x, a_min=a_min, a_max=a_max)


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def where(condition, input, other):
    """`input` where `condition` holds, else `other` (broadcast together), as torch.where; no gradient to condition."""
    return Where.apply(condition, input, other)


def cast(x, dtype, order: str = "K"):
    """A copy of `x` as `dtype` (numpy's astype; order="C" lays it out row-major); a float result keeps the
    gradient path."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"cast: dtype must be a numpy dtype or its name, got {dtype!r}") from None
    return Cast.apply(x, dtype=dtype, order=order)


def masked_fill(input, mask, value):
    """`input` with `value` where the boolean `mask` (broadcast to input's shape) holds, as torch.masked_fill.

    A composition: where(mask, value, input), so `value` may be a tensor that gets a gradient.

    >>> masked_fill(np.array([1.0, 2.0]), np.array([True, False]), 0.0).value.tolist()
    [0.0, 2.0]
    """
    mask = np.asarray(mask.value if hasattr(mask, "_version") else mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    shape = np.shape(input)
    try:
        fits = np.broadcast_shapes(mask.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: mask must broadcast to the input's shape {shape}, got {mask.shape}")
    return Where.apply(mask, value, input)


def _triangle(where: str, input, keep) -> np.ndarray:
    shape = np.shape(input)
    if len(shape) < 2:
        raise ValueError(f"{where}: input must have at least 2 dims, got shape {shape}")
    return Where.apply(keep(*shape[-2:]), input, 0)


def tril(input, diagonal: int = 0):
    """The lower triangle of the last two dims (on and below the `diagonal`-th diagonal), zeros above, as torch.tril.

    >>> tril(np.ones((2, 2))).value.tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    diagonal = as_int("tril", "diagonal", diagonal)
    return _triangle("tril", input, lambda rows, cols: np.tri(rows, cols, diagonal, dtype=bool))


def triu(input, diagonal: int = 0):
    """The upper triangle of the last two dims (on and above the `diagonal`-th diagonal), zeros below, as torch.triu.

    >>> triu(np.ones((2, 2))).value.tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    diagonal = as_int("triu", "diagonal", diagonal)
    return _triangle("triu", input, lambda rows, cols: ~np.tri(rows, cols, diagonal - 1, dtype=bool))
