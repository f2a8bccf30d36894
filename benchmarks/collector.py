"""What Python's cyclic garbage collector costs while a long engine graph is alive.

    python -m benchmarks.collector          # a live 100,000-op chain: one full collection, objects per op

The chain row's build time (benchmarks.chain) is mostly full collections: the collector runs several
as the graph grows, each visiting every live node and everything it refers to. The objects it tracks
per op are an exact count, the figure to watch when a change adds or removes objects per op; the time
of one collection also moves with where the objects happen to lie in memory (adding one function to
a module imported first moved it by 10%), so compare it only between runs of one checkout.
"""

import gc
import time

from benchmarks.chain import chain, leaf


def full_collection(length: int = 100_000, repeats: int = 5) -> dict:
    """The best of `repeats` full collections (CPU seconds) with a live `length`-op chain, and the
    objects the collector tracks per op of it."""
    x = leaf("engine")
    gc.collect()
    before = len(gc.get_objects())
    y = chain(x, length)
    gc.collect()
    tracked_per_op = (len(gc.get_objects()) - before) / length
    seconds = []
    for _ in range(repeats):
        t0 = time.process_time()
        gc.collect()
        seconds.append(time.process_time() - t0)
    del y
    return {"seconds": min(seconds), "tracked_per_op": round(tracked_per_op, 2), "length": length}


if __name__ == "__main__":
    figures = full_collection()
    print(
        f"one full collection with a live {figures['length']:,}-op chain: {figures['seconds'] * 1e3:.0f} ms "
        f"(best of 5, CPU time); objects the collector tracks per op: {figures['tracked_per_op']}"
    )
