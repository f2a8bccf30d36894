"""Graph memory is released: saved arrays go after backward, and training keeps memory flat."""

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd as ag


def _mlp_params(rng, sizes=(64, 128, 10)):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(ag.tensor(rng.normal(0, fan_in**-0.5, (fan_in, fan_out)).astype(np.float32), requires_grad=True))
        params.append(ag.tensor(np.zeros(fan_out, np.float32), requires_grad=True))
    return params


def _loss(params, X, y):
    h = X
    for i in range(0, len(params) - 2, 2):
        h = (h @ params[i] + params[i + 1]).relu()
    return ag.cross_entropy(h @ params[-2] + params[-1], y)


def test_saved_arrays_are_freed_after_backward_while_the_loss_lives():
    rng = np.random.default_rng(0)
    params = _mlp_params(rng, sizes=(256, 1024, 1024, 10))
    X = rng.standard_normal((512, 256)).astype(np.float32)
    y = rng.integers(0, 10, 512)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        loss = _loss(params, X, y)
        with_graph = tracemalloc.get_traced_memory()[0] - baseline
        loss.backward()
        for p in params:
            p.grad = None
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    # The two ReLU outputs of 512 x 1024 float32 (2 MiB each) are saved by the graph, then released.
    assert with_graph > 4 * 2**20
    assert after < 0.05 * with_graph, (with_graph, after)
    assert loss.value.shape == ()


def _trainer(params, X, y):
    def train(steps):
        for _ in range(steps):
            loss = _loss(params, X, y)
            loss.backward()
            for p in params:
                p.value -= 0.01 * p.grad
                p.grad = None
        return loss

    return train


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads resident memory from Linux's /proc")
def test_a_thousand_training_steps_keep_resident_memory_flat():
    rng = np.random.default_rng(1)
    params = _mlp_params(rng, sizes=(256, 512, 10))
    X = rng.standard_normal((128, 256)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    train = _trainer(params, X, y)
    train(100)  # warm-up: the allocator's arenas and numpy's caches reach their working size
    gc.collect()
    before = _resident_bytes()
    train(1000)
    gc.collect()
    growth = _resident_bytes() - before
    assert growth < 0.05 * before, f"resident memory grew {growth / 2**20:.1f} MiB from {before / 2**20:.1f} MiB"


def test_a_thousand_training_steps_keep_allocations_flat():
    rng = np.random.default_rng(0)
    params = _mlp_params(rng)
    X = rng.standard_normal((32, 64)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    train = _trainer(params, X, y)
    train(100)  # warm-up: caches, free lists and the first gradients settle
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        last_loss = train(1000)
        del last_loss
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    total = sum(p.value.nbytes for p in params) + X.nbytes
    assert growth < 0.05 * total, f"grew {growth} bytes over 1000 steps (model and data: {total} bytes)"


def _freed_without_the_collector(build) -> list:
    """Run `build()` (it returns weak references) with the cyclic garbage collector off; which died.

    Checked before the collector is back on: its first pass would free cycles too.
    """
    gc.collect()
    gc.disable()
    try:
        return [ref() is None for ref in build()]
    finally:
        gc.enable()


def test_a_long_chain_frees_by_reference_counting_when_dropped():
    # Ops that save their own output (tanh, exp) must not make a cycle through their node: a dropped
    # graph should go at once, not wait for the garbage collector to scan every node.
    def build():
        x = ag.tensor(np.ones(1, np.float32), requires_grad=True)
        y = x
        for _ in range(10_000):
            y = ag.tanh(y * 1.0001 + x).exp()
        middle = weakref.ref(_walk_back(y.source, 10_000))
        leaf = weakref.ref(x)  # every node holds it
        del x, y
        return middle, leaf

    assert _freed_without_the_collector(build) == [True, True]


def test_a_released_chain_frees_by_reference_counting_when_dropped():
    def build():
        x = ag.tensor(np.ones(1), requires_grad=True)
        y = x
        for _ in range(10_000):
            y = (y * 1.0001).tanh()
        y.backward()
        leaf = weakref.ref(x)  # the first node still holds it after backward
        del x
        assert leaf() is not None
        del y
        return (leaf,)

    assert _freed_without_the_collector(build) == [True]


def test_building_and_dropping_a_graph_leaves_no_garbage_cycles():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        loss = ((x * 2).exp().tanh() @ np.ones((3, 2))).sigmoid().sum()
        del loss
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0


def _walk_back(node, steps: int):
    """The OpNode `steps` ops upstream along each node's first input."""
    for _ in range(steps):
        node = node.inputs[0][0]
    return node
