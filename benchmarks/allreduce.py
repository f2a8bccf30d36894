"""What data-parallel training of the MNIST CNN costs in communication, measured here and estimated beyond.

    python -m benchmarks.allreduce                                   # bytes per step and the cost model
    mpirun -np 2 python -m benchmarks.allreduce                      # also times the all-reduce itself
    python -m benchmarks.allreduce --step-ms 15.5 --latency-us 30 5

Bytes: DistributedDataParallel's buckets for demos/mnist_cnn.py's plain model (benchmarks.epoch.model),
float32 as the demo trains it. Under mpirun every bucket is all-reduced 200 times and the median is printed.

The estimate is the ring all-reduce cost model: each of N ranks sends and receives 2 (N - 1) / N of a
bucket's bytes, in 2 (N - 1) messages that each pay the link's latency; nothing overlaps with compute (the
model's gradients fit in one bucket, which fills only when backward ends). Efficiency is compute / (compute
+ communication), for a fixed batch per rank (weak scaling: the global batch grows with N) and for a fixed
global batch split over the ranks (strong scaling, with the optimistic assumption that compute shrinks as 1/N).
"""

import argparse
import statistics
import time

import numpy as np

import nn
from benchmarks.epoch import model
from nn import distributed

WORLDS = (2, 8, 64)
LINKS_GBIT = (10, 100)


def bucket_bytes() -> list[int]:
    """The sizes of the flat gradient buckets DistributedDataParallel sends per step for the MNIST CNN."""
    ddp = nn.parallel.DistributedDataParallel(model(nn))
    return [bucket.flat.nbytes for bucket in ddp._reducer.buckets]


def time_all_reduce(sizes: list[int], repeats: int = 200) -> float:
    """Median seconds of one step's all-reduces (every bucket, in turn) over the ranks of this mpirun."""
    buffers = [np.ones(size // 4, np.float32) for size in sizes]
    times = []
    for _ in range(repeats):
        distributed.barrier()
        started = time.perf_counter()
        for buffer in buffers:
            distributed.all_reduce(buffer, op="mean")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ring_seconds(sizes: list[int], ranks: int, gbit_per_s: float, latency_s: float) -> float:
    """One step's all-reduces by the ring model: 2 (N-1) messages per bucket, 2 (N-1)/N of its bytes each way."""
    steps = 2 * (ranks - 1)
    return sum(steps * latency_s + steps / ranks * size * 8 / (gbit_per_s * 1e9) for size in sizes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.allreduce", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--step-ms",
        type=float,
        default=15.5,
        help="one rank's compute per step (default: 15.5, "
        "the MNIST CNN's measured update of 64 images alone on one core of the development machine)",
    )
    parser.add_argument(
        "--latency-us",
        type=float,
        nargs=2,
        default=(30.0, 5.0),
        metavar=("SLOW", "FAST"),
        help="per-message latency of the 10 and the 100 Gbit/s link (default: 30 5, TCP over Ethernet and RDMA)",
    )
    args = parser.parse_args(argv)
    sizes = bucket_bytes()
    rank, world = distributed.get_rank(), distributed.get_world_size()
    measured = time_all_reduce(sizes) if world > 1 else None
    if rank != 0:
        return 0
    print(f"MNIST CNN: {sum(sizes):,} bytes of float32 gradients per step in {len(sizes)} bucket(s)")
    for ranks in WORLDS:
        each = 2 * (ranks - 1) / ranks * sum(sizes)
        print(f"  ring all-reduce on {ranks} ranks: each rank sends and receives {each:,.0f} bytes")
    if measured is not None:
        print(f"measured, {world} ranks on this machine (shared memory): {measured * 1e3:.3f} ms per step's all-reduce")
    compute = args.step_ms / 1e3
    print(
        f"\nestimate, {args.step_ms} ms of compute per step and rank (weak: fixed batch per rank; strong: fixed global)"
    )
    print(f"{'ranks':>5} {'link':>9} {'latency':>8} {'comm ms':>8} {'weak eff':>9} {'strong eff':>11}")
    for ranks in WORLDS:
        for gbit, latency_us in zip(LINKS_GBIT, args.latency_us):
            comm = ring_seconds(sizes, ranks, gbit, latency_us * 1e-6)
            weak, strong = compute / (compute + comm), (compute / ranks) / (compute / ranks + comm)
            print(f"{ranks:>5} {gbit:>4} Gbit/s {latency_us:>6.0f}us {comm * 1e3:>8.3f} {weak:>9.1%} {strong:>11.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
