"""How tests start a Python program on two MPI ranks, and skip (saying how to install) without MPI."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MPIRUN = shutil.which("mpirun")
# CI sets NODEGRAD_REQUIRE_MPI=1 where it has installed MPI, so that a broken install fails instead of skipping.
_MISSING = MPIRUN is None or importlib.util.find_spec("mpi4py") is None
_SKIP = pytest.mark.skipif(
    _MISSING and not os.environ.get("NODEGRAD_REQUIRE_MPI"),
    reason='needs mpirun and mpi4py: apt-get install openmpi-bin libopenmpi-dev; pip install -e ".[distributed]"',
)


def needs_mpi(test):
    """Mark a test that starts mpirun: `pytest -m mpi` selects these, and they skip without MPI."""
    return pytest.mark.mpi(_SKIP(test))


def mpirun(*python_args: str, cwd: Path = REPO, timeout: float = 300, env: dict | None = None):
    """`mpirun -np 2 python *python_args` with the repository importable and one BLAS thread per rank.

    Returns the subprocess.CompletedProcess (text output captured); a run past `timeout` seconds raises
    subprocess.TimeoutExpired, so a hang fails the test instead of stalling the suite.
    """
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **(env or {}), "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    command = [MPIRUN, "-np", "2", "--oversubscribe", "--allow-run-as-root", sys.executable, *python_args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
