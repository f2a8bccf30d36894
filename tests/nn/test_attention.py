"""scaled_dot_product_attention and MultiheadAttention: forward and gradients against PyTorch, masks, errors."""

import numpy as np
import pytest

import autograd as ag
import nn

F = nn.functional
INSTALL = "needs PyTorch as the oracle: pip install torch==2.13.0 (pinned)"


def _torch():
    return pytest.importorskip("torch", reason=INSTALL)


def _inputs(*shapes, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for shape in shapes]


def _bool_mask(shape, seed: int = 1) -> np.ndarray:
    mask = np.random.default_rng(seed).uniform(size=shape) > 0.4
    mask[..., 1, :] = False  # a query with no key left: zeros, not NaN
    return mask


SDPA_CASES = {
    "plain": (((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), {}),
    "bool-mask": (((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), dict(attn_mask=_bool_mask((4, 6)))),
    "bool-mask-per-head": (((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), dict(attn_mask=_bool_mask((3, 4, 6)))),
    "float-mask": (
        ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
        dict(attn_mask=np.random.default_rng(2).normal(size=(2, 1, 4, 6))),
    ),
    "causal-longer-keys": (((3, 4, 5), (3, 6, 5), (3, 6, 2)), dict(is_causal=True)),
    "causal-shorter-keys-scaled": (((3, 5, 4), (3, 3, 4), (3, 3, 2)), dict(is_causal=True, scale=0.3)),
    "gqa": (((2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5)), dict(enable_gqa=True)),
    "unbatched": (((4, 5), (6, 5), (6, 3)), {}),
}


@pytest.mark.parametrize("name", SDPA_CASES)
def test_sdpa_forward_and_gradients_match_torch(name):
    torch = _torch()
    shapes, options = SDPA_CASES[name]
    arrays = _inputs(*shapes)
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch_options = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    y = F.scaled_dot_product_attention(*ours, **options)
    y_t = torch.nn.functional.scaled_dot_product_attention(*theirs, **torch_options)
    np.testing.assert_allclose(y.value, y_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad = np.random.default_rng(3).normal(size=y.shape)
    y.backward(grad)
    y_t.backward(torch.tensor(grad))
    for x, x_t in zip(ours, theirs, strict=True):
        assert np.isfinite(x.grad).all()
        np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sdpa_gradients_match_finite_differences_through_a_masked_row():
    q, k, v = (ag.tensor(a, requires_grad=True) for a in _inputs((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    mask = _bool_mask((4, 5))
    assert ag.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), [q, k, v])


def test_sdpa_keeps_float32_and_drops_weights_with_dropout():
    q, k, v = (a.astype(np.float32) for a in _inputs((2, 4, 3), (2, 5, 3), (2, 5, 3)))
    assert F.scaled_dot_product_attention(q, k, v, attn_mask=_bool_mask((4, 5))).dtype == np.float32
    assert F.scaled_dot_product_attention(q, k, v, attn_mask=np.zeros((4, 5))).dtype == np.float32
    mha = nn.MultiheadAttention(3, 1, batch_first=True)
    out, weights = mha(q, k, v, attn_mask=np.zeros((4, 5)), key_padding_mask=np.zeros((2, 5)))
    assert out.dtype == weights.dtype == np.float32
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).value.any()
    ag.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).value
    ag.manual_seed(0)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).value, dropped)
    assert not np.allclose(dropped, F.scaled_dot_product_attention(q, k, v).value)


def test_sdpa_errors():
    q = np.zeros((2, 4, 3, 5))
    with pytest.raises(ValueError, match="give attn_mask or is_causal=True, not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"query heads \(4\) divisible by key heads \(3\)"):
        F.scaled_dot_product_attention(q, np.zeros((2, 3, 3, 5)), np.zeros((2, 3, 3, 5)), enable_gqa=True)


# name -> (constructor options, (query, key, value) shapes, forward options)
E, H = 6, 2
MHA_CASES = {
    "self-seq-first": (dict(), [(4, 3, E)] * 3, dict()),
    "cross-batch-first": (dict(batch_first=True), [(3, 4, E), (3, 5, E), (3, 5, E)], dict()),
    "unbatched": (dict(), [(4, E), (5, E), (5, E)], dict(average_attn_weights=False)),
    "no-bias-per-head-weights": (dict(bias=False), [(4, 2, E), (5, 2, E), (5, 2, E)], dict(average_attn_weights=False)),
    "causal-bool-mask": (
        dict(batch_first=True),
        [(2, 4, E)] * 3,
        dict(attn_mask=~np.tril(np.ones((4, 4), bool)), is_causal=True),
    ),
    "float-mask-per-head-and-padding": (
        dict(),
        [(4, 2, E), (5, 2, E), (5, 2, E)],
        dict(
            attn_mask=np.random.default_rng(4).normal(size=(2 * H, 4, 5)),
            key_padding_mask=np.where([[False, False, True, False, True], [False] * 5], -np.inf, 0.0),
        ),
    ),
    "kdim-vdim-batch-first": (dict(kdim=3, vdim=5, batch_first=True), [(2, 4, E), (2, 5, 3), (2, 5, 5)], dict()),
    "vdim-no-bias-unbatched": (dict(vdim=4, bias=False), [(3, E), (5, E), (5, 4)], dict()),
    "bias-kv-zero-attn-masked": (
        dict(add_bias_kv=True, add_zero_attn=True),
        [(4, 2, E), (5, 2, E), (5, 2, E)],
        dict(
            attn_mask=~np.tril(np.ones((4, 5), bool)),
            key_padding_mask=np.array([[False, False, True, False, True], [False] * 5]),
            average_attn_weights=False,
        ),
    ),
    "bias-kv-float-mask-batch-first": (
        dict(add_bias_kv=True, batch_first=True, kdim=4),
        [(2, 3, E), (2, 5, 4), (2, 5, E)],
        dict(attn_mask=np.random.default_rng(6).normal(size=(3, 5))),
    ),
    "zero-attn-unbatched": (dict(add_zero_attn=True), [(3, E), (4, E), (4, E)], dict()),
    "bool-padding-no-weights": (
        dict(batch_first=True),
        [(2, 3, E), (2, 5, E), (2, 5, E)],
        dict(
            key_padding_mask=np.array([[False, True, False, False, True], [True, False, False, False, False]]),
            need_weights=False,
        ),
    ),
}


@pytest.mark.parametrize("name", MHA_CASES)
def test_multihead_attention_matches_torch_with_copied_weights(name):
    torch = _torch()
    options, shapes, forward_options = MHA_CASES[name]
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **options)
    module = nn.MultiheadAttention(E, H, dtype=np.float64, **options)
    module.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert [n for n, _ in module.named_parameters()] == [n for n, _ in reference.named_parameters()]
    arrays = _inputs(*shapes)
    ours = [ag.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    torch_options = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in forward_options.items()}
    out, weights = module(*ours, **forward_options)
    out_t, weights_t = reference(*theirs, **torch_options)
    np.testing.assert_allclose(out.value, out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    if weights_t is None:
        assert weights is None
    else:
        np.testing.assert_allclose(weights.value, weights_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad = np.random.default_rng(5).normal(size=out.shape)
    out.backward(grad)
    out_t.backward(torch.tensor(grad))
    for x, x_t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    torch_params = dict(reference.named_parameters())
    for param_name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad, torch_params[param_name].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_multihead_attention_init_follows_torch():
    torch = _torch()
    module, reference = nn.MultiheadAttention(64, 4), torch.nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ over the stacked (3 E, E) matrix
    assert np.abs(module.in_proj_weight.value).max() <= bound
    assert np.abs(reference.in_proj_weight.detach().numpy()).max() <= bound
    assert not module.in_proj_bias.value.any() and not module.out_proj.bias.value.any()
    assert module.in_proj_weight.dtype == np.float32
    assert {k: v.shape for k, v in module.state_dict().items()} == {
        k: tuple(v.shape) for k, v in reference.state_dict().items()
    }


def test_multihead_attention_dropout_acts_in_training_only():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True, dtype=np.float64)
    x = _inputs((2, 3, 4))[0]
    ag.manual_seed(0)
    _, trained = mha(x, x, x, average_attn_weights=False)
    assert (trained.value == 0).any()
    _, evaluated = mha.eval()(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(evaluated.value.sum(-1), 1.0)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: nn.MultiheadAttention(6, 4), ValueError, r"embed_dim \(6\) must be divisible by num_heads, got 4"),
        (
            lambda: nn.MultiheadAttention(4, 2, kdim=3)(np.zeros((3, 1, 4)), *[np.zeros((2, 1, 4))] * 2),
            ValueError,
            "key and value must have kdim=3 and vdim=4 features",
        ),
        (
            lambda: nn.MultiheadAttention(4, 2)(*[np.zeros((3, 1, 4))] * 3, is_causal=True),
            RuntimeError,
            "give the mask",
        ),
        (lambda: nn.MultiheadAttention(4, 2)(*[np.zeros((3, 1, 5))] * 3), ValueError, r"query must be \(L, N, 4\)"),
        (
            lambda: nn.MultiheadAttention(4, 2)(np.zeros((3, 2, 4)), *[np.zeros((3, 1, 4))] * 2),
            ValueError,
            "the same batch size, got 2 and 1",
        ),
        (
            lambda: nn.MultiheadAttention(4, 2)(*[np.zeros((3, 1, 4))] * 3, attn_mask=np.zeros((2, 3), bool)),
            ValueError,
            "attn_mask must have 9 entries",
        ),
    ],
)
def test_multihead_attention_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()
