"""Lookup layers: Embedding, a table of vectors read by integer indices (as torch.nn.sparse)."""

import numpy as np

from autograd import TensorNode
from autograd.op import normalize_axis
from nn import functional as F
from nn import init
from nn.module import Module, Parameter, check_sizes


class Embedding(Module):
    """Rows of weight (num_embeddings, embedding_dim) at integer indices; init N(0, 1), as PyTorch.

    The row padding_idx starts at zeros and gets no gradient (a negative index counts from the end).

    >>> table = Embedding(10, 3, padding_idx=0)
    >>> table, table(np.array([[0, 4]])).shape, table.weight.value[0].tolist()
    (Embedding(10, 3, padding_idx=0), (1, 2, 3), [0.0, 0.0, 0.0])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=np.float32):
        super().__init__()
        check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            padding_idx = normalize_axis("Embedding", padding_idx, num_embeddings, "padding_idx")
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.value[self.padding_idx] = 0

    def forward(self, input) -> TensorNode:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
