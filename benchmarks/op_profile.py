"""Where a training step's time goes, per op family, forward and backward: engine vs reference.

    python -m benchmarks.op_profile [--network mlp|cnn|both] [--steps N] [--cpu-time]

Runs the steps of benchmarks.train_step with a timer around every Op.forward / Op.backward of the
engine and every layer function of benchmarks.reference, alternating engine and reference steps,
and prints the median per step of each. "rest" is the step minus its timed ops: the engine's graph
bookkeeping and Python dispatch, both SGD updates, and the reference's inline reshapes.

Wall time is the default. On a busy machine use --cpu-time with OPENBLAS_NUM_THREADS=1: the time
the main thread spent on the CPU does not count the time other processes took, and with one BLAS
thread it is all the work.
"""

import argparse
import collections
import sys
import time

import numpy as np

import autograd as ag
from benchmarks import reference, train_step

ENGINE_FAMILY = {
    "Conv2d": "conv2d",
    "MaxPool2d": "max_pool2d",
    "ReLU": "relu",
    "MatMul": "linear",
    "Linear": "linear",
    "Add": "linear",
    "CrossEntropy": "cross_entropy",
    "Reshape": "reshape",
}
REFERENCE_FAMILY = {
    "conv_forward": ("conv2d", "fwd"),
    "conv_backward": ("conv2d", "bwd"),
    "max_pool_forward": ("max_pool2d", "fwd"),
    "max_pool_backward": ("max_pool2d", "bwd"),
    "relu_forward": ("relu", "fwd"),
    "relu_backward": ("relu", "bwd"),
    "affine_forward": ("linear", "fwd"),
    "affine_backward": ("linear", "bwd"),
    "softmax_loss": ("cross_entropy", "fwd"),
}
FAMILIES = ("conv2d", "max_pool2d", "relu", "linear", "cross_entropy", "reshape")


class Timers:
    """Wraps engine ops and reference layers in timers; `spent` maps (impl, family, phase) to seconds."""

    def __init__(self, clock):
        self.clock = clock
        self.spent = collections.defaultdict(float)
        self._restore = []

    def _timed(self, fn, key):
        def timed(*args, **kwargs):
            t0 = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[key] += self.clock() - t0

        return timed

    def __enter__(self):
        for name, cls in ag.OP_REGISTRY.items():
            family = ENGINE_FAMILY.get(name, name)
            for phase, attr in (("fwd", "forward"), ("bwd", "backward")):
                self._restore.append((cls, attr, cls.__dict__.get(attr)))  # None: inherited from a base
                setattr(cls, attr, staticmethod(self._timed(getattr(cls, attr), ("engine", family, phase))))
        for name, (family, phase) in REFERENCE_FAMILY.items():
            original = getattr(reference, name)
            self._restore.append((reference, name, original))
            setattr(reference, name, self._timed(original, ("reference", family, phase)))
        return self

    def __exit__(self, *exc):
        for owner, attr, original in reversed(self._restore):
            if original is None:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)
        return False


def profile(name: str, steps: int, clock) -> dict:
    """{(impl, family, phase): [seconds per step]} over `steps` alternating steps, plus totals and rest."""
    steppers = train_step.make_steppers(name, use_torch=False)
    for _ in range(5):
        steppers["engine"](), steppers["reference"]()
    samples = collections.defaultdict(list)
    with Timers(clock) as timers:
        for _ in range(steps):
            for impl in ("engine", "reference"):
                timers.spent.clear()
                t0 = clock()
                steppers[impl]()
                total = clock() - t0
                for key, seconds in timers.spent.items():
                    samples[key].append(seconds)
                samples[(impl, "step", "")].append(total)
                samples[(impl, "rest", "")].append(total - sum(timers.spent.values()))
    return samples


def format_profile(name: str, samples: dict) -> str:
    def ms(impl, family, phase=""):
        values = samples.get((impl, family, phase))
        return float(np.median(values)) * 1e3 if values else 0.0

    lines = [
        f"{name}: median ms per step",
        f"{'op family':<16}{'engine fwd':>11}{'ref fwd':>9}{'engine bwd':>12}{'ref bwd':>9}{'engine-ref':>12}",
    ]
    families = list(FAMILIES) + sorted({f for (_, f, p) in samples if p and f not in FAMILIES})
    for family in families:
        ef, rf, eb, rb = (
            ms("engine", family, "fwd"),
            ms("reference", family, "fwd"),
            ms("engine", family, "bwd"),
            ms("reference", family, "bwd"),
        )
        if ef + rf + eb + rb == 0:
            continue
        lines.append(f"{family:<16}{ef:>11.3f}{rf:>9.3f}{eb:>12.3f}{rb:>9.3f}{ef + eb - rf - rb:>+12.3f}")
    for row in ("rest", "step"):
        e, r = ms("engine", row), ms("reference", row)
        lines.append(f"{row:<16}{e:>11.3f}{r:>9.3f}{'':>12}{'':>9}{e - r:>+12.3f}")
    lines.append("(the reference's softmax_loss is forward and backward in one: it is in 'ref fwd')")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.op_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--network", choices=("mlp", "cnn", "both"), default="both")
    parser.add_argument("--steps", type=int, default=None, help="steps per implementation (default 300 mlp, 40 cnn)")
    parser.add_argument("--cpu-time", action="store_true", help="time the main thread's CPU time, not wall time")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    clock = time.thread_time if args.cpu_time else time.perf_counter
    print(
        f"clock: {'main-thread CPU time' if args.cpu_time else 'wall time'}; numpy BLAS threads: "
        f"{train_step.numpy_blas_threads()}; malloc: {train_step.malloc_label()}"
    )
    for name in ("mlp", "cnn") if args.network == "both" else (args.network,):
        steps = args.steps or {"mlp": 300, "cnn": 40}[name]
        print()
        print(format_profile(name, profile(name, steps, clock)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
