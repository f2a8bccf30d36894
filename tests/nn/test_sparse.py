"""nn.Embedding: PyTorch's init (N(0, 1), a zero padding row), lookups and gradients against torch.nn.Embedding."""

import numpy as np
import pytest

import autograd as ag
import nn


def test_embedding_init_is_standard_normal_seeded_with_a_zero_padding_row():
    ag.manual_seed(0)
    table = nn.Embedding(2000, 64, padding_idx=-1)
    weight = table.weight.value
    assert weight.shape == (2000, 64) and weight.dtype == np.float32 and table.padding_idx == 1999
    assert not weight[1999].any()
    assert abs(weight[:-1].mean()) < 0.01 and abs(weight[:-1].std() - 1) < 0.01
    ag.manual_seed(0)
    np.testing.assert_array_equal(nn.Embedding(2000, 64, padding_idx=-1).weight.value, weight)


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_matches_torch_with_copied_weights(padding_idx):
    torch = pytest.importorskip("torch")
    reference = torch.nn.Embedding(6, 4, padding_idx=padding_idx, dtype=torch.float64)
    table = nn.Embedding(6, 4, padding_idx=padding_idx, dtype=np.float64)
    table.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    indices = np.array([[3, 0, 5], [5, 3, 2]])
    out, out_t = table(indices), reference(torch.as_tensor(indices))
    np.testing.assert_array_equal(out.value, out_t.detach().numpy())
    g = np.random.default_rng(0).normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.tensor(g))
    np.testing.assert_allclose(table.weight.grad, reference.weight.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Embedding(5, 2, padding_idx=5), r"Embedding: padding_idx must lie in \[-5, 5\), got 5"),
        (lambda: nn.Embedding(-1, 2), "Embedding: num_embeddings must be a non-negative int"),
        (lambda: nn.Embedding(5, 2)(np.array([0.0])), "embedding: indices must be integers"),
    ],
)
def test_embedding_errors_name_the_layer(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()
