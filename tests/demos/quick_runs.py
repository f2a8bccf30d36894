"""Demos run as a user runs them: `python -m demos.<name> ...` in a fresh folder, several side by side."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None


def start(name: str, *args, cwd: Path) -> subprocess.Popen:
    """`python -m demos.<name> *args` in `cwd`, with no real MNIST in reach and one BLAS thread
    (the suite may run beside other work on a small machine)."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    for var in ("NODEGRAD_MNIST", "NODEGRAD_DATA"):
        env.pop(var, None)
    env["XDG_CACHE_HOME"] = str(cwd / "cache")  # nor from the cache folder
    return subprocess.Popen(
        [sys.executable, "-m", f"demos.{name}", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_quick(names, tmp_path_factory) -> dict:
    """name -> (return code, stdout, stderr, folder) of each demo's `--quick --seed 1` run, all side by side."""
    started = {}
    for name in names:
        folder = tmp_path_factory.mktemp(name)
        started[name] = (start(name, "--quick", "--seed", "1", cwd=folder), folder)
    results = {}
    for name, (process, folder) in started.items():
        stdout, stderr = process.communicate(timeout=180)
        results[name] = (process.returncode, stdout, stderr, folder)
    return results
