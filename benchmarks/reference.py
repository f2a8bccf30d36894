"""Hand-written numpy forward/backward of the benchmark networks: the baseline the engine must match.

cs231n-style layers, each a forward that returns (out, cache) and a backward that returns the input
gradient and the parameter gradients. The baseline is meant to be honest and reasonably fast, not a
strawman: im2col is one copy of a sliding-window view and one GEMM, col2im is one strided add per
kernel offset, 2x2 max-pool works on four strided views, and layouts are kept so that no backward
pays for a transposing copy it can avoid. The im2col is the canonical one, columns ordered (channel,
ki, kj) as the weight is stored; a channels-last gather is about twice as fast and would raise the bar.
It knows nothing of the engine and imports only numpy.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache, need_dx=True):
    x, w = cache
    return (dout @ w.T if need_dx else None), x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, out):
    return dout * (out > 0)


def conv_forward(x, w, b, pad):
    """Stride-1 convolution of x (N, C, H, W) with w (F, C, KH, KW); the output is an NHWC-ordered view."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=x.dtype)
    xp[:, :, pad : pad + h, pad : pad + wd] = x
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    cols = sliding_window_view(xp, (kh, kw), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)
    out = cols @ w.reshape(f, -1).T + b
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2), (cols, w, x.shape, pad)


def conv_backward(dout, cache, need_dx=True):
    cols, w, x_shape, pad = cache
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    _, _, oh, ow = dout.shape
    dout_mat = dout.transpose(0, 2, 3, 1).reshape(-1, f)  # free when dout is NHWC-ordered, as here
    dw = (dout_mat.T @ cols).reshape(w.shape)
    db = dout_mat.sum(axis=0)
    if not need_dx:
        return None, dw, db
    dcols = (dout_mat @ w.reshape(f, -1)).reshape(n, oh, ow, c, kh, kw)
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=dout.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i : i + oh, j : j + ow] += dcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, pad : pad + h, pad : pad + wd], dw, db


def max_pool_forward(x):
    """2x2, stride-2 max-pool of x (N, C, H, W) with even H and W, over its four strided views."""
    corners = (x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])
    out = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
    return out, (x, out)


def max_pool_backward(dout, cache):
    # Every tied maximum gets the gradient. Here each pool reads a ReLU output, whose only ties are
    # zeros, where the ReLU's own gradient is zero: the parameter gradients match first-max routing.
    x, out = cache
    # Work in the memory order of x (the order the ReLU backward that follows reads): an upstream
    # gradient in another order is copied once, a quarter of x, instead of being read across strides.
    if dout.strides != out.strides:
        laid_out = np.empty_like(out)
        laid_out[...] = dout
        dout = laid_out
    dx = np.empty_like(x)
    for di in (0, 1):
        for dj in (0, 1):
            np.multiply(dout, x[:, :, di::2, dj::2] == out, out=dx[:, :, di::2, dj::2])
    return dx


def softmax_loss(logits, y):
    """Mean softmax cross-entropy and its gradient, from logits shifted by their row maximum."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(y)
    rows = np.arange(n)
    loss = -log_probs[rows, y].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1
    dlogits /= n
    return loss, dlogits


def mlp_loss_and_grads(p, x, y):
    """Loss and gradients of the MLP 784-512-256-10 with ReLU; `p` maps w1, b1, ..., b3 to arrays."""
    h1, c1 = affine_forward(x, p["w1"], p["b1"])
    a1, r1 = relu_forward(h1)
    h2, c2 = affine_forward(a1, p["w2"], p["b2"])
    a2, r2 = relu_forward(h2)
    logits, c3 = affine_forward(a2, p["w3"], p["b3"])
    loss, d = softmax_loss(logits, y)
    g = {}
    d, g["w3"], g["b3"] = affine_backward(d, c3)
    d, g["w2"], g["b2"] = affine_backward(relu_backward(d, r2), c2)
    _, g["w1"], g["b1"] = affine_backward(relu_backward(d, r1), c1, need_dx=False)
    return loss, g


def cnn_loss_and_grads(p, x, y):
    """Loss and gradients of conv3x3(32)-relu-pool-conv3x3(64)-relu-pool-fc(128)-relu-fc(10)."""
    h1, cc1 = conv_forward(x, p["conv1_w"], p["conv1_b"], pad=1)
    a1, r1 = relu_forward(h1)
    q1, pc1 = max_pool_forward(a1)
    h2, cc2 = conv_forward(q1, p["conv2_w"], p["conv2_b"], pad=1)
    a2, r2 = relu_forward(h2)
    q2, pc2 = max_pool_forward(a2)
    flat = q2.reshape(len(x), -1)
    h3, c3 = affine_forward(flat, p["fc1_w"], p["fc1_b"])
    a3, r3 = relu_forward(h3)
    logits, c4 = affine_forward(a3, p["fc2_w"], p["fc2_b"])
    loss, d = softmax_loss(logits, y)
    g = {}
    d, g["fc2_w"], g["fc2_b"] = affine_backward(d, c4)
    d, g["fc1_w"], g["fc1_b"] = affine_backward(relu_backward(d, r3), c3)
    d = max_pool_backward(d.reshape(q2.shape), pc2)
    d, g["conv2_w"], g["conv2_b"] = conv_backward(relu_backward(d, r2), cc2)
    d = max_pool_backward(d, pc1)
    _, g["conv1_w"], g["conv1_b"] = conv_backward(relu_backward(d, r1), cc1, need_dx=False)
    return loss, g


LOSS_AND_GRADS = {"mlp": mlp_loss_and_grads, "cnn": cnn_loss_and_grads}


def sgd_step(name, params, x, y, lr):
    """One training step of network `name` on (x, y): loss, gradients, then p -= lr * grad in place."""
    loss, grads = LOSS_AND_GRADS[name](params, x, y)
    for key, p in params.items():
        p -= lr * grads[key]
    return loss
