"""nn.data: minibatches, the train/validation split, Dataset and DataLoader, DistributedSampler."""

import numpy as np
import pytest

import autograd as ag
from autograd import TensorNode
from nn.data import (
    DataLoader,
    Dataset,
    DistributedSampler,
    Subset,
    TensorDataset,
    batches,
    default_collate,
    random_split,
    train_val_split,
)

X = np.arange(20).reshape(10, 2)
y = np.arange(10) * 10


def test_batches_cover_every_sample_once_and_keep_pairs_together():
    seen = []
    sizes = []
    for xb, yb in batches(X, y, 3, seed=0):
        np.testing.assert_array_equal(yb, xb[:, 0] * 5)
        seen.extend(yb.tolist())
        sizes.append(len(yb))
    assert sorted(seen) == y.tolist() and sizes == [3, 3, 3, 1]
    assert seen != y.tolist()  # shuffled


def test_unshuffled_batches_keep_order_and_drop_last_drops_the_remainder():
    assert [yb.tolist() for _, yb in batches(X, y, 4, shuffle=False)] == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
    assert [len(yb) for _, yb in batches(X, y, 4, shuffle=False, drop_last=True)] == [4, 4]
    assert [len(yb) for _, yb in batches(X, y, 5, drop_last=True)] == [5, 5]
    assert list(batches(X[:0], y[:0], 2)) == []


def test_seeds_generators_and_manual_seed_make_orders_repeat():
    order = lambda **kw: [yb.tolist() for _, yb in batches(X, y, 4, **kw)]  # noqa: E731
    assert order(seed=1) == order(seed=1) != order(seed=2)
    rng = np.random.default_rng(5)
    first, second = order(seed=rng), order(seed=rng)
    assert first != second  # a Generator advances, so each epoch gets a new order
    assert first == order(seed=np.random.default_rng(5))
    ag.manual_seed(7)
    a = order()
    ag.manual_seed(7)
    assert order() == a


def test_batches_validate_arguments_eagerly():
    with pytest.raises(ValueError, match=r"batches: X and y must have the same length, got shapes \(10, 2\) and \(9,"):
        batches(X, y[:9], 2)
    with pytest.raises(ValueError, match="batches: batch_size must be a positive int, got 0"):
        batches(X, y, 0)


def test_train_val_split_is_a_disjoint_shuffled_partition():
    X_train, y_train, X_val, y_val = train_val_split(X, y, 0.3, seed=0)
    assert (len(y_train), len(y_val)) == (7, 3)
    assert sorted(y_train.tolist() + y_val.tolist()) == y.tolist()
    np.testing.assert_array_equal(X_val[:, 0] * 5, y_val)
    np.testing.assert_array_equal(train_val_split(X, y, 0.3, seed=0)[3], y_val)
    assert not np.array_equal(train_val_split(X, y, 0.3, seed=1)[3], y_val)
    with pytest.raises(ValueError, match=r"train_val_split: val_fraction must lie in \(0, 1\), got 1.0"):
        train_val_split(X, y, 1.0)
    with pytest.raises(ValueError, match="train_val_split: X and y must have the same length"):
        train_val_split(X, y[:3], 0.5)


# ----- Dataset, DataLoader, DistributedSampler -----
def test_tensor_dataset_rows_and_lengths():
    data = TensorDataset(X, ag.tensor(y))
    assert len(data) == 10
    row, label = data[3]
    assert row.tolist() == X[3].tolist() and label == y[3]
    with pytest.raises(
        ValueError, match=r"TensorDataset: expected arrays of one length, got shapes \[\(10, 2\), \(9,\)\]"
    ):
        TensorDataset(X, y[:9])


def test_default_collate_stacks_arrays_and_numbers_field_by_field():
    samples = [{"image": np.full((2, 2), i), "label": i, "pair": (i, 2.0 * i)} for i in range(3)]
    batch = default_collate(samples)
    assert batch["image"].shape == (3, 2, 2) and batch["label"].tolist() == [0, 1, 2]
    assert [a.tolist() for a in batch["pair"]] == [[0, 1, 2], [0.0, 2.0, 4.0]]


def test_data_loader_covers_the_data_in_batches_and_drop_last_drops_the_rest():
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    assert len(loader) == 3 and [yb.tolist() for _, yb in loader] == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
    dropping = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(dropping) == 2 and [len(yb) for _, yb in dropping] == [4, 4]


def test_data_loader_shuffles_anew_each_epoch_and_repeats_with_its_seed():
    def epochs(seed):
        loader = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, seed=seed)
        return [np.concatenate([yb for _, yb in loader]).tolist() for _ in range(2)]

    first, second = epochs(seed=3)
    assert sorted(first) == sorted(second) == y.tolist() and first != second
    assert epochs(seed=3) == [first, second] != epochs(seed=4)


def test_data_loader_fast_path_for_tensor_datasets_equals_collating_rows():
    data = TensorDataset(X, y)
    fast = DataLoader(data, batch_size=4, shuffle=True, seed=0)
    rows = DataLoader(data, batch_size=4, shuffle=True, seed=0, collate_fn=lambda s: default_collate(s))
    for (xa, ya), (xb, yb) in zip(fast, rows, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_data_loader_on_a_dataset_subclass_with_a_sampler():
    class Squares(Dataset):
        def __getitem__(self, index):
            return {"x": float(index), "x2": float(index) ** 2}

        def __len__(self):
            return 7

    loader = DataLoader(Squares(), batch_size=2, sampler=[6, 0, 3])
    assert len(loader) == 2
    assert [batch["x2"].tolist() for batch in loader] == [[36.0, 0.0], [9.0]]
    with pytest.raises(ValueError, match="DataLoader: sampler and shuffle=True exclude each other"):
        DataLoader(Squares(), sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int, got 0"):
        DataLoader(Squares(), batch_size=0)


@pytest.mark.parametrize("n", [1, 7, 8, 10])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shards_are_equal_disjoint_and_cover_the_data(n, replicas, drop_last):
    shards = [list(DistributedSampler(n, replicas, rank, seed=5, drop_last=drop_last)) for rank in range(replicas)]
    lengths = {len(shard) for shard in shards}
    assert lengths == {len(DistributedSampler(n, replicas, 0, drop_last=drop_last))}, "every rank gets as many"
    taken = [i for shard in shards for i in shard]
    if drop_last:
        assert len(set(taken)) == len(taken) == n - n % replicas  # disjoint, the remainder dropped
    else:
        assert set(taken) == set(range(n)) and len(taken) == -(-n // replicas) * replicas  # all, padded


def test_distributed_sampler_shuffles_the_same_on_every_rank_and_anew_with_set_epoch():
    def union(epoch, seed=0):
        samplers = [DistributedSampler(10, 2, rank, seed=seed) for rank in (0, 1)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [i for pair in zip(*samplers) for i in pair]  # interleaved back into the permutation

    assert sorted(union(0)) == list(range(10)) and union(0) != list(range(10))
    assert union(0) == union(0) != union(1)
    assert union(0, seed=1) != union(0)


def test_distributed_sampler_matches_torch_without_shuffle():
    torch = pytest.importorskip("torch")
    for n, replicas, drop_last in [(10, 3, False), (10, 3, True), (2, 4, False), (9, 4, True)]:
        for rank in range(replicas):
            ours = list(DistributedSampler(n, replicas, rank, shuffle=False, drop_last=drop_last))
            theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
            assert ours == list(theirs), (n, replicas, drop_last, rank)


def test_distributed_sampler_defaults_to_the_world_and_feeds_a_data_loader():
    sampler = DistributedSampler(TensorDataset(X, y), shuffle=False)  # a world of one outside mpirun
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (1, 0, 10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, sampler=DistributedSampler(10, 2, 1, shuffle=False))
    assert [yb.tolist() for _, yb in loader] == [[10, 30, 50, 70], [90]]
    with pytest.raises(ValueError, match=r"DistributedSampler: rank must lie in \[0, 2\), got 2"):
        DistributedSampler(10, num_replicas=2, rank=2)


def test_subset_indexes_its_dataset_through_the_indices():
    part = Subset(TensorDataset(X, y), np.array([7, 2, 5]))
    assert len(part) == 3 and part[1][1] == 20 and [s[1] for s in part[[2, 0]]] == [50, 70]
    assert [yb.tolist() for _, yb in DataLoader(part, batch_size=2)] == [[70, 20], [50]]


@pytest.mark.parametrize(
    "n, lengths",
    [(10, [3, 7]), (10, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]), (7, [0.1, 0.2, 0.7]), (5, [1.0]), (3, [0.25] * 4)],
)
def test_random_split_is_a_disjoint_cover_with_torchs_lengths(n, lengths):
    parts = random_split(TensorDataset(np.arange(n)), lengths, generator=0)
    drawn = [int(part[i][0]) for part in parts for i in range(len(part))]
    assert sorted(drawn) == list(range(n))
    expected = {(10, (3, 7)): [3, 7], (10, (0.5, 0.5)): [5, 5], (11, (0.3, 0.3, 0.4)): [4, 3, 4]}
    expected.update({(7, (0.1, 0.2, 0.7)): [1, 2, 4], (5, (1.0,)): [5], (3, (0.25,) * 4): [1, 1, 1, 0]})
    assert [len(part) for part in parts] == expected[n, tuple(lengths)]
    again = random_split(TensorDataset(np.arange(n)), lengths, generator=np.random.default_rng(0))
    assert [p.indices for p in again] == [p.indices for p in parts]
    torch = pytest.importorskip("torch", reason="needs PyTorch as the oracle: pip install torch==2.13.0 (pinned)")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about an empty split
        theirs = torch.utils.data.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(part) for part in parts] == [len(part) for part in theirs]


@pytest.mark.parametrize(
    "lengths, message",
    [
        ([3, 3], "must sum to the dataset's length 10, got"),
        ([1.5, -0.5], "fraction 0 must lie in"),
        ([2.5, 7.5], "counts"),
    ],
)
def test_random_split_rejects_lengths_that_do_not_fit(lengths, message):
    with pytest.raises(ValueError, match=f"^random_split: .*{message}"):
        random_split(TensorDataset(X), lengths)


def test_data_loader_takes_torchs_generator_batch_sampler_and_single_process_arguments():
    def order(**kw):
        return np.concatenate([yb for _, yb in DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, **kw)])

    assert order(generator=5).tolist() == order(seed=5).tolist() == order(generator=np.random.default_rng(5)).tolist()
    loader = DataLoader(TensorDataset(X, y), batch_sampler=[[0, 1], [9], [4, 5, 6]], num_workers=0, pin_memory=True)
    assert len(loader) == 3 and [yb.tolist() for _, yb in loader] == [[0, 10], [90], [40, 50, 60]]
    with pytest.raises(ValueError, match="num_workers=0"):
        DataLoader(TensorDataset(X, y), num_workers=2)
    with pytest.raises(ValueError, match="batch_sampler excludes"):
        DataLoader(TensorDataset(X, y), batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="not both"):
        DataLoader(TensorDataset(X, y), shuffle=True, generator=1, seed=1)


def test_batches_are_tensors_as_in_a_pytorch_loop():
    X, y = np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10)
    for loader in (DataLoader(TensorDataset(X, y), batch_size=4), DataLoader(list(zip(X, y.tolist())), batch_size=4)):
        data, target = next(iter(loader))
        assert isinstance(data, TensorNode) and isinstance(target, TensorNode)
        assert data.to("cpu").size(0) == 4 and data.view(-1).shape == (8,) and target.dtype == np.int64
