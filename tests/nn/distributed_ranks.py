"""The multi-rank checks, run by every rank: `mpirun -np 2 python -m tests.nn.distributed_ranks [check ...]`.

Each check asserts; a failing assertion on any rank ends every rank through nn.distributed's abort, so
mpirun exits non-zero. Rank 0 prints `ok <check>` after each check that passed on every rank.
test_distributed_mpi.py launches this; `.ci/run` too. `raise` is the failure drill: rank 1 raises while
rank 0 waits in a barrier that would otherwise never end.
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from nn import distributed


def check_collectives(rank: int, size: int) -> None:
    values = np.array([rank + 1.0, -(rank + 1.0)])
    expected = {"sum": [3.0, -3.0], "mean": [1.5, -1.5], "max": [2.0, -1.0], "min": [1.0, -2.0]}
    for op, result in expected.items():
        assert distributed.all_reduce(values.copy(), op=op).tolist() == result, op
    work = distributed.all_reduce(np.full(3, float(rank)), op="mean", async_op=True)
    assert work.wait().tolist() == [0.5] * 3
    assert distributed.broadcast(np.array([rank, rank]), src=1).tolist() == [1, 1]
    assert [a.tolist() for a in distributed.all_gather(np.array([rank, 10 * rank]))] == [[0, 0], [1, 10]]
    assert distributed.all_gather_object({"rank": rank}) == [{"rank": 0}, {"rank": 1}]


def check_on_rank_zero_writes_once(rank: int, size: int) -> None:
    folder = Path(distributed.broadcast_object(tempfile.mkdtemp() if rank == 0 else None))
    path = folder / "checkpoint.txt"

    def slow_write(text):
        time.sleep(0.3)  # the others would read too early if they did not wait
        path.write_text(text)
        return "written"

    assert distributed.on_rank_zero(slow_write, "rank 0's") == ("written" if rank == 0 else None)
    assert path.read_text() == "rank 0's"
    try:
        distributed.on_rank_zero(lambda: 1 / 0)
    except (ZeroDivisionError, RuntimeError) as error:
        expected = ZeroDivisionError if rank == 0 else RuntimeError
        assert type(error) is expected and (rank == 0 or "rank 0 failed in" in str(error)), error
    else:
        raise AssertionError("on_rank_zero: a failure on rank 0 must raise on every rank")


def check_raise(rank: int, size: int) -> None:
    if rank == 1:
        raise ValueError("deliberate failure on rank 1")
    distributed.barrier()  # rank 1 never comes: only the abort ends this


CHECKS = {
    "collectives": check_collectives,
    "on_rank_zero": check_on_rank_zero_writes_once,
}


def main(names: list) -> int:
    distributed.init()
    rank, size = distributed.get_rank(), distributed.get_world_size()
    if size != 2:
        raise SystemExit(f"distributed_ranks: run under mpirun -np 2, got a world of {size}")
    for name in names or CHECKS:
        {**CHECKS, "raise": check_raise}[name](rank, size)
        distributed.barrier()
        if rank == 0:
            print(f"ok {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
