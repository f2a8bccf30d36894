"""Two ranks under mpirun: each check of distributed_ranks.py in its own `mpirun -np 2`, and the failure drill.

Skipped, saying how to install them, without Open MPI's mpirun or mpi4py.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.nn.distributed_ranks import CHECKS

REPO = Path(__file__).resolve().parents[2]
MPIRUN = shutil.which("mpirun")
TIMEOUT_S = 300  # a hang is a failure, not a stuck suite

pytestmark = pytest.mark.skipif(
    MPIRUN is None or importlib.util.find_spec("mpi4py") is None,
    reason='needs mpirun and mpi4py: apt-get install openmpi-bin libopenmpi-dev; pip install -e ".[distributed]"',
)


def mpirun(*args: str, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """`mpirun -np 2 python -m tests.nn.distributed_ranks *args` from the repository, one BLAS thread per rank."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    command = [MPIRUN, "-np", "2", "--oversubscribe", "--allow-run-as-root"]
    command += [sys.executable, "-m", "tests.nn.distributed_ranks", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("check", CHECKS)
def test_check_passes_on_two_ranks(check):
    done = mpirun(check)
    assert done.returncode == 0, f"mpirun exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert f"ok {check}" in done.stdout.splitlines()


def test_an_exception_on_one_rank_ends_every_rank_within_seconds():
    started = time.perf_counter()
    done = mpirun("raise", timeout=60)
    elapsed = time.perf_counter() - started
    output = done.stdout + done.stderr
    assert done.returncode != 0 and elapsed < 30, f"exit {done.returncode} after {elapsed:.0f} s:\n{output}"
    assert "ValueError: deliberate failure on rank 1" in output
    assert "rank 1 of 2 failed; aborting every rank" in output
    assert "ok raise" not in output
