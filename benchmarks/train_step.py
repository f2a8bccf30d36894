"""Time one float32 training step (forward, softmax cross-entropy, backward, SGD) of two networks.

    python -m benchmarks.train_step [--repeat N] [--quick] [--json PATH] [--threads N] [--no-torch]
    NODEGRAD_MALLOPT=0 python -m benchmarks.train_step      # the same with glibc's malloc defaults

Networks: an MLP 784-512-256-10 on a batch of 128, and a CNN conv3x3(32)-relu-pool-conv3x3(64)-relu-
pool-linear(128)-relu-linear(10) on a batch of 64 of 1x28x28. Each runs as the engine (autograd ops,
loss.backward(), p.value -= lr * p.grad), as the hand-written numpy of benchmarks/reference.py and,
when torch is installed, as PyTorch. All start from the same weights and batch. The script first
checks that engine and reference agree on the loss and every gradient (np.allclose, rtol 1e-4, atol
1e-5 of the gradient's largest entry) and refuses to time if not; torch is checked too, and left out
of the timing if it disagrees.

Each implementation is warmed up (BLAS threads spin up on the first calls), then engine and reference
steps alternate in one process so that drifting clocks and other processes hit both alike; for
engine/torch, blocks of engine steps alone alternate with blocks of torch steps (time_network says
why). The figure is the median step time. The project's goal is
engine / reference <= 1.10. The table also shows the page faults per step and the CPU that other
processes took meanwhile (in cores): on a shared 2-core machine that inflates every time.

Importing autograd keeps freed memory in glibc's heap (autograd/allocator.py), which saves the page
faults of large temporaries on every step. The setting is process-wide, so it applies to all three
implementations alike; NODEGRAD_MALLOPT=0 measures with glibc's defaults instead.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

import numpy as np

import autograd as ag
from benchmarks import reference

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

GOAL = 1.10
TORCH_ROUNDS = 6  # engine-alone and torch blocks alternate this many times: the machine drifts between speeds
LR = 0.01
RTOL = 1e-4
# float32 sums in another order (another GEMM blocking, a channels-last im2col, oneDNN) differ by a
# few ulps of the gradient's scale, and entries near zero have no relative precision to speak of; a
# wrong gradient is off by the scale itself. So: np.allclose(rtol=RTOL, atol=ATOL_SCALE * max |grad|).
ATOL_SCALE = 1e-5
NETWORKS = ("mlp", "cnn")


# ----- weights and batch -----
def make_workload(name: str, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """He-initialised float32 parameters (linear weights are (in, out)), a batch and its labels."""
    rng = np.random.default_rng(seed)
    if name == "mlp":
        shapes = {"w1": (784, 512), "b1": (512,), "w2": (512, 256), "b2": (256,), "w3": (256, 10), "b3": (10,)}
        x = rng.standard_normal((128, 784))
    else:
        shapes = {
            "conv1_w": (32, 1, 3, 3),
            "conv1_b": (32,),
            "conv2_w": (64, 32, 3, 3),
            "conv2_b": (64,),
            "fc1_w": (3136, 128),
            "fc1_b": (128,),
            "fc2_w": (128, 10),
            "fc2_b": (10,),
        }
        x = rng.standard_normal((64, 1, 28, 28))
    params = {}
    for key, shape in shapes.items():
        fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
        scale = math.sqrt(2 / fan_in) if len(shape) > 1 else 0.01
        params[key] = (rng.standard_normal(shape) * scale).astype(np.float32)
    y = rng.integers(0, 10, size=len(x))
    return params, x.astype(np.float32), y


# ----- the three implementations: each step(params, x, y) runs forward, backward and SGD -----
# The engine's linear layer is its fused `linear` op (what nn.Linear calls), with PyTorch's (out, in)
# weights; these keys hold the same weights transposed, and their gradients are compared transposed.
# Like nn.Linear's, they keep the (in, out) memory layout: the transpose is a view.
ENGINE_TRANSPOSED = {"w1", "w2", "w3", "fc1_w", "fc2_w"}


def engine_params(params: dict) -> dict:
    return {k: ag.tensor(v.copy().T if k in ENGINE_TRANSPOSED else v, requires_grad=True) for k, v in params.items()}


def engine_loss(name, p, x, y):
    if name == "mlp":
        h = ag.relu(ag.linear(x, p["w1"], p["b1"]))
        h = ag.relu(ag.linear(h, p["w2"], p["b2"]))
        return ag.cross_entropy(ag.linear(h, p["w3"], p["b3"]), y)
    h = ag.max_pool2d(ag.relu(ag.conv2d(x, p["conv1_w"], p["conv1_b"], padding=1)), 2)
    h = ag.max_pool2d(ag.relu(ag.conv2d(h, p["conv2_w"], p["conv2_b"], padding=1)), 2)
    h = ag.relu(ag.linear(h.reshape(len(y), -1), p["fc1_w"], p["fc1_b"]))
    return ag.cross_entropy(ag.linear(h, p["fc2_w"], p["fc2_b"]), y)


def engine_step(name, p, x, y, lr):
    loss = engine_loss(name, p, x, y)
    loss.backward()
    for t in p.values():
        t.value -= lr * t.grad
        t.grad = None
    return loss


def torch_loss(name, p, x, y):
    if name == "mlp":
        h = F.relu(torch.addmm(p["b1"], x, p["w1"]))
        h = F.relu(torch.addmm(p["b2"], h, p["w2"]))
        return F.cross_entropy(torch.addmm(p["b3"], h, p["w3"]), y)
    h = F.max_pool2d(F.relu(F.conv2d(x, p["conv1_w"], p["conv1_b"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2_w"], p["conv2_b"], padding=1)), 2)
    h = F.relu(torch.addmm(p["fc1_b"], h.reshape(len(y), -1), p["fc1_w"]))
    return F.cross_entropy(torch.addmm(p["fc2_b"], h, p["fc2_w"]), y)


def torch_step(name, p, x, y, lr):
    loss = torch_loss(name, p, x, y)
    loss.backward()
    with torch.no_grad():
        for t in p.values():
            t.add_(t.grad, alpha=-lr)
            t.grad = None
    return loss


def make_steppers(name: str, use_torch: bool) -> dict:
    """Zero-argument step functions, one per implementation, each on its own copy of the weights."""
    params, x, y = make_workload(name)
    ref_params = {k: v.copy() for k, v in params.items()}
    eng_params = engine_params(params)
    eng_x = ag.tensor(x)
    steppers = {
        "engine": lambda: engine_step(name, eng_params, eng_x, y, LR),
        "reference": lambda: reference.sgd_step(name, ref_params, x, y, LR),
    }
    if use_torch:
        t_params = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        t_x, t_y = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        steppers["torch"] = lambda: torch_step(name, t_params, t_x, t_y, LR)
    return steppers


# ----- agreement check -----
def _mismatches(what: str, ref_loss, ref_grads: dict, loss, grads: dict) -> list[str]:
    """What differs beyond np.allclose(rtol=RTOL, atol=ATOL_SCALE * max |reference gradient|)."""
    problems = []
    if not np.allclose(loss, ref_loss, rtol=RTOL):
        problems.append(f"{what}: loss {float(loss):.7g} != reference {float(ref_loss):.7g}")
    for key, g_ref in ref_grads.items():
        g = grads[key]
        atol = max(ATOL_SCALE * float(np.abs(g_ref).max()), 1e-8)
        if g is None or g.shape != g_ref.shape or not np.allclose(g, g_ref, rtol=RTOL, atol=atol):
            diff = (
                "missing"
                if g is None
                else f"shape {g.shape}"
                if g.shape != g_ref.shape
                else (f"max |diff| {np.abs(g - g_ref).max():.3g}, max |grad| {np.abs(g_ref).max():.3g}")
            )
            problems.append(f"{what}: gradient of {key} differs from the reference ({diff})")
    return problems


def check_agreement(name: str, use_torch: bool) -> tuple[list[str], list[str]]:
    """(engine problems, torch problems): empty lists when loss and gradients match the reference."""
    params, x, y = make_workload(name)
    ref_loss, ref_grads = reference.LOSS_AND_GRADS[name]({k: v.copy() for k, v in params.items()}, x, y)
    eng = engine_params(params)
    loss = engine_loss(name, eng, ag.tensor(x), y)
    loss.backward()
    grads = {k: t.grad.T if k in ENGINE_TRANSPOSED else t.grad for k, t in eng.items()}
    engine_problems = _mismatches(f"{name} engine", ref_loss, ref_grads, loss.item(), grads)
    torch_problems = []
    if use_torch:
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        t_loss = torch_loss(name, tp, torch.from_numpy(x), torch.from_numpy(y))
        t_loss.backward()
        torch_problems = _mismatches(
            f"{name} torch",
            ref_loss,
            ref_grads,
            t_loss.item(),
            {k: t.grad.numpy() for k, t in tp.items()},
        )
    return engine_problems, torch_problems


# ----- timing -----
def warm_up(step, seconds: float, min_runs: int = 3) -> float:
    """Run `step` for at least `seconds` (and `min_runs` times); return the mean time of the last half."""
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < min_runs:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    tail = times[len(times) // 2 :]
    return sum(tail) / len(tail)


class OtherLoad:
    """CPU time that other processes used while the block ran, in cores (Linux /proc/stat; else None)."""

    def __enter__(self):
        self.start = (_busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter())
        return self

    def __exit__(self, *exc):
        busy, own, wall = _busy_cpu_seconds(), _own_cpu_seconds(), time.perf_counter()
        if busy is None or self.start[0] is None:
            self.cores = None
        else:
            other = (busy - self.start[0]) - (own - self.start[1])
            self.cores = round(max(other, 0.0) / (wall - self.start[2]), 2)
        return False


def _busy_cpu_seconds() -> float | None:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _timed_steps(steppers: dict, repeat: int) -> dict:
    """Run each step `repeat` times, interleaved with a rotating order: {impl: (ms per step, page faults)}."""
    impls = list(steppers)
    times = {impl: [] for impl in impls}
    faults = dict.fromkeys(impls, 0)
    for r in range(repeat):
        for k in range(len(impls)):
            impl = impls[(r + k) % len(impls)]
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter_ns()
            steppers[impl]()
            t1 = time.perf_counter_ns()
            faults[impl] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
            times[impl].append((t1 - t0) / 1e6)
    return {impl: (times[impl], faults[impl] / repeat) for impl in impls}


def time_network(steppers: dict, repeat: int | None, budget: float, warmup: float) -> dict:
    """Median ms per step of each implementation.

    Engine and reference steps alternate, for engine/reference. Torch cannot alternate with them: its
    OpenMP threads and numpy's OpenBLAS threads both spin a while after each call, and on a 2-core
    machine each pool would wait for the other's. So for engine/torch the engine also runs alone
    ("engine_alone"), in blocks that alternate with torch's, TORCH_ROUNDS of each, every block warmed
    up: both then run under the same conditions, and a drift of the machine's load hits both.
    """
    numpy_steppers = {impl: steppers[impl] for impl in ("engine", "reference")}
    estimates = {impl: warm_up(step, warmup) for impl, step in numpy_steppers.items()}
    if repeat is None:
        repeat = max(10, math.ceil(budget / max(estimates.values())))
    runs = _timed_steps(numpy_steppers, repeat)
    if "torch" in steppers:
        block = max(3, math.ceil(repeat / TORCH_ROUNDS))
        blocks = {"engine_alone": steppers["engine"], "torch": steppers["torch"]}
        for impl in blocks:
            runs[impl] = ([], 0.0)
        for _ in range(TORCH_ROUNDS):
            for impl, step in blocks.items():
                warm_up(step, warmup)
                times, faults = _timed_steps({impl: step}, block)[impl]
                runs[impl] = (runs[impl][0] + times, runs[impl][1] + faults / TORCH_ROUNDS)
    result = {"steps": repeat}
    for impl, (times, faults) in runs.items():
        q1, median, q3 = np.percentile(times, [25, 50, 75])
        result[impl] = {
            "median_ms": round(median, 4),
            "q1_ms": round(q1, 4),
            "q3_ms": round(q3, 4),
            "min_ms": round(min(times), 4),
            "page_faults_per_step": round(faults, 1),
        }
    result["engine_over_reference"] = round(result["engine"]["median_ms"] / result["reference"]["median_ms"], 3)
    if "torch" in result:
        result["engine_over_torch"] = round(result["engine_alone"]["median_ms"] / result["torch"]["median_ms"], 3)
        result["reference_over_torch"] = round(result["reference"]["median_ms"] / result["torch"]["median_ms"], 3)
    return result


# ----- environment -----
def malloc_label() -> str:
    if ag.allocator.tuned:
        return (
            f"glibc tuned by autograd (M_MMAP_THRESHOLD={ag.allocator.MMAP_THRESHOLD >> 20} MB, M_TRIM_THRESHOLD="
            f"{ag.allocator.TRIM_THRESHOLD >> 20} MB)"
        )
    return "the allocator's defaults (NODEGRAD_MALLOPT=0, or not glibc)"


def _openblas(action: str):
    """numpy's OpenBLAS `<prefix>openblas_{action}_num_threads` C function, or None (another BLAS)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for path in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("", "")):
            fn = getattr(lib, f"{prefix}openblas_{action}_num_threads{suffix}", None)
            if fn is not None:
                return fn
    return None


def numpy_blas_threads() -> int | None:
    """Threads of the OpenBLAS that numpy loaded, read through its C API (None when unknown)."""
    get = _openblas("get")
    if get is None:
        return None
    get.restype = ctypes.c_int
    return get()


def set_numpy_blas_threads(n: int) -> bool:
    setter = _openblas("set")
    if setter is None:
        return False
    setter.argtypes = [ctypes.c_int]
    setter(n)
    return numpy_blas_threads() == n


def environment() -> dict:
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "numpy_blas": np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("name"),
        "numpy_blas_threads": numpy_blas_threads(),
        "torch": torch.__version__ if torch else None,
        "torch_threads": torch.get_num_threads() if torch else None,
        "dtype": "float32",
        "lr": LR,
        "malloc": malloc_label(),
    }
    return env


# ----- output -----
def format_table(results: dict, mode: str) -> str:
    has_torch = "torch" in results["mlp"]
    head = f"{'network':<8}{'engine ms':>11}{'ref ms':>9}" + (f"{'torch ms':>10}" if has_torch else "")
    head += (
        f"{'engine/ref':>12}"
        + (f"{'engine/torch':>14}" if has_torch else "")
        + f"{'faults/step e|r':>18}{'steps':>7}{'other load':>12}"
    )
    lines = [f"malloc: {mode}", head]
    for name in NETWORKS:
        r = results[name]
        row = f"{name:<8}{r['engine']['median_ms']:>11.2f}{r['reference']['median_ms']:>9.2f}"
        if has_torch:
            row += f"{r['torch']['median_ms']:>10.2f}"  # engine/torch: the engine-alone blocks, see time_network
        mark = "ok" if r["engine_over_reference"] <= GOAL else "!!"
        row += f"{r['engine_over_reference']:>9.2f}x {mark}"
        if has_torch:
            row += f"{r['engine_over_torch']:>13.2f}x"
        faults = f"{r['engine']['page_faults_per_step']:.0f}|{r['reference']['page_faults_per_step']:.0f}"
        load = r["other_processes_cpu_cores"]
        row += f"{faults:>18}{r['steps']:>7}" + (f"{load:>12.2f}" if load is not None else f"{'?':>12}")
        lines.append(row)
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_step", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed steps per implementation "
        "(default: enough for about 3 s of the slower of engine and reference; 0.6 s with --quick)",
    )
    parser.add_argument("--quick", action="store_true", help="short warm-up and budget: a smoke run, noisy figures")
    parser.add_argument(
        "--json",
        default=str(Path(__file__).with_name("results_train_step.json")),
        help="where to write the figures (default: benchmarks/results_train_step.json; the suite, python -m "
        "benchmarks, writes benchmarks/results.json)",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads for numpy's OpenBLAS and for torch (default 2; 1 suffers far less when other "
        "processes share the cores)",
    )
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if not set_numpy_blas_threads(args.threads):
        print(f"could not set numpy's BLAS threads to {args.threads} (not OpenBLAS?)", file=sys.stderr)
    use_torch = torch is not None and not args.no_torch
    if use_torch:
        torch.set_num_threads(args.threads)
    budget, warmup = (0.6, 0.3) if args.quick else (3.0, 0.5)

    env = environment()
    print(
        f"nodegrad train step, float32 | python {env['python']} | numpy {env['numpy']} "
        f"({env['numpy_blas']}, {env['numpy_blas_threads']} threads) | "
        + (f"torch {env['torch']} ({env['torch_threads']} threads)" if use_torch else "torch: skipped")
        + f" | {env['cpu_count']} cpus"
    )

    torch_ok = use_torch
    for name in NETWORKS:
        engine_problems, torch_problems = check_agreement(name, use_torch)
        if engine_problems:
            print("engine and reference disagree; not timing:\n  " + "\n  ".join(engine_problems), file=sys.stderr)
            return 1
        if torch_problems:
            print(
                "torch disagrees with the reference; timing without it:\n  " + "\n  ".join(torch_problems),
                file=sys.stderr,
            )
            torch_ok = False
    print(
        f"check: engine{' and torch' if torch_ok else ''} agree with the reference "
        f"(loss and every gradient: rtol {RTOL}, atol {ATOL_SCALE} x the gradient's largest entry)"
    )

    report = {
        "environment": env,
        "goal_engine_over_reference": GOAL,
        "budget_s": budget,
        "warmup_s": warmup,
        "results": {},
    }
    results = {}
    for name in NETWORKS:
        with OtherLoad() as load:
            results[name] = time_network(make_steppers(name, torch_ok), args.repeat, budget, warmup)
        results[name]["other_processes_cpu_cores"] = load.cores
    report["results"] = results
    print()
    print(format_table(results, malloc_label()))
    print(f"\ngoal: engine/ref <= {GOAL:.2f}x (ok / !!); times are medians of interleaved steps")
    busy = [r["other_processes_cpu_cores"] for r in report["results"].values()]
    if any(b is not None and b > 0.2 for b in busy):
        print(
            f"warning: other processes used up to {max(b for b in busy if b is not None):.1f} of "
            f"{env['cpu_count']} cores meanwhile; absolute times are inflated (ratios less so)"
        )

    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
