"""nn.data: minibatches and the train/validation split."""

import numpy as np
import pytest

import autograd as ag
from nn.data import batches, train_val_split

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
