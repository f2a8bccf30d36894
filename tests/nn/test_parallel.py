"""DistributedDataParallel in a world of one: the buckets, their order, unused parameters, no_sync.

Over two ranks (the mean of the ranks' gradients) it is tested by test_distributed_mpi.py.
"""

import copy
import gc
import weakref

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from nn import distributed
from nn.parallel import DistributedDataParallel


def mlp(seed: int = 0) -> nn.Sequential:
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 6), nn.Tanh(), nn.Linear(6, 3))


def data(n: int = 8, seed: int = 1) -> tuple:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)


class Reversed(nn.Module):
    """Uses its layers in the reverse of their registration order, so gradients come first-registered first."""

    def __init__(self):
        super().__init__()
        self.last = nn.Linear(3, 2)
        self.first = nn.Linear(5, 3)

    def forward(self, x):
        return self.last(self.first(x).tanh())


@pytest.mark.parametrize("bucket_cap_mb", [4.0, 1e-6])  # one bucket; one parameter per bucket
def test_gradients_are_the_wrapped_models_own_in_a_world_of_one(bucket_cap_mb):
    X, y = data()
    plain, wrapped = mlp(), DistributedDataParallel(mlp(), bucket_cap_mb=bucket_cap_mb)
    ag.cross_entropy(plain(X), y).backward()
    ag.cross_entropy(wrapped(X), y).backward()
    assert len(wrapped._reducer.buckets) == (1 if bucket_cap_mb > 1 else 6)
    for p, q in zip(plain.parameters(), wrapped.module.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


def test_buckets_start_in_their_order_while_backward_runs(monkeypatch):
    started = []
    all_reduce = distributed.all_reduce

    def recording(array, op="sum", async_op=False):
        started.append((array.size, model.module.first.weight.grad is None))
        return all_reduce(array, op, async_op)

    monkeypatch.setattr(distributed, "all_reduce", recording)
    model = DistributedDataParallel(Reversed(), bucket_cap_mb=1e-6)
    # Buckets hold the parameters in reverse registration order: first.bias, first.weight, last.bias, last.weight.
    assert [b.params[0].shape for b in model._reducer.buckets] == [(3,), (3, 5), (2,), (2, 3)]
    model(np.ones((4, 5), np.float32)).sum().backward()
    # last's gradients are final first, but their buckets wait until the first layer's have started;
    # bucket 0 (first.bias) starts before first.weight has its .grad: during backward, not after it.
    assert started == [(3, True), (15, False), (2, False), (6, False)]


def test_a_parameter_without_gradient_is_an_error_unless_find_unused_parameters():
    class Branch(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(2, 2), nn.Linear(2, 2)

        def forward(self, x):
            return self.used(x)

    model = DistributedDataParallel(Branch())
    with pytest.raises(RuntimeError, match=r"parameters \['unused.weight', 'unused.bias'\] got no gradient"):
        model(np.ones((1, 2), np.float32)).sum().backward()
    model = DistributedDataParallel(Branch(), find_unused_parameters=True)
    model(np.ones((1, 2), np.float32)).sum().backward()
    assert model.module.unused.weight.grad is None and model.module.used.weight.grad is not None
    model(np.ones((1, 2), np.float32)).sum().backward()  # the reducer is ready for the next backward
    np.testing.assert_allclose(model.module.used.bias.grad, [2.0, 2.0])


def test_no_sync_accumulates_locally_and_the_next_backward_averages_the_sum(monkeypatch):
    X, y = data()
    plain, model = mlp(), DistributedDataParallel(mlp())
    calls = []
    all_reduce = distributed.all_reduce
    monkeypatch.setattr(distributed, "all_reduce", lambda *a, **k: calls.append(1) or all_reduce(*a, **k))
    with model.no_sync():
        ag.cross_entropy(model(X[:4]), y[:4]).backward()
    assert calls == []
    ag.cross_entropy(model(X[4:]), y[4:]).backward()
    assert calls == [1]
    ag.cross_entropy(plain(X[:4]), y[:4]).backward()
    ag.cross_entropy(plain(X[4:]), y[4:]).backward()
    for p, q in zip(plain.parameters(), model.module.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-6)


def test_state_dict_names_the_wrapped_module_and_training_steps_match_the_plain_model():
    X, y = data()
    plain, model = mlp(), DistributedDataParallel(mlp())
    assert list(model.state_dict()) == [f"module.{k}" for k in plain.state_dict()]
    for net in (plain, model):
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            opt.zero_grad()
            ag.cross_entropy(net(X), y).backward()
            opt.step()
    for p, q in zip(plain.parameters(), model.module.parameters()):
        np.testing.assert_array_equal(p.value, q.value)


def test_the_hooks_do_not_keep_a_discarded_model_alive():
    model = DistributedDataParallel(mlp())
    weight = weakref.ref(model.module[0].weight)
    del model
    gc.collect()
    assert weight() is None


def test_a_copy_of_the_wrapped_module_is_left_alone():
    model = DistributedDataParallel(mlp())
    clone = copy.deepcopy(model.module)
    X, y = data()
    ag.cross_entropy(clone(X), y).backward()  # the copy's parameters have no hooks of their own: no reducer runs
    assert all(p.grad is None for p in model.module.parameters())


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(module=np.ones(2)), TypeError, "module must be an nn.Module, got ndarray"),
        (dict(module=nn.Linear(2, 2), bucket_cap_mb=0), ValueError, "bucket_cap_mb must be a positive number, got 0"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DistributedDataParallel(**kwargs)
