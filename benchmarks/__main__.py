"""Every performance goal of nodegrad in one command: one table of ratios, every figure in one JSON file.

    python -m benchmarks [--quick] [--json PATH] [--data-dir DIR] [--rows ROW [ROW ...]]
                         [--threads N] [--no-torch]
    NODEGRAD_MALLOPT=0 python -m benchmarks ...   # with glibc's malloc defaults (see autograd/allocator.py)

Rows, each the engine against references timed in the same process (goals in brackets):
  train_step  one SGD training step of an MLP and a CNN: engine, hand-written numpy, PyTorch
              (benchmarks.train_step) [engine/numpy <= 1.10, engine/torch <= 1.00]
  per_op      forward + backward of small graphs on a 1-element tensor, per op (benchmarks.chain)
              [engine/torch <= 1.00]
  chain       one 100,000-op chain: build, backward, total (benchmarks.chain) [total: engine/torch <= 1.00]
  memory      peak memory of one CNN training step above a fresh process's baseline, each implementation
              in a process of its own (benchmarks.memory) [engine/torch <= 1.00]
  epoch       one MNIST epoch (938 steps of 64) of demos/mnist_cnn.py's plain CNN with Adam, data loading
              not timed (benchmarks.epoch) [engine/torch <= 1.00]; skipped when MNIST is not found

Every workload is warmed up for at least 0.3 s first: numpy's BLAS threads spin for a while after
use and would slow whatever runs next. PyTorch always runs in blocks of its own: after the engine's, or
for the train steps in blocks alternating with the engine's.
The "other load" column is the CPU that other processes took meanwhile, in cores: on a shared
machine it inflates absolute times (ratios less so). --quick runs a shortened version of everything
(shorter warm-ups and budgets, a 10,000-op chain, a tenth of the epoch extrapolated to the whole):
a smoke run whose figures are noisy.
"""

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from benchmarks import chain, epoch, memory, train_step
from benchmarks.train_step import OtherLoad

ROWS = ("train_step", "per_op", "chain", "memory", "epoch")
GOALS = {"engine_over_numpy": train_step.GOAL, "engine_over_torch": 1.0}
DEFAULT_JSON = Path(__file__).with_name("results.json")


@dataclasses.dataclass(frozen=True)
class Settings:
    """What to run and for how long; `Settings.for_mode(quick)` gives the defaults of each mode."""

    warmup_s: float = 0.5
    train_networks: tuple[str, ...] = train_step.NETWORKS
    train_budget_s: float = 3.0  # timed steps per train-step implementation, in seconds of the slower one
    train_repeat: int | None = None  # timed steps per implementation; None: as many as the budget allows
    per_op_graphs_per_block: int = 500
    per_op_blocks: int = 15
    chain_length: int = 100_000
    chain_repeats: int = 3
    epoch_fraction: float = 1.0
    threads: int = 2
    use_torch: bool = train_step.torch is not None
    data_dir: Path | None = None
    rows: tuple[str, ...] = ROWS
    quick: bool = False

    @classmethod
    def for_mode(cls, quick: bool, **overrides) -> "Settings":
        shortened = dict(
            warmup_s=0.3, train_budget_s=0.6, per_op_blocks=5, chain_length=10_000, epoch_fraction=0.1, quick=True
        )
        return cls(**{**(shortened if quick else {}), **overrides})


def summary_row(
    benchmark: str, unit: str, engine, numpy=None, torch=None, goals=(), load=None, note="", engine_vs_torch=None
) -> dict:
    """One line of the table: figures, engine/numpy and engine/torch, and whether each goal in `goals` is met.

    engine_vs_torch: the engine's figure to divide by torch's when it was measured apart from `engine`.
    """
    row = {"benchmark": benchmark, "unit": unit, "engine": engine, "numpy": numpy, "torch": torch}
    if engine_vs_torch is not None:
        row["engine_vs_torch"] = engine_vs_torch
    for key, reference, mine in (
        ("engine_over_numpy", numpy, engine),
        ("engine_over_torch", torch, engine if engine_vs_torch is None else engine_vs_torch),
    ):
        row[key] = round(float(mine) / float(reference), 3) if mine is not None and reference else None
        if key in goals and row[key] is not None:
            row[f"goal_{key}"] = GOALS[key]
            row[f"{key}_met"] = bool(row[key] <= GOALS[key])
    row["other_load_cores"] = load
    row["note"] = note
    return row


def _train_step_note(result: dict, torch_problems: list) -> str:
    if torch_problems:
        return "torch left out: it disagrees with the reference"
    if "torch" not in result:
        return ""
    return (
        f"engine/torch: the engine alone, blocks alternating with torch's: {result['engine_alone']['median_ms']:.3g} ms"
    )


# ----- the rows: each returns (its detailed figures, its summary rows) -----
def run_train_step(settings: Settings) -> tuple[dict, list[dict]]:
    details, rows = {}, []
    labels = {"mlp": "train step MLP 784-512-256-10, batch 128", "cnn": "train step CNN, batch 64"}
    for name in settings.train_networks:
        engine_problems, torch_problems = train_step.check_agreement(name, settings.use_torch)
        if engine_problems:
            raise RuntimeError("engine and reference disagree; not timing:\n  " + "\n  ".join(engine_problems))
        use_torch = settings.use_torch and not torch_problems
        with OtherLoad() as load:
            result = train_step.time_network(
                train_step.make_steppers(name, use_torch),
                settings.train_repeat,
                settings.train_budget_s,
                settings.warmup_s,
            )
        result["other_processes_cpu_cores"] = load.cores
        result["torch_disagreement"] = torch_problems
        details[name] = result
        rows.append(
            summary_row(
                labels[name],
                "ms",
                result["engine"]["median_ms"],
                result["reference"]["median_ms"],
                result["torch"]["median_ms"] if "torch" in result else None,
                goals=("engine_over_numpy", "engine_over_torch"),
                load=load.cores,
                note=_train_step_note(result, torch_problems),
                engine_vs_torch=result["engine_alone"]["median_ms"] if "torch" in result else None,
            )
        )
    return details, rows


def _frameworks(settings: Settings) -> list[str]:
    return ["engine", "torch"] if settings.use_torch else ["engine"]


def _figure(results: dict, framework: str, key: str):
    return results[framework][key] if framework in results else None


def run_per_op(settings: Settings) -> tuple[dict, list[dict]]:
    with OtherLoad() as load:
        results = chain.per_op_overhead(
            _frameworks(settings), settings.per_op_graphs_per_block, settings.per_op_blocks, settings.warmup_s
        )
    results["other_processes_cpu_cores"] = load.cores
    rows = []
    for ops in chain.SMALL_GRAPH_OPS:
        figures = results[f"{ops}_op_graphs"]
        engine_us, torch_us = (_figure(figures, framework, "us_per_op") for framework in ("engine", "torch"))
        label = f"per op, fwd+bwd, 1 element, {ops}-op graphs"
        rows.append(summary_row(label, "us", engine_us, torch=torch_us, goals=("engine_over_torch",), load=load.cores))
    return results, rows


def run_chain(settings: Settings) -> tuple[dict, list[dict]]:
    with OtherLoad() as load:
        results = chain.long_chain(
            _frameworks(settings), settings.chain_length, settings.chain_repeats, settings.warmup_s
        )
    results["other_processes_cpu_cores"] = load.cores
    rows = []
    for part in ("build", "backward", "total"):
        engine_s, torch_s = (_figure(results, framework, f"{part}_s") for framework in ("engine", "torch"))
        goals = ("engine_over_torch",) if part == "total" else ()
        rows.append(
            summary_row(
                f"{settings.chain_length:,}-op chain: {part}",
                "s",
                engine_s,
                torch=torch_s,
                goals=goals,
                load=load.cores,
                note=f"engine with Python's cyclic GC off: {results['engine_gc_off'][f'{part}_s']:.3g} s"
                if "engine_gc_off" in results
                else "",
            )
        )
    return results, rows


def run_memory(settings: Settings) -> tuple[dict, list[dict]]:
    results = memory.measure(_frameworks(settings), settings.threads)
    engine_mb = results["engine"]["above_baseline_mb"]
    torch_mb = results["torch"].get("above_baseline_mb") if "torch" in results else None
    note = f"torch: {results['torch']['unavailable']}" if "unavailable" in results.get("torch", {}) else ""
    if results["engine"]["method"].startswith("tracemalloc"):
        note = "engine: tracemalloc (no /proc); " + note
    label = "peak memory of a CNN step (fresh processes)"
    return results, [summary_row(label, "MB", engine_mb, torch=torch_mb, goals=("engine_over_torch",), note=note)]


def run_epoch(settings: Settings) -> tuple[dict, list[dict]]:
    data = epoch.load_mnist_train(settings.data_dir)
    label = f"MNIST CNN epoch, Adam, batch {epoch.BATCH_SIZE} (steps only)"
    if isinstance(data, str):
        print(f"epoch: skipped: {data}")
        return {"skipped": data}, [summary_row(label, "s", None, note="skipped: MNIST not found")]
    with OtherLoad() as load:
        results = epoch.measure(*data, _frameworks(settings), settings.epoch_fraction, settings.warmup_s)
    results["other_processes_cpu_cores"] = load.cores
    results["model"] = dict(
        channels=epoch.CHANNELS, hidden=epoch.HIDDEN, batch_size=epoch.BATCH_SIZE, optimizer="Adam", lr=epoch.LR
    )
    engine = results["engine"]
    note = (
        f"extrapolated from {engine['measured_steps']} of {engine['epoch_steps']} steps"
        if engine["extrapolated"]
        else ""
    )
    figures = [_figure(results, framework, "epoch_s") for framework in ("engine", "torch")]
    return results, [
        summary_row(label, "s", figures[0], torch=figures[1], goals=("engine_over_torch",), load=load.cores, note=note)
    ]


RUNNERS = {
    "train_step": run_train_step,
    "per_op": run_per_op,
    "chain": run_chain,
    "memory": run_memory,
    "epoch": run_epoch,
}


def run_suite(settings: Settings) -> dict:
    """Run the rows of `settings`; the report that is written as JSON. A row that fails records its error."""
    if not train_step.set_numpy_blas_threads(settings.threads):
        print(f"could not set numpy's BLAS threads to {settings.threads} (not OpenBLAS?)", file=sys.stderr)
    if settings.use_torch:
        train_step.torch.set_num_threads(settings.threads)
    env = train_step.environment()
    print(
        f"nodegrad benchmarks{' (--quick: shortened, noisy)' if settings.quick else ''} | python {env['python']} | "
        f"numpy {env['numpy']} ({env['numpy_blas']}, {env['numpy_blas_threads']} threads) | "
        + (f"torch {env['torch']} ({env['torch_threads']} threads)" if settings.use_torch else "torch: not used")
        + f" | {env['cpu_count']} cpus"
    )
    report = {
        "environment": env,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(settings).items()},
        "goals": GOALS,
        "summary": [],
        "details": {},
        "errors": {},
    }
    for name in settings.rows:
        print(f"running {name} ...", flush=True)
        try:
            details, rows = RUNNERS[name](settings)
        except RuntimeError as error:
            print(f"{name}: {error}", file=sys.stderr)
            report["errors"][name] = str(error)
            continue
        report["details"][name] = details
        report["summary"] += rows
    verdicts = [value for row in report["summary"] for key, value in row.items() if key.endswith("_met")]
    report["goals_met"] = f"{sum(verdicts)} of {len(verdicts)}"
    return report


# ----- output -----
def _quantity(value, unit: str) -> str:
    if value is None:
        return "-"
    decimals = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:.{decimals}f} {unit}"


def _ratio(row: dict, key: str) -> str:
    if row[key] is None:
        return "-"
    met = row.get(f"{key}_met")
    return f"{row[key]:.2f}x" + ("" if met is None else " ok" if met else " !!")


def format_table(summary: list[dict]) -> str:
    width = max(len(row["benchmark"]) for row in summary) + 2
    head = f"{'benchmark':<{width}}{'engine':>11}{'numpy':>11}{'torch':>11}{'engine/numpy':>14}{'engine/torch':>14}"
    lines = [head + f"{'other load':>12}"]
    for row in summary:
        load = row["other_load_cores"]
        line = f"{row['benchmark']:<{width}}" + "".join(
            f"{_quantity(row[impl], row['unit']):>11}" for impl in ("engine", "numpy", "torch")
        )
        line += f"{_ratio(row, 'engine_over_numpy'):>14}{_ratio(row, 'engine_over_torch'):>14}"
        line += f"{load:>12.2f}" if load is not None else f"{'-':>12}"
        lines.append(line + (f"  ({row['note']})" if row["note"] else ""))
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a shortened run of every row (0.3 s warm-ups, a 10,000-op chain, a tenth of the epoch "
        "extrapolated): a smoke test, noisy figures",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help="where to write every figure (default: benchmarks/results.json)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder holding MNIST's four IDX files, searched before the loader's own places "
        "($NODEGRAD_MNIST, $NODEGRAD_DATA/mnist, ~/.cache/nodegrad/mnist); without them the epoch row is skipped",
    )
    parser.add_argument(
        "--rows",
        nargs="+",
        choices=ROWS,
        default=list(ROWS),
        metavar="ROW",
        help=f"which rows to run (default: all of {', '.join(ROWS)})",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads for numpy's OpenBLAS and for torch (default 2)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if it is installed")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.data_dir is not None and not args.data_dir.is_dir():
        parser.error(f"--data-dir must be a folder holding MNIST's IDX files, got {args.data_dir} (no such folder)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    settings = Settings.for_mode(
        args.quick,
        threads=args.threads,
        use_torch=train_step.torch is not None and not args.no_torch,
        data_dir=args.data_dir,
        rows=tuple(dict.fromkeys(args.rows)),
    )
    report = run_suite(settings)
    report["settings"]["malloc"] = train_step.malloc_label()
    print()
    if report["summary"]:
        print(format_table(report["summary"]))
    if report["goals_met"].endswith(" of 0"):
        print("\ngoals: none to judge here (they compare against PyTorch, or rows were left out)")
    else:
        print(
            f"\ngoals met: {report['goals_met']} (ok / !!): engine/numpy <= {GOALS['engine_over_numpy']:.2f}x on "
            f"the train steps, engine/torch <= {GOALS['engine_over_torch']:.2f}x on every row but the chain's "
            "build and backward"
        )
    env = report["environment"]
    loads = [row["other_load_cores"] for row in report["summary"] if row["other_load_cores"] is not None]
    if loads and max(loads) > 0.2:
        print(
            f"warning: other processes used up to {max(loads):.1f} of {env['cpu_count']} cores meanwhile; "
            "absolute times are inflated (ratios less so)"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"figures written to {args.json}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
