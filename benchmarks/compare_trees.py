"""Two (or more) checkouts of nodegrad timed in one process, taking turns: what a change to the core costs.

    git worktree add ../before HEAD~1
    python -m benchmarks.compare_trees ../before .            # per-op figures and the train steps
    python -m benchmarks.compare_trees ../before . --rounds 40 --no-train
    python -m benchmarks.compare_trees ../before . --no-train --chain      # and the 100,000-op chain

Separate processes on a shared machine differ by 10% or more for the same code; here each tree's
packages are imported under their usual names one after the other (the modules of the previous tree
are dropped from `sys.modules` first; its functions keep their own globals), and the trees' workloads
then run in turns, round after round. Each figure is the best of its rounds, in CPU time of this
process (so time stolen by other processes does not count) for the 1-element per-op figures and in
wall time for the train steps (whose BLAS threads' CPU time would count their spinning). The last
column is the last tree's figure over the first's.
"""

import argparse
import gc
import importlib
import sys
import time
import timeit

import numpy as np

PACKAGES = ("autograd", "nn", "optim", "benchmarks")


def load(tree: str, train: bool, long_chain: bool = False) -> dict:
    """The workloads of the checkout at `tree`: {name: (function, calls per timing, timer)}."""
    for name in [m for m in sys.modules if m.split(".")[0] in PACKAGES]:
        del sys.modules[name]
    sys.path.insert(0, tree)
    try:
        ag = importlib.import_module("autograd")
        chain = importlib.import_module("benchmarks.chain").chain
        train_step = importlib.import_module("benchmarks.train_step")
    finally:
        sys.path.remove(tree)
    x = ag.tensor(np.ones((), np.float32), requires_grad=True)
    w = ag.tensor(np.ones((), np.float32), requires_grad=True)

    def backward_of(graph):
        graph.backward()
        x.grad = None

    cpu, wall = time.process_time, time.perf_counter
    workloads = {
        "x * 1.0001 forward, us": (lambda: x * 1.0001, 4000, cpu),
        "x * w forward, us": (lambda: x * w, 4000, cpu),
        "x.tanh() forward, us": (lambda: x.tanh(), 4000, cpu),
        "backward() of a leaf, us": (lambda: backward_of(x), 1000, cpu),
        "1-op graph fwd+bwd, us": (lambda: backward_of(x * 1.0001), 1000, cpu),
        "8-op graph fwd+bwd, us": (lambda: backward_of(chain(x, 8)), 300, cpu),
    }
    if long_chain:

        def build_and_backward():
            gc.enable()  # timeit turns the collector off, and most of a long chain's build is its collections
            backward_of(chain(x, 100_000))

        workloads["100,000-op chain build+backward, ms"] = (build_and_backward, 1, cpu)
    for network in train_step.NETWORKS if train else ():
        steppers = train_step.make_steppers(network, use_torch=False)
        for impl in ("engine", "reference"):
            workloads[f"train step {network} {impl}, ms"] = (steppers[impl], 20 if network == "mlp" else 3, wall)
    return workloads


def run(trees: list, rounds: int, train: bool, long_chain: bool = False) -> list:
    """Per tree, {figure: best time per call} over `rounds` rounds in which every tree runs every workload."""
    loaded = [load(tree, train, long_chain) for tree in trees]
    best = [{} for _ in trees]
    for _ in range(rounds):
        for figures, tree in zip(best, loaded):
            for name, (fn, calls, timer) in tree.items():
                scale = 1e3 if name.endswith("ms") else 1e6
                seconds = min(timeit.repeat(fn, number=calls, repeat=2, timer=timer)) / calls
                figures[name] = min(seconds * scale, figures.get(name, float("inf")))
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", help="checkouts of nodegrad (each with autograd/ and benchmarks/)")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-train", action="store_true", help="skip the MLP and CNN train steps")
    parser.add_argument("--chain", action="store_true", help="also a 100,000-op chain's build and backward (slow)")
    args = parser.parse_args(argv)
    best = run(args.trees, args.rounds, not args.no_train, args.chain)
    names = list(best[0])
    print(f"{'':32}" + "".join(f"{tree[-18:]:>20}" for tree in args.trees) + "   last/first")
    for name in names:
        row = "".join(f"{figures[name]:20.3f}" for figures in best)
        print(f"{name:32}{row}   {best[-1][name] / best[0][name]:.3f}")


if __name__ == "__main__":
    main()
