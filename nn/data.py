"""Minibatches: batches() and train_val_split() over numpy arrays; Dataset, TensorDataset, Subset, random_split,
DataLoader and DistributedSampler as PyTorch spells them, so a loop written for torch.utils.data reads the same here.

    loader = DataLoader(TensorDataset(X, y), batch_size=64, sampler=DistributedSampler(len(X)))
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)      # a new shuffle each epoch, the same on every rank
        for xb, yb in loader: ...            # this rank's share: len(X) / world size samples
"""

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from autograd.random import generator
from autograd.tensor import TensorNode
from nn import distributed


def _rng(seed) -> np.random.Generator:
    """A Generator as given, a new one from an int seed, or the engine's (so manual_seed repeats it)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return generator()
    return np.random.default_rng(seed)


def _check_pair(where: str, X: np.ndarray, y: np.ndarray) -> None:
    if np.ndim(X) == 0 or np.ndim(y) == 0 or len(X) != len(y):
        raise ValueError(
            f"{where}: X and y must have the same length, got shapes {tuple(np.shape(X))} and {tuple(np.shape(y))}"
        )


def batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple]:
    """Yield (X_batch, y_batch) pairs covering every sample once, in shuffled order unless shuffle=False.

    Args:
        seed: an int, a Generator (advanced by each call), or None for the engine's generator.
        drop_last: skip the final batch when it is smaller than batch_size.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    _check_pair("batches", X, y)
    _check_positive_int("batches", "batch_size", batch_size)
    order = _rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    stop = len(X) - len(X) % batch_size if drop_last else len(X)

    def generate():
        for start in range(0, stop, batch_size):
            index = order[start : start + batch_size]
            yield X[index], y[index]

    return generate()


def train_val_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int | np.random.Generator | None = None
) -> tuple:
    """Shuffle and split into (X_train, y_train, X_val, y_val), with round(len(X) * val_fraction) for validation.

    >>> X_train, y_train, X_val, y_val = train_val_split(np.zeros((10, 2)), np.arange(10), 0.2, seed=0)
    >>> X_train.shape, X_val.shape, sorted(y_train.tolist() + y_val.tolist()) == list(range(10))
    ((8, 2), (2, 2), True)
    """
    _check_pair("train_val_split", X, y)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must lie in (0, 1), got {val_fraction}")
    order = _rng(seed).permutation(len(X))
    n_val = int(round(len(X) * val_fraction))
    train, val = order[n_val:], order[:n_val]
    return X[train], y[train], X[val], y[val]


def _check_positive_int(where: str, name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")


class Dataset:
    """Samples by index: subclasses define `__getitem__(index)` and `__len__()`, as torch.utils.data.Dataset."""

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__}: __getitem__ is not defined")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__}: __len__ is not defined")


class TensorDataset(Dataset):
    """Arrays of the same length; sample i is the tuple of their i-th rows.

    >>> data = TensorDataset(np.arange(6).reshape(3, 2), np.array([0, 1, 0]))
    >>> len(data), [a.tolist() for a in data[1]]
    (3, [[2, 3], 1])
    """

    def __init__(self, *arrays):
        self.arrays = tuple(a.value if isinstance(a, TensorNode) else np.asarray(a) for a in arrays)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if not self.arrays or None in lengths or len(set(lengths)) != 1:
            raise ValueError(
                f"TensorDataset: expected arrays of one length, got shapes {[a.shape for a in self.arrays]}"
            )

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


def default_collate(samples: list):
    """One batch from a list of samples: arrays, tensors and numbers stacked on a new first axis into a
    TensorNode (dtypes kept: Python ints int64, floats float64, as torch's default_collate), tuples and
    dicts collated field by field.

    >>> [a.tolist() for a in default_collate([(np.array([1, 2]), 0), (np.array([3, 4]), 1)])]
    [[[1, 2], [3, 4]], [0, 1]]
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(field)) for field in zip(*samples))
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in samples]) for key in first}
    return TensorNode(np.stack([s._value if isinstance(s, TensorNode) else np.asarray(s) for s in samples]))


class DistributedSampler:
    """This rank's share of a dataset's indices, as torch.utils.data.DistributedSampler.

    Every rank draws the same permutation (seeded by seed + epoch; call `set_epoch` before each epoch for a
    new one) and takes every num_replicas-th index from position `rank`: shares are disjoint and together
    cover the data. Without drop_last the permutation is padded with its own first indices to a multiple of
    num_replicas, so every rank gets ceil(n / num_replicas) (a few samples then count twice); with it, the
    tail is dropped instead. The permutation is numpy's, so the order differs from torch's.

    Args:
        dataset_or_length: a dataset (anything with len()) or its length.
        num_replicas, rank: default to nn.distributed's world size and rank.

    >>> [list(DistributedSampler(5, num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
    [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(
        self,
        dataset_or_length,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        n = dataset_or_length if isinstance(dataset_or_length, (int, np.integer)) else len(dataset_or_length)
        self.num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
        _check_positive_int("DistributedSampler", "num_replicas", self.num_replicas)
        self.rank = distributed.get_rank() if rank is None else rank
        if (
            isinstance(self.rank, bool)
            or not isinstance(self.rank, (int, np.integer))
            or not 0 <= self.rank < self.num_replicas
        ):
            raise ValueError(f"DistributedSampler: rank must lie in [0, {self.num_replicas}), got {self.rank!r}")
        self.n, self.shuffle, self.seed, self.drop_last, self.epoch = int(n), shuffle, seed, drop_last, 0
        if drop_last and self.n % self.num_replicas:
            self.num_samples = math.ceil((self.n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(self.n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Shuffle differently in this epoch (the same on every rank, which all call it with the same epoch)."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        order = np.random.default_rng(self.seed + self.epoch).permutation(self.n) if self.shuffle else np.arange(self.n)
        if self.total_size > self.n:  # pad with the order's own start, repeated as often as needed
            order = np.concatenate([order, np.resize(order, self.total_size - self.n)])
        return iter(order[: self.total_size][self.rank :: self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order, as torch.utils.data.Subset.

    >>> part = Subset(TensorDataset(np.arange(5) * 10), [4, 0])
    >>> len(part), part[0][0].item(), [s[0].item() for s in part[[1, 0]]]
    (2, 40, [0, 40])
    """

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(np.asarray(indices, dtype=np.int64).reshape(-1).tolist())

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[self.indices[i]] for i in np.asarray(index).tolist()]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator: int | np.random.Generator | None = None) -> list[Subset]:
    """Split `dataset` into disjoint random Subsets of the given lengths, as torch.utils.data.random_split.

    `lengths` are counts summing to len(dataset), or fractions summing to 1: each split then gets
    floor(n * fraction) samples and the remainder goes one by one to the first splits, as in PyTorch. The
    permutation is numpy's (from `generator`: a Generator, an int seed, or None for the engine's
    generator), so the samples drawn differ from torch's; the lengths are the same.

    Raises:
        ValueError: a fraction outside [0, 1], or lengths that do not sum to len(dataset).

    >>> [len(part) for part in random_split(TensorDataset(np.arange(10)), [0.5, 0.3, 0.2], generator=0)]
    [5, 3, 2]
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction {i} must lie in [0, 1], got {fraction!r}")
        counts = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in lengths):
        raise ValueError(f"random_split: lengths must be counts >= 0 or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: lengths must sum to the dataset's length {n}, got {lengths} (sum {sum(lengths)})"
        )
    order = _rng(generator).permutation(n).tolist()
    ends = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[end - length : end]) for end, length in zip(ends, lengths, strict=True)]


class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader in one process: iterate once per epoch.

    Args:
        dataset: a Dataset (or anything indexable with a len()).
        batch_size: samples per batch.
        shuffle: a new permutation every epoch, from `generator`; not with a sampler.
        sampler: the indices to draw, in order (e.g. a DistributedSampler); default all, in order or shuffled.
        batch_sampler: lists of indices, one per batch; excludes batch_size, shuffle, sampler and drop_last.
        num_workers: only 0 (batches are made in this process).
        collate_fn: makes a batch from a list of samples; default `default_collate`.
        pin_memory: accepted and ignored, as on a machine without a GPU.
        drop_last: skip the last batch when it is smaller than batch_size.
        generator: an int seed, a numpy Generator, or None for the engine's generator
            (autograd.manual_seed repeats it). `seed=` is the same setting under its older name.

    >>> loader = DataLoader(TensorDataset(np.arange(5), np.arange(5) * 10), batch_size=2)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (3, [[0, 10], [20, 30], [40]])
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Iterable[int] | None = None,
        batch_sampler: Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        multiprocessing_context=None,
        generator: int | np.random.Generator | None = None,
        *,
        seed: int | np.random.Generator | None = None,
    ):
        if num_workers != 0 or timeout != 0 or worker_init_fn is not None or multiprocessing_context is not None:
            raise ValueError(
                "DataLoader: loads in this process only: num_workers=0 without timeout, worker_init_fn or "
                f"multiprocessing_context, got num_workers={num_workers!r}"
            )
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give generator= or its older name seed=, not both")
        shuffle = bool(shuffle)
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler excludes batch_size, shuffle, sampler and drop_last")
            batch_size = None
        else:
            _check_positive_int("DataLoader", "batch_size", batch_size)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (shuffle in the sampler)")
        self.dataset, self.batch_size, self.shuffle, self.sampler = dataset, batch_size, shuffle, sampler
        self.batch_sampler, self.drop_last, self.collate_fn = batch_sampler, drop_last, collate_fn or default_collate
        self.num_workers, self.pin_memory = 0, pin_memory
        self._rng = _rng(seed if generator is None else generator) if shuffle else None

    def _indices(self) -> Iterable[int]:
        if self.sampler is not None:
            return self.sampler
        return self._rng.permutation(len(self.dataset)) if self.shuffle else range(len(self.dataset))

    def _batches(self) -> Iterator[list]:
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        batch = []
        for index in self._indices():
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator:
        for batch in self._batches():
            yield self._fetch(list(batch))

    def _fetch(self, indices: list):
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            # what stacking its rows gives, in one indexing per array
            return tuple(TensorNode(a) for a in self.dataset[np.asarray(indices)])
        return self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
