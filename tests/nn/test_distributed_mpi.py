"""Two ranks under mpirun: each check of distributed_ranks.py in its own `mpirun -np 2`, and the failure drill.

Skipped, saying how to install them, without Open MPI's mpirun or mpi4py.
"""

import time

import pytest

from tests.mpi import mpirun, needs_mpi
from tests.nn.distributed_ranks import CHECKS


@needs_mpi
@pytest.mark.parametrize("check", CHECKS)
def test_check_passes_on_two_ranks(check):
    done = mpirun("-m", "tests.nn.distributed_ranks", check)
    assert done.returncode == 0, f"mpirun exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert f"ok {check}" in done.stdout.splitlines()


@needs_mpi
def test_an_exception_on_one_rank_ends_every_rank_within_seconds():
    started = time.perf_counter()
    done = mpirun("-m", "tests.nn.distributed_ranks", "raise", timeout=60)
    elapsed = time.perf_counter() - started
    output = done.stdout + done.stderr
    assert done.returncode != 0 and elapsed < 30, f"exit {done.returncode} after {elapsed:.0f} s:\n{output}"
    assert "ValueError: deliberate failure on rank 1" in output
    assert "rank 1 of 2 failed; aborting every rank" in output
    assert "ok raise" not in output
