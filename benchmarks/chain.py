"""The engine's cost per recorded op, engine vs PyTorch: many small graphs, and one 100,000-op chain.

Every graph comes from `chain`, one small function that builds the same graph in either framework on
a 1-element float32 tensor, so the arithmetic is nothing and what is timed is the bookkeeping: recording
the ops in forward and walking them in backward.

- per op: forward + backward of many independent small graphs, in blocks; the median block time divided
  by the ops in it, in microseconds. Graphs of 1 op (x * 1.0001) carry the whole fixed cost of a
  backward() call; graphs of 8 ops share it out, closer to what each op of a long graph costs.
- long chain: one `chain(x, 100_000)`, timed as build (forward) and backward, each the median of a few
  repeats after a warm-up; releasing the graph afterwards is recorded too but is not in the total.

After a warm-up of each, the frameworks take turns: an engine block, then a torch block, and so on (for
the chain, one chain each). The machine drifts between two speeds within seconds, and a drift then
slows both alike instead of one framework's whole run (a run of all engine blocks before all torch
blocks once put the 8-op graphs at 1.46x, where the turns give 0.8-0.9x). There is nothing to fear
from turns here: a 1-element tensor starts no BLAS or OpenMP threads that would spin into the other
framework's time. `python -m benchmarks` runs these as its per_op and chain rows.
"""

import contextlib
import gc
import time

import numpy as np

import autograd as ag
from benchmarks.train_step import warm_up

try:
    import torch
except ImportError:
    torch = None

# The chain cycles through these four ops, so it computes (y * 1.0001 + 0.001).tanh() - 0.001 again and
# again: the values settle near 0.017 and the gradient stays far from underflow, at any length.
CYCLE = (lambda y: y * 1.0001, lambda y: y + 0.001, lambda y: y.tanh(), lambda y: y - 0.001)
SMALL_GRAPH_OPS = (1, 8)


def chain(x, length: int):
    """x followed by `length` ops, going round CYCLE; the same code builds either framework's graph."""
    y = x
    for i in range(length):
        y = CYCLE[i % len(CYCLE)](y)
    return y


def leaf(framework: str):
    """A 1-element float32 tensor (shape ()) that requires a gradient, in `framework` ("engine" or "torch")."""
    if framework == "engine":
        return ag.tensor(np.ones((), np.float32), requires_grad=True)
    if framework == "torch":
        return torch.ones((), dtype=torch.float32, requires_grad=True)
    raise ValueError(f"leaf: framework must be 'engine' or 'torch', got {framework!r}")


def _small_graphs(framework: str, ops: int, graphs: int):
    """A function that runs forward + backward of `graphs` graphs of `ops` ops each, in `framework`.

    It returns the seconds it took: _take_turns collects what each function returns.
    """
    x = leaf(framework)

    def run():
        t0 = time.perf_counter()
        for _ in range(graphs):
            chain(x, ops).backward()
            x.grad = None
        return time.perf_counter() - t0

    return run


def _take_turns(runs: dict, rounds: int) -> dict:
    """{name: [what run returned, ...]}: `rounds` rounds in which each zero-argument function of `runs` runs once."""
    results = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            results[name].append(run())
    return results


def per_op_overhead(frameworks: list[str], graphs_per_block: int, blocks: int, warmup_s: float) -> dict:
    """{"<n>_op_graphs": {framework: {"us_per_op", ...}}} for each n of SMALL_GRAPH_OPS, medians over blocks."""
    results = {}
    for ops in SMALL_GRAPH_OPS:
        runs = {framework: _small_graphs(framework, ops, graphs_per_block) for framework in frameworks}
        for run in runs.values():
            warm_up(run, warmup_s)
        ops_per_block = graphs_per_block * ops
        results[f"{ops}_op_graphs"] = {
            framework: {
                "us_per_op": round(float(np.median(times)) / ops_per_block * 1e6, 3),
                "min_us_per_op": round(min(times) / ops_per_block * 1e6, 3),
                "ops_per_graph": ops,
                "graphs_per_block": graphs_per_block,
                "blocks": blocks,
            }
            for framework, times in _take_turns(runs, blocks).items()
        }
    return results


def _build_and_backward(x, length: int) -> tuple[float, float, float]:
    """Seconds to build chain(x, length), to backpropagate it, and to release the graph and x.grad."""
    t0 = time.perf_counter()
    y = chain(x, length)
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    del y
    x.grad = None
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def _chain_figures(runs: list, length: int) -> dict:
    """Median build, backward and release times of the (build, backward, release) seconds of each run."""
    build, backward, release = (np.array(column) for column in zip(*runs))
    return {
        "build_s": round(float(np.median(build)), 4),
        "backward_s": round(float(np.median(backward)), 4),
        "total_s": round(float(np.median(build + backward)), 4),
        "release_s": round(float(np.median(release)), 4),
        "length": length,
        "repeats": len(runs),
    }


@contextlib.contextmanager
def cyclic_gc_off():
    """Python's cyclic garbage collector off for the block, and back to what it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chain_run(x, length: int, collector_on: bool = True):
    """A function that builds and backpropagates chain(x, length); returns _build_and_backward's seconds."""

    def run():
        gc.collect()  # every chain starts from the same heap, not from the previous one's garbage
        with contextlib.nullcontext() if collector_on else cyclic_gc_off():
            return _build_and_backward(x, length)

    return run


def long_chain(frameworks: list[str], length: int, repeats: int, warmup_s: float) -> dict:
    """{framework: {"build_s", "backward_s", "total_s", "release_s", ...}}, medians over `repeats` chains.

    With the engine, also "engine_gc_off": the same chains with the cyclic collector off. Not the goal's
    figure, a diagnosis: the engine's graph holds no reference cycles, yet while it grows the collector
    rescans every live node again and again (PyTorch's graph lives in C++, out of its sight).
    """
    runs = {framework: _chain_run(leaf(framework), length) for framework in frameworks}
    if "engine" in frameworks:
        runs["engine_gc_off"] = _chain_run(leaf("engine"), length, collector_on=False)
    for run in runs.values():
        # At least one whole chain: the allocator and the collector's thresholds reach the chain's size.
        warm_up(run, warmup_s, min_runs=1)
    return {name: _chain_figures(times, length) for name, times in _take_turns(runs, repeats).items()}
