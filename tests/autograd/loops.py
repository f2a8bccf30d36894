"""Direct-loop references for convolution and pooling: slow, obviously right, used only by tests."""

import numpy as np


def _pad(x, padding, fill=0.0):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_loop(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    xp = _pad(x, _pair(padding))
    n, c, hp, wp = xp.shape
    f, c_group, kh, kw = weight.shape
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, f, oh, ow), dtype=x.dtype)
    f_group = f // groups
    for b in range(n):
        for o in range(f):
            g = o // f_group
            for i in range(oh):
                for j in range(ow):
                    patch = xp[
                        b,
                        g * c_group : (g + 1) * c_group,
                        i * sh : i * sh + dh * kh : dh,
                        j * sw : j * sw + dw * kw : dw,
                    ]
                    out[b, o, i, j] = (patch * weight[o]).sum() + (0 if bias is None else bias[o])
    return out


def pool2d_loop(x, kernel_size, stride=None, padding=0, reduce=np.max, fill=-np.inf):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride) if stride is not None else (kh, kw)
    xp = _pad(x, _pair(padding), fill)
    n, c, hp, wp = xp.shape
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    out = np.zeros((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(2, 3))
    return out


def adjoint(linear, in_shape, g):
    """The adjoint of the linear map `linear` applied to g: <linear(e_p), g> for each basis vector e_p."""
    out = np.zeros(in_shape)
    for p in np.ndindex(*in_shape):
        e = np.zeros(in_shape)
        e[p] = 1.0
        out[p] = (linear(e) * g).sum()
    return out


def gather_loop(x, winner, kernel_size, stride=None, padding=0):
    """x at the offset `winner` (i * KW + j) of each pooling window, zero padding."""
    kh, kw = _pair(kernel_size)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    xp = _pad(x, _pair(padding))
    out = np.zeros(winner.shape)
    for n, c, i, j in np.ndindex(*winner.shape):
        di, dj = divmod(int(winner[n, c, i, j]), kw)
        out[n, c, i, j] = xp[n, c, i * sh + di, j * sw + dj]
    return out
