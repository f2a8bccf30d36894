"""MultiheadAttention as PyTorch's: the query, key and value projected into heads, attended, and projected back.

The attention itself is `nn.functional.attention`, which `scaled_dot_product_attention` uses too. Note the masks'
opposite conventions, both PyTorch's: here a bool `attn_mask` or `key_padding_mask` is True where attention is
NOT allowed, while scaled_dot_product_attention's bool mask is True where it is.
"""

import numpy as np

import autograd as ag
from autograd import TensorNode
from autograd.op import as_int
from nn import functional as F
from nn import init
from nn.linear import Linear
from nn.module import Module, Parameter


def _as_tensor(x) -> TensorNode:
    return x if isinstance(x, TensorNode) else ag.tensor(x)


def _allowed(where: str, name: str, mask, shape: tuple):
    """A mask in scaled_dot_product_attention's convention (bool True = attend), reshaped to `shape`."""
    if mask is None:
        return None
    array = mask.value if isinstance(mask, TensorNode) else np.asarray(mask)
    if array.size != int(np.prod(shape)):
        raise ValueError(
            f"MultiheadAttention: {name} must have {int(np.prod(shape))} entries for {where}, got shape {array.shape}"
        )
    if array.dtype == bool:
        return ~array.reshape(shape)
    return ag.reshape(mask, shape) if isinstance(mask, TensorNode) else array.reshape(shape)


class MultiheadAttention(Module):
    """Attention over `num_heads` heads of embed_dim / num_heads features each, with PyTorch's parameters.

    `in_proj_weight` (3 E, E) stacks the query, key and value projections and `in_proj_bias` (3 E,) their
    biases; with `kdim` or `vdim` features in key or value, `q_proj_weight` (E, E), `k_proj_weight` (E, kdim)
    and `v_proj_weight` (E, vdim) replace in_proj_weight. `out_proj` is a Linear(E, E). Initialized as
    PyTorch: xavier_uniform_ projections, zero biases.

    forward(query, key, value) takes (L, N, E), (S, N, E), (S, N, E) inputs, or batch first (N, L, E) with
    batch_first=True, or unbatched (L, E); it returns (output shaped like query, weights), the weights
    (N, L, S) averaged over heads, (N, num_heads, L, S) with average_attn_weights=False, or None when
    need_weights=False. Dropout acts on the weights in training mode.

    add_bias_kv appends the learned `bias_k` and `bias_v` (1, 1, E) to every key and value sequence, and
    add_zero_attn a zero key and value to every head, both open to every query. A query row whose keys are
    all masked out gets zeros, where PyTorch's need_weights path gives NaN.

    >>> mha = MultiheadAttention(8, 2, batch_first=True)
    >>> x = np.ones((3, 5, 8), np.float32)
    >>> out, weights = mha(x, x, x); out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype=np.float32,
    ):
        super().__init__()
        where = "MultiheadAttention"
        embed_dim = as_int(where, "embed_dim", embed_dim, 1)
        num_heads = as_int(where, "num_heads", num_heads, 1)
        if embed_dim % num_heads:
            raise ValueError(f"{where}: embed_dim ({embed_dim}) must be divisible by num_heads, got {num_heads}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{where}: dropout must lie in [0, 1], got {dropout!r}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else as_int(where, "kdim", kdim, 1)
        self.vdim = embed_dim if vdim is None else as_int(where, "vdim", vdim, 1)
        self.dropout, self.batch_first = dropout, batch_first
        # As PyTorch: one stacked (3 E, E) projection when key and value have embed_dim features, else three.
        self._qkv_same_embed_dim = self.kdim == self.vdim == embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        else:
            for name, features in (("q", embed_dim), ("k", self.kdim), ("v", self.vdim)):
                self.register_parameter(f"{name}_proj_weight", Parameter(np.empty((embed_dim, features), dtype=dtype)))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter(np.empty(3 * embed_dim, dtype=dtype)) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        for name in ("bias_k", "bias_v"):
            self.register_parameter(name, Parameter(np.empty((1, 1, embed_dim), dtype=dtype)) if add_bias_kv else None)
        self.add_zero_attn = add_zero_attn
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _heads(self, x: TensorNode, part: int, extra: TensorNode | None = None) -> TensorNode:
        """Project (N, T, features) with the part-th third of in_proj, append `extra` (1, 1, E) to every
        sequence when given (add_bias_kv), and split into heads (N, H, T, E / H), zeros appended with add_zero_attn.
        """
        rows = slice(part * self.embed_dim, (part + 1) * self.embed_dim)
        if self._qkv_same_embed_dim:
            weight = ag.getitem(self.in_proj_weight, rows)
        else:
            weight = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[part]
        bias = None if self.in_proj_bias is None else ag.getitem(self.in_proj_bias, rows)
        y = F.linear(x, weight, bias)
        if extra is not None:
            y = ag.concat([y, ag.expand(extra, (y.shape[0], 1, self.embed_dim))], axis=1)
        n, t = y.shape[:2]
        y = ag.swapaxes(ag.reshape(y, (n, t, self.num_heads, self.head_dim)), 1, 2)
        if part and self.add_zero_attn:
            y = ag.pad(y, ((0, 0), (0, 0), (0, 1), (0, 0)))
        return y

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple:
        """(attention output, weights or None); see the class docstring for shapes.

        Args:
            key_padding_mask: (N, S) or (S,) unbatched; bool True ignores that key, a float mask is added.
            attn_mask: (L, S) or (N * num_heads, L, S); bool True forbids, a float mask is added.
            is_causal: a hint that attn_mask is the causal mask, as in PyTorch (which needs the mask given).
        """
        where = "MultiheadAttention"
        query, key, value = (_as_tensor(x) for x in (query, key, value))
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim:
            raise ValueError(
                f"{where}: query must be (L, N, {self.embed_dim}), (N, L, {self.embed_dim}) with batch_first "
                f"or (L, {self.embed_dim}), got shape {query.shape}"
            )
        if key.ndim != query.ndim or value.ndim != query.ndim or key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"{where}: key and value must be shaped alike, got {key.shape} and {value.shape}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(
                f"{where}: key and value must have kdim={self.kdim} and vdim={self.vdim} features, "
                f"got shapes {key.shape} and {value.shape}"
            )
        if is_causal and attn_mask is None:
            raise RuntimeError(f"{where}: is_causal is a hint that attn_mask is causal; give the mask too")
        batched = query.ndim == 3
        if not batched:
            query, key, value = (ag.unsqueeze(x, 0) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (ag.swapaxes(x, 0, 1) for x in (query, key, value))
        n, length, source = query.shape[0], query.shape[1], key.shape[1]
        if key.shape[0] != n:
            raise ValueError(f"{where}: query and key must have the same batch size, got {n} and {key.shape[0]}")
        heads = self.num_heads
        mask_shape = (n, heads, length, source) if np.ndim(_value(attn_mask)) == 3 else (length, source)
        masks = [
            m
            for m in (
                _allowed(f"query length {length} and key length {source}", "attn_mask", attn_mask, mask_shape),
                _allowed(f"batch {n} and key length {source}", "key_padding_mask", key_padding_mask, (n, 1, 1, source)),
            )
            if m is not None
        ]
        # The keys that add_bias_kv and add_zero_attn append are open to every query.
        extra = (self.bias_k is not None) + self.add_zero_attn
        masks = [_open_columns(mask, extra) for mask in masks] if extra else masks
        dropout = self.dropout if self.training else 0.0
        q, k, v = self._heads(query, 0), self._heads(key, 1, self.bias_k), self._heads(value, 2, self.bias_v)
        out, weights = F.attention(q, k, v, masks, dropout)
        out = self.out_proj(ag.reshape(ag.swapaxes(out, 1, 2), (n, length, self.embed_dim)))
        if not batched:
            out = ag.squeeze(out, 0)
        elif not self.batch_first:
            out = ag.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = ag.mean(weights, axis=1)
        return out, (ag.squeeze(weights, 0) if not batched else weights)


def _open_columns(mask, extra: int):
    """`mask` with `extra` more keys along its last axis, open to every query (True, or 0 added)."""
    widths = ((0, 0),) * (np.ndim(_value(mask)) - 1) + ((0, extra),)
    if isinstance(mask, TensorNode):
        return ag.pad(mask, widths)
    return np.pad(mask, widths, constant_values=mask.dtype == bool)


def _value(x):
    return x.value if isinstance(x, TensorNode) else x
