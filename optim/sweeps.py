"""Sweeps: many Solver configurations trained side by side, on MPI ranks or local processes, into one table.

    def build(config):                                       # a module-level function: it travels to workers
        model = make_model(config["hidden"])
        return optim.Solver(model, data, optim_config={"learning_rate": config["lr"]}, seed=config["seed"],
                            verbose=False)

    configs = optim.grid(lr=[1e-3, 1e-2], hidden=[32, 64], seed=[0, 1])   # or optim.random_configs(8, {...})
    records = optim.sweep(build, configs, out="runs/sweep")   # sweep.csv, sweep.json, sweep.png

`python my_sweep.py` spreads the configurations over local processes; `mpirun -np 4 python my_sweep.py`
over 4 ranks (configuration i on rank i % 4), each rank then holding the whole table and rank 0 writing
the files. Each configuration runs as `run_config(build, config)` would alone: the engine generator
seeded with config["seed"] (0 without one) before build, so a record holds the same numbers wherever and
in whatever order it ran. The Solvers in a sweep are independent: build must not wrap the model in
DistributedDataParallel. Set OMP_NUM_THREADS=1 so that the workers' BLAS threads do not fight.
"""

import csv
import itertools
import json
import math
import multiprocessing
import os
import pickle
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

import autograd
from nn import distributed

# What a record holds besides its configuration: the table's columns, then the curves for the JSON and plot.
METRICS = ("best_val_acc", "final_val_acc", "final_train_acc", "final_loss", "iterations", "train_time_s")
HISTORIES = ("loss_history", "train_acc_history", "val_acc_history")


def grid(**axes) -> list:
    """Every combination of the axes' values (lists), the last axis varying fastest.

    >>> grid(lr=[0.1, 0.01], seed=[0, 1])
    [{'lr': 0.1, 'seed': 0}, {'lr': 0.1, 'seed': 1}, {'lr': 0.01, 'seed': 0}, {'lr': 0.01, 'seed': 1}]
    """
    for name, values in axes.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"grid: each axis must be a non-empty list of values, got {name}={values!r}")
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def uniform(low: float, high: float) -> Callable:
    """A random_configs axis: a float drawn uniformly from [low, high)."""
    return lambda rng: float(rng.uniform(low, high))


def log_uniform(low: float, high: float) -> Callable:
    """A random_configs axis: a float whose logarithm is uniform, for scales such as learning rates."""
    if not 0 < low < high:
        raise ValueError(f"log_uniform: needs 0 < low < high, got low={low!r}, high={high!r}")
    return lambda rng: float(math.exp(rng.uniform(math.log(low), math.log(high))))


def random_configs(n: int, space: dict, seed: int = 0) -> list:
    """n configurations drawn at random from `space`: a list axis is a uniform choice among its values, a
    function (uniform, log_uniform) is called with the generator (seeded by `seed`), anything else is fixed.

    >>> configs = random_configs(3, {"lr": log_uniform(1e-4, 1e-1), "hidden": [32, 64], "seed": 0})
    >>> all(1e-4 <= c["lr"] < 1e-1 and c["hidden"] in (32, 64) and c["seed"] == 0 for c in configs)
    True
    """
    if not isinstance(space, dict):
        raise TypeError(f"random_configs: space must be a dict of axes, got {type(space).__name__}")
    rng = np.random.default_rng(seed)

    def draw(axis):
        if callable(axis):
            return axis(rng)
        if isinstance(axis, (list, tuple)):
            return axis[int(rng.integers(len(axis)))]
        return axis

    return [{name: draw(axis) for name, axis in space.items()} for _ in range(n)]


def run_config(build: Callable, config: dict) -> dict:
    """Train one configuration as a sweep does: seed the engine with config["seed"], train build(config).

    Returns its record: the configuration, METRICS, HISTORIES and the worker (rank or process) it ran on.
    """
    autograd.manual_seed(config.get("seed", 0))
    solver = build(dict(config))
    started = time.perf_counter()
    solver.train()
    seconds = time.perf_counter() - started
    worker = f"rank {distributed.get_rank()}" if distributed.get_world_size() > 1 else f"pid {os.getpid()}"
    return {
        "config": dict(config),
        "best_val_acc": solver.best_val_acc,
        "final_val_acc": solver.val_acc_history[-1] if solver.val_acc_history else None,
        "final_train_acc": solver.train_acc_history[-1] if solver.train_acc_history else None,
        "final_loss": solver.loss_history[-1] if solver.loss_history else None,
        "iterations": solver.iteration,
        "train_time_s": round(seconds, 3),
        **{name: list(getattr(solver, name)) for name in HISTORIES},
        "worker": worker,
    }


def sweep(
    build: Callable,
    configs: list,
    out: str | os.PathLike | None = None,
    processes: int | None = None,
    metric: str = "best_val_acc",
    verbose: bool = True,
) -> list:
    """Train every configuration (build(config) -> an optim.Solver), spread over MPI ranks or local processes.

    Args:
        build: makes the Solver of a configuration; a module-level function when it runs in other processes.
        configs: dicts (grid, random_configs); "seed" in one seeds the engine before build.
        out: a folder for sweep.csv (a row per configuration), sweep.json (the records, with their curves)
            and sweep.png (validation accuracy and loss of every configuration); None writes nothing.
        processes: local worker processes outside mpirun (default: one per core, at most one per
            configuration; 1 runs them here, one after the other). Under mpirun the ranks are the workers.
        metric: the column that names the best configuration (highest) in the JSON and the printed summary.
        verbose: print a line per configuration as it finishes.
    Returns:
        The records, in the order of `configs` (on every rank).
    """
    configs = [dict(c) for c in configs]
    if not configs:
        raise ValueError("sweep: expected at least one configuration, got none")
    if metric not in METRICS:
        raise ValueError(f"sweep: metric must be one of {METRICS}, got {metric!r}")
    say = _progress(len(configs), verbose, varying(configs))
    if distributed.get_world_size() > 1:
        rank, size = distributed.get_rank(), distributed.get_world_size()
        mine = [(i, say(i, run_config(build, configs[i]))) for i in range(rank, len(configs), size)]
        records = [record for _, record in sorted(sum(distributed.all_gather_object(mine), []), key=lambda p: p[0])]
    else:
        records = _run_local(build, configs, processes, say)
    if out is not None:
        distributed.on_rank_zero(write_sweep, records, out, metric)
    return records


def _progress(total: int, verbose: bool, label_keys: list) -> Callable:
    def say(index: int, record: dict) -> dict:
        if verbose:
            metrics = ", ".join(f"{k} {record[k]:.4g}" for k in ("best_val_acc", "final_loss") if record[k] is not None)
            label = _label(record["config"], label_keys or None)
            print(f"sweep [{index + 1}/{total}] {label}: {metrics} ({record['worker']})", flush=True)
        return record

    return say


def _run_local(build: Callable, configs: list, processes: int | None, say: Callable) -> list:
    """One after the other here, or in a pool of processes (forked where the system can: no MPI here)."""
    if processes is None:
        processes = min(len(configs), os.cpu_count() or 1)
    # After MPI_Init (mpirun -np 1) a fork is unsafe: then the configurations run here.
    if processes <= 1 or distributed.backend() == "mpi":
        return [say(i, run_config(build, config)) for i, config in enumerate(configs)]
    try:
        pickle.dumps(build)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        raise TypeError(
            f"sweep: build must be a module-level function to run in {processes} processes (or pass processes=1), "
            f"got {build!r}: {error}"
        ) from None
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    records = [None] * len(configs)
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = {pool.submit(run_config, build, config): i for i, config in enumerate(configs)}
        for future in as_completed(futures):
            records[futures[future]] = say(futures[future], future.result())
    return records


def _label(config: dict, keys=None) -> str:
    return ", ".join(
        f"{k}={config[k]:.3g}" if isinstance(config[k], float) else f"{k}={config[k]}"
        for k in (config if keys is None else keys)
    )


def varying(configs: list) -> list:
    """The keys whose values differ between the configurations, in their first-seen order."""
    keys = list(dict.fromkeys(k for c in configs for k in c))
    return [k for k in keys if len({json.dumps(c.get(k), default=str) for c in configs}) > 1]


def write_sweep(records: list, out: str | os.PathLike, metric: str = "best_val_acc") -> dict:
    """Write sweep.csv, sweep.json and (with matplotlib) sweep.png into `out`; returns {kind: path}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(k for r in records for k in r["config"]))
    changing = varying([r["config"] for r in records])
    with open(out / "sweep.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["index", *keys, *METRICS, "worker"])
        for i, r in enumerate(records):
            writer.writerow([i, *(r["config"].get(k) for k in keys), *(r[m] for m in METRICS), r["worker"]])
    scored = [(r[metric], i) for i, r in enumerate(records) if r[metric] is not None]
    best = max(scored)[1] if scored else None
    summary = {"metric": metric, "best": best, "varying": changing, "records": records}
    (out / "sweep.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    paths = {"csv": out / "sweep.csv", "json": out / "sweep.json"}
    try:
        paths["plot"] = _plot(records, out / "sweep.png", changing or keys)
    except ImportError as error:
        print(f"sweep: no plot ({error})")
    return paths


def _plot(records: list, path: Path, label_keys: list) -> Path:
    """Validation accuracy per epoch and loss per update, a line per configuration."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional, as for every picture
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(figure)
    accuracy, loss = figure.subplots(1, 2)
    for r in records:
        label = _label(r["config"], label_keys)
        accuracy.plot(r["val_acc_history"], marker="o", markersize=3, label=label)
        loss.plot(r["loss_history"], linewidth=0.8, label=label)
    accuracy.set(title="validation accuracy", xlabel="check (after the first update, then per epoch)")
    loss.set(title="training loss", xlabel="update")
    loss.set_yscale("log", nonpositive="mask")
    for ax in (accuracy, loss):
        ax.grid(alpha=0.3)
    accuracy.legend(fontsize=7)
    figure.savefig(path, dpi=100)
    return path
