"""Peak memory of one CNN training step (benchmarks.train_step's CNN, batch 64), engine vs PyTorch.

    python -m benchmarks.memory [--threads N] [--no-torch]

Each implementation runs in a fresh process of its own (the engine's with torch kept out), which
imports and builds the weights and the batch, then reads its resident set (VmRSS): the baseline. It runs
one warm-up step, resets the peak (Linux: writing 5 to /proc/self/clear_refs resets VmHWM), runs one
step and reads the peak (VmHWM). The figure is that peak above the baseline, in MB (10**6 bytes): the
memory a warmed-up step occupies, whether freshly faulted in or kept by the allocator since the
warm-up. Also recorded: the first step's peak above the baseline, and the peak above the resident set
just before the measured step, which leaves out whatever the allocator kept from the warm-up (PyTorch
keeps nearly all of it, so its figure there is a few MB and says little).

Where /proc is missing, the engine's figure is tracemalloc's peak of the step's Python and numpy
allocations instead, and torch's is unavailable (its allocations are invisible to tracemalloc).
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")
NETWORK = "cnn"
IMPLEMENTATIONS = ("engine", "torch")


def _status_kb(field: str) -> int:
    """A `field:  <n> kB` line of /proc/self/status, in kB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"memory: {STATUS} must have a {field} line, got none")


def _mb(kb: int) -> float:
    return round(kb * 1024 / 1e6, 1)


def proc_available() -> bool:
    return CLEAR_REFS.exists() and STATUS.exists()


def measure_step(impl: str, threads: int, method: str) -> dict:
    """Peak memory of one step of `impl` in this process (see the module docstring); run in a fresh one.

    method: "proc" (VmHWM and VmRSS) or "tracemalloc" (the engine only).
    """
    if method not in ("proc", "tracemalloc") or (method == "tracemalloc" and impl != "engine"):
        raise ValueError(
            f"measure_step: method must be 'proc', or 'tracemalloc' for the engine, got {method!r} for {impl}"
        )
    # Imported here, not at the top: the engine's child process keeps torch out before train_step would load it.
    from benchmarks import train_step

    train_step.set_numpy_blas_threads(threads)
    if impl == "torch":
        train_step.torch.set_num_threads(threads)
    step = train_step.make_steppers(NETWORK, use_torch=impl == "torch")[impl]
    gc.collect()
    if method == "proc":
        CLEAR_REFS.write_text("5")
        baseline_kb = _status_kb("VmRSS")
        step()  # warm-up: lazy imports, BLAS buffers, the allocator's first arenas
        first_peak_kb = _status_kb("VmHWM")
        gc.collect()
        CLEAR_REFS.write_text("5")
        before_step_kb = _status_kb("VmRSS")
        step()
        peak_kb = _status_kb("VmHWM")
        return {
            "above_baseline_mb": _mb(peak_kb - baseline_kb),
            "first_step_above_baseline_mb": _mb(first_peak_kb - baseline_kb),
            "above_rss_before_step_mb": _mb(peak_kb - before_step_kb),
            "baseline_mb": _mb(baseline_kb),
            "rss_before_step_mb": _mb(before_step_kb),
            "peak_mb": _mb(peak_kb),
            "method": "VmHWM, VmRSS (/proc/self/status)",
        }
    step()  # warm-up, as above
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"above_baseline_mb": round((peak - start) / 1e6, 1), "method": "tracemalloc peak of the step"}


def measure(impls: list[str], threads: int) -> dict:
    """{impl: measure_step's figures}, each from a fresh `python -m benchmarks.memory --child impl` process.

    Without /proc, the engine falls back to tracemalloc and torch gets {"unavailable": why}.
    """
    method = "proc" if proc_available() else "tracemalloc"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    children = {}
    results = {}
    for impl in impls:
        if impl == "torch" and method != "proc":
            results[impl] = {"unavailable": "no /proc/self/clear_refs to read torch's peak from (not Linux?)"}
            continue
        command = [sys.executable, "-m", "benchmarks.memory", "--child", impl, "--threads", str(threads)]
        command += ["--method", method]
        # Peak memory does not depend on timing, so the children may share the cores.
        children[impl] = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for impl, child in children.items():
        out, err = child.communicate()
        if child.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(
                f"memory: the {impl} child process must exit with 0, got {child.returncode}:\n  " + "\n  ".join(tail)
            )
        results[impl] = json.loads(out.decode().strip().splitlines()[-1])
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for numpy's OpenBLAS and torch (default 2)")
    parser.add_argument("--no-torch", action="store_true", help="measure the engine only")
    parser.add_argument(
        "--child",
        choices=IMPLEMENTATIONS,
        default=None,
        help="internal: measure this implementation in this process and print its figures as JSON",
    )
    parser.add_argument(
        "--method",
        choices=("proc", "tracemalloc"),
        default="proc",
        help="with --child: read the peak from /proc (default) or from tracemalloc (engine only)",
    )
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.child:
        if args.child == "engine":
            # train_step imports torch when it can; its libraries would only blur the engine's baseline.
            sys.modules["torch"] = None
        print(json.dumps(measure_step(args.child, args.threads, args.method)))
        return 0
    impls = ["engine"] if args.no_torch else list(IMPLEMENTATIONS)
    for impl, figures in measure(impls, args.threads).items():
        print(f"{impl}: {json.dumps(figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
