"""Indexing by integer tensors: Gather and ScatterAdd (each the other's gradient), Embedding and its
gradient EmbeddingGrad, and one_hot (an integer result: a function, not an op, since nothing flows back).

The scatters add with np.bincount (and sorted runs), not np.add.at: 1.2 to 2.7 times faster, see `scatter_rows`.
"""

import builtins

import numpy as np

from autograd.op import Op, normalize_axis
from autograd.ops.reduce import ValuesIndices
from autograd.tensor import TensorNode


def _check_indices(where: str, name: str, index: np.ndarray, size: int) -> None:
    """`index` holds integers in [0, size), or a TypeError / ValueError naming `where`."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name} must hold integers, got dtype {index.dtype}")
    bad = np.flatnonzero((index < 0) | (index >= size))
    if bad.size:
        raise ValueError(f"{where}: {name} values must lie in [0, {size}), got {index.ravel()[bad[0]]}")


def _positions(where: str, shape: tuple, index: np.ndarray, dim: int) -> np.ndarray:
    """Flat positions in an array of `shape` of the elements that `index` picks along `dim`.

    As in torch.gather: index has as many dims as the array, and no larger a size along the other dims;
    element i of the result comes from position i of the array with its `dim` coordinate replaced by index[i].
    """
    if index.ndim != len(shape):
        raise ValueError(f"{where}: index must have {len(shape)} dims like the input {shape}, got shape {index.shape}")
    if any(k > n for d, (k, n) in enumerate(zip(index.shape, shape)) if d != dim):
        raise ValueError(
            f"{where}: index {index.shape} must not be larger than the input {shape} except along dim {dim}"
        )
    _check_indices(where, "index", index, shape[dim] if shape else 1)
    coordinates = list(np.indices(index.shape, sparse=True))
    coordinates[dim] = index
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    return sum(c * int(s) for c, s in zip(coordinates, strides)) if shape else np.zeros((), np.int64)


def _scatter_flat(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """The sums of `values` at each of `size` flat positions (float64 sums for floats: np.bincount's)."""
    if values.dtype.kind == "f":
        return np.bincount(positions.ravel(), values.ravel(), minlength=size).astype(values.dtype, copy=False)
    out = np.zeros(size, values.dtype)
    np.add.at(out, positions.ravel(), values.ravel())
    return out


class Gather(Op):
    """y[i] = x[i with its dim coordinate replaced by index[i]];  dx = scatter_add of g at the same places."""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        dim = normalize_axis("gather", dim, x.ndim, "dim")
        positions = _positions("gather", x.shape, index, dim)
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return x.reshape(-1)[positions]

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved
        return ScatterAdd.call(np.zeros(ctx.shape, grad.dtype), index, grad, dim=ctx.dim), None


class ScatterAdd(Op):
    """y = x plus src[i] at element i with its dim coordinate replaced by index[i];  dx = g, dsrc = gather(g)."""

    @staticmethod
    def forward(ctx, x, index, src, *, dim):
        dim = normalize_axis("scatter_add", dim, x.ndim, "dim")
        if src.shape != index.shape:
            raise ValueError(f"scatter_add: src must have the shape of index {index.shape}, got {src.shape}")
        positions = _positions("scatter_add", x.shape, index, dim)
        ctx.save_for_backward(index)
        ctx.dim = dim
        return x + _scatter_flat(positions, src, x.size).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved
        need_x, _, need_src = ctx.needs_input_grad
        return (grad if need_x else None), None, (Gather.call(grad, index, dim=ctx.dim) if need_src else None)


def scatter_rows(rows: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """out[r] = sum of values[i] over i with rows[i] == r, for r in range(count): values (n, d), rows (n,).

    Two kernels, whichever is faster (float32, median of 5 warm runs on 2 shared cores): with repeated
    rows (count <= n: a character vocabulary) one np.bincount per column, which also sums in float64:
    22 ms for n = 16384 rows of 384 into 65, where np.add.at takes 61 ms; with a vocabulary larger than
    the batch, sorting the rows and np.add.reduceat over each run: 64 ms for n = 8192 rows of 768 into
    50257, np.add.at 76 ms (zeroing the 154 MB output is most of both).
    """
    if count <= len(rows) and values.dtype.kind == "f":
        out = np.empty((count, values.shape[1]), values.dtype)
        for j in range(values.shape[1]):
            out[:, j] = np.bincount(rows, values[:, j], minlength=count)
        return out
    out = np.zeros((count, values.shape[1]), values.dtype)
    if len(rows):
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        out[ordered[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


class Embedding(Op):
    """y = weight[indices] (rows);  dweight = g summed into the rows it came from, none into padding_idx."""

    @staticmethod
    def forward(ctx, indices, weight, *, padding_idx=None):
        if weight.ndim != 2:
            raise ValueError(f"embedding: weight must have 2 dims (num_embeddings, embedding_dim), got {weight.shape}")
        _check_indices("embedding", "input", indices, weight.shape[0])
        ctx.save_for_backward(indices)
        ctx.count, ctx.padding_idx = weight.shape[0], padding_idx
        return np.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved
        return None, EmbeddingGrad.call(grad, indices, num_embeddings=ctx.count, padding_idx=ctx.padding_idx)


class EmbeddingGrad(Op):
    """dweight[r] = sum of g where indices == r (0 for padding_idx);  dg = gy[indices], 0 at padding_idx."""

    @staticmethod
    def forward(ctx, grad, indices, *, num_embeddings, padding_idx=None):
        ctx.save_for_backward(indices)
        ctx.padding_idx = padding_idx
        rows, values = indices.reshape(-1), grad.reshape(-1, grad.shape[-1])
        if padding_idx is not None:
            keep = rows != padding_idx
            rows, values = rows[keep], values[keep]
        return scatter_rows(rows, values, num_embeddings)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved
        rows = Embedding.call(indices, grad)
        if ctx.padding_idx is not None:
            rows = rows * (indices != ctx.padding_idx)[..., None]
        return rows, None


def _index_array(where: str, index) -> np.ndarray:
    """An index argument (an integer tensor, array or list) as an ndarray."""
    array = np.asarray(index.value if isinstance(index, TensorNode) else index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{where}: indices must be integers, got dtype {array.dtype}")
    return array


def gather(input, dim: int, index):
    """Values of `input` along `dim` at `index`, as torch.gather: out[i][j] = input[index[i][j]][j] for dim=0.

    >>> gather(np.array([[1.0, 2.0], [3.0, 4.0]]), 1, np.array([[1], [0]])).value.tolist()
    [[2.0], [3.0]]
    """
    return Gather.apply(input, _index_array("gather", index), dim=dim)


def scatter_add(input, dim: int, index, src):
    """`input` plus `src` at the places `index` names along `dim`, as torch.scatter_add (src has index's shape)."""
    return ScatterAdd.apply(input, _index_array("scatter_add", index), src, dim=dim)


def embedding(input, weight, padding_idx: int | None = None):
    """Rows of `weight` (num_embeddings, embedding_dim) at the integer `input`, as torch.nn.functional.embedding.

    The row `padding_idx` gets no gradient (a negative one counts from the end). Returns shape input.shape + (dim,).

    >>> embedding(np.array([2, 0]), np.arange(6.0).reshape(3, 2)).value.tolist()
    [[4.0, 5.0], [0.0, 1.0]]
    """
    indices = _index_array("embedding", input)
    count = np.shape(weight)[0] if np.ndim(weight) else 0
    if padding_idx is not None:
        padding_idx = normalize_axis("embedding", padding_idx, count, "padding_idx")
    return Embedding.apply(indices, weight, padding_idx=padding_idx)


def one_hot(tensor, num_classes: int = -1) -> TensorNode:
    """int64 one-hot rows of shape tensor.shape + (num_classes,), as torch.nn.functional.one_hot.

    num_classes=-1 takes one more than the largest value. No gradient: the result is an integer tensor.

    >>> one_hot(np.array([0, 2])).value.tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    indices = _index_array("one_hot", tensor)
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor, got num_classes=-1")
        num_classes = int(indices.max()) + 1
    _check_indices("one_hot", "tensor", indices, num_classes)
    return TensorNode(np.equal.outer(indices, np.arange(num_classes)).astype(np.int64))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort `input` along `dim`, an int64 tensor without gradient, as torch.argsort.

    Ties keep their order (a stable sort) whether or not `stable` is asked for, also when descending.
    """
    array = np.asarray(getattr(input, "_value", input))
    axis = normalize_axis("argsort", dim, builtins.max(array.ndim, 1), "dim")
    if array.ndim == 0:
        return TensorNode(np.zeros((), np.int64))
    keys = array.astype(np.int64) if array.dtype.kind in "bu" else array  # negation must not wrap around
    # Negated keys sort descending and keep ties in order (reversing an ascending sort would reverse them).
    return TensorNode(np.argsort(-keys if descending else keys, axis=axis, kind="stable").astype(np.int64))


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) of `input` sorted along `dim`, as torch.sort; the values are a gather, so the
    gradient goes back to where each value came from.

    >>> sort(np.array([3.0, 1.0, 2.0])).values.value.tolist()
    [1.0, 2.0, 3.0]
    """
    indices = argsort(input, dim, descending, stable)
    if indices.ndim == 0:
        return ValuesIndices(input if isinstance(input, TensorNode) else TensorNode(np.asarray(input)), indices)
    return ValuesIndices(gather(input, dim, indices), indices)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """(values, indices) of the k largest (or smallest) entries along `dim`, as torch.topk, largest first."""
    array = np.asarray(getattr(input, "_value", input))
    axis = normalize_axis("topk", dim, array.ndim, "dim")
    if not 0 <= k <= array.shape[axis]:
        raise ValueError(f"topk: k must lie in [0, {array.shape[axis]}] for dim {dim} of shape {array.shape}, got {k}")
    order = argsort(array, axis, descending=largest).value
    indices = TensorNode(np.take(order, np.arange(k), axis=axis))
    return ValuesIndices(gather(input, axis, indices), indices)
