"""Time what an nn.Monitor costs a training run: an MLP 784-256-10 trained by optim.Solver on random data.

    python -m benchmarks.monitor_overhead [--repeat N] [--iterations N] [--every N] [--bins N]

Each run trains a fresh model from the same seed for `--iterations` updates of batch 128 (SGD with
momentum, an accuracy check per epoch on 256 examples), once plain and once with a Monitor attached that
samples every `--every` iterations (statistics and histograms of every weight and gradient). Runs are
interleaved in one process, alternating which goes first, after a warm-up of each, so clock drift and
BLAS spin-up hit both alike. The figure is median(with) / median(without); the goal is <= 1.05.

Both wall-clock time and this process's CPU time are measured: on a machine shared with other work,
wall time swings by multiples between identical runs, while CPU time counts only what this process
did. The time spent inside the monitor's callback is measured too, a direct estimate of its cost.
With multi-threaded BLAS on a busy machine, threads spin waiting for each other and even CPU time
swings; `OPENBLAS_NUM_THREADS=1 python -m benchmarks.monitor_overhead` gives steady figures there.
"""

import argparse
import statistics
import time

import numpy as np

import autograd as ag
import nn
from optim import Solver

GOAL = 1.05
BATCH = 128
ITERATIONS_PER_EPOCH = 30


def make_data(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n = BATCH * ITERATIONS_PER_EPOCH
    return {
        "X_train": rng.standard_normal((n, 784)).astype(np.float32),
        "y_train": rng.integers(0, 10, n),
        "X_val": rng.standard_normal((256, 784)).astype(np.float32),
        "y_val": rng.integers(0, 10, 256),
    }


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def train_once(data: dict, iterations: int, monitor: nn.Monitor | None) -> dict:
    """{clock: (seconds for Solver.train(), seconds of it inside the monitor's callback)} for `iterations`
    updates of a fresh 784-256-10 MLP."""
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    solver = Solver(
        model,
        data,
        update_rule="sgd_momentum",
        num_epochs=iterations // ITERATIONS_PER_EPOCH,
        batch_size=BATCH,
        num_train_samples=256,
        verbose=False,
        seed=0,
    )
    inside = dict.fromkeys(CLOCKS, 0.0)
    if monitor is not None:
        monitor.attach(solver)
        callback = solver.on_iteration.pop()

        def timed(s):
            starts = {name: clock() for name, clock in CLOCKS.items()}
            callback(s)
            for name, clock in CLOCKS.items():
                inside[name] += clock() - starts[name]

        solver.on_iteration.append(timed)
    starts = {name: clock() for name, clock in CLOCKS.items()}
    solver.train()
    result = {name: (clock() - starts[name], inside[name]) for name, clock in CLOCKS.items()}
    if monitor is not None and len(monitor.iterations) != iterations // monitor.every:
        raise RuntimeError(
            f"monitor_overhead: expected {iterations // monitor.every} samples, got {len(monitor.iterations)}"
        )
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each variant")
    parser.add_argument("--iterations", type=int, default=300, help="updates per run (a multiple of 30)")
    parser.add_argument("--every", type=int, default=10, help="the Monitor samples every N iterations")
    parser.add_argument("--bins", type=int, default=30, help="histogram bins per parameter")
    args = parser.parse_args(argv)
    if args.iterations < ITERATIONS_PER_EPOCH or args.iterations % ITERATIONS_PER_EPOCH:
        parser.error(f"--iterations must be a positive multiple of {ITERATIONS_PER_EPOCH}, got {args.iterations}")

    data = make_data()
    variants = {
        "plain": lambda: train_once(data, args.iterations, None),
        "monitor": lambda: train_once(data, args.iterations, nn.Monitor(every=args.every, bins=args.bins)),
    }
    for run in variants.values():
        run()  # warm-up: page in the arrays, spin up BLAS threads
    runs = {name: [] for name in variants}
    for r in range(args.repeat):
        for name in list(variants) if r % 2 == 0 else list(reversed(variants)):
            runs[name].append(variants[name]())

    samples = args.iterations // args.every
    print(
        f"MLP 784-256-10, batch {BATCH}, {args.iterations} iterations, {args.repeat} interleaved runs each; "
        f"Monitor every {args.every} ({samples} samples), {args.bins} bins"
    )
    ratios = {}
    for clock in CLOCKS:
        plain = [run[clock][0] for run in runs["plain"]]
        monitored = [run[clock][0] for run in runs["monitor"]]
        inside = statistics.median(run[clock][1] for run in runs["monitor"])
        middle = statistics.median(plain), statistics.median(monitored)
        ratio = ratios[clock] = middle[1] / middle[0]
        paired = statistics.median(m / p for m, p in zip(monitored, plain))
        print(f"  {clock} time (ms): plain   " + " ".join(f"{t * 1e3:.0f}" for t in plain))
        print(f"  {' ' * len(clock)}            monitor " + " ".join(f"{t * 1e3:.0f}" for t in monitored))
        print(
            f"    median plain {middle[0] * 1e3:.0f}, with monitor {middle[1] * 1e3:.0f}; "
            f"inside the monitor {inside / samples * 1e3:.2f} ms per sample"
        )
        print(
            f"    ratio with / without: {ratio:.3f} (medians), {paired:.3f} (paired runs), "
            f"{1 + inside / middle[0]:.3f} (1 + inside / plain); goal <= {GOAL}: "
            f"{'met' if ratio <= GOAL else 'NOT met'}"
        )
    return ratios


if __name__ == "__main__":
    main()
