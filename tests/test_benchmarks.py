"""The benchmark suite (python -m benchmarks) runs end to end on tiny sizes and writes the JSON it promises.

Figures are only checked to be positive and consistent, never against a time: these runs are far too
short to mean anything, and the machine may be busy.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from benchmarks import chain, collector, epoch, memory, train_step
from benchmarks.__main__ import ROWS, Settings, main, run_suite

TINY = dict(
    warmup_s=0.02,
    train_repeat=3,
    per_op_graphs_per_block=20,
    per_op_blocks=3,
    chain_length=400,
    chain_repeats=2,
    threads=1,
)


@pytest.fixture(autouse=True)
def keep_thread_counts():
    """The suite sets numpy's and torch's thread counts process-wide: give the other tests theirs back."""
    blas_threads = train_step.numpy_blas_threads()
    torch_threads = chain.torch.get_num_threads() if chain.torch is not None else None
    yield
    if blas_threads is not None:
        train_step.set_numpy_blas_threads(blas_threads)
    if torch_threads is not None:
        chain.torch.set_num_threads(torch_threads)


@pytest.fixture
def no_mnist(tmp_path, monkeypatch):
    """A --data-dir without MNIST, and loader search places that have none either, whatever the machine has."""
    monkeypatch.delenv("NODEGRAD_MNIST", raising=False)
    monkeypatch.delenv("NODEGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "no-mnist-here"


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _check_report(report: dict, settings: Settings, with_torch: bool) -> None:
    rows = settings.rows
    assert set(report) >= {"environment", "settings", "goals", "goals_met", "summary", "details", "errors"}
    assert report["errors"] == {}
    assert list(report["details"]) == list(rows)
    json.dumps(report)  # everything in it is plain JSON
    for row in report["summary"]:
        assert set(row) >= {"benchmark", "unit", "engine", "numpy", "torch", "engine_over_torch", "other_load_cores"}
        if row["note"].startswith("skipped"):
            continue
        assert _positive(row["engine"]), row
        if with_torch:
            assert _positive(row["torch"]) and _positive(row["engine_over_torch"]), row
            engine = row.get("engine_vs_torch", row["engine"])  # train steps: the engine-alone blocks
            assert row["engine_over_torch"] == pytest.approx(engine / row["torch"], rel=1e-2, abs=1e-3)
        else:
            assert row["torch"] is None and row["engine_over_torch"] is None, row
    labels = [row["benchmark"] for row in report["summary"]]
    if "train_step" in rows:
        steps = [row for row in report["summary"] if row["benchmark"].startswith("train step")]
        assert len(steps) == len(settings.train_networks) and all(_positive(row["engine_over_numpy"]) for row in steps)
        assert all(isinstance(row["engine_over_numpy_met"], bool) for row in steps)
    if "chain" in rows:
        assert [label for label in labels if "chain" in label] == [
            f"400-op chain: {part}" for part in ("build", "backward", "total")
        ]
        engine = report["details"]["chain"]["engine"]
        assert engine["total_s"] >= engine["build_s"] and engine["length"] == 400


def test_every_row_runs_without_torch_and_the_epoch_skips_without_mnist(no_mnist):
    settings = Settings.for_mode(True, **TINY, use_torch=False, data_dir=no_mnist)
    assert settings.rows == ROWS
    report = run_suite(settings)
    _check_report(report, settings, with_torch=False)
    assert "not found" in report["details"]["epoch"]["skipped"]
    assert str(no_mnist) in report["details"]["epoch"]["skipped"]
    memory_row = report["details"]["memory"]["engine"]
    assert _positive(memory_row["above_baseline_mb"])


def test_rows_against_torch():
    pytest.importorskip("torch")
    # The MLP alone: the CNN's torch steps would add seconds and nothing the engine-only test does not cover.
    rows = ("train_step", "per_op", "chain", "memory")
    settings = Settings.for_mode(True, **TINY, use_torch=True, rows=rows, train_networks=("mlp",))
    report = run_suite(settings)
    _check_report(report, settings, with_torch=True)
    assert _positive(report["details"]["memory"]["torch"]["above_baseline_mb"])


def test_the_command_prints_a_table_and_writes_the_json(tmp_path, capsys):
    path = tmp_path / "out" / "results.json"
    assert main(["--quick", "--no-torch", "--rows", "per_op", "--threads", "1", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["settings"]["quick"] is True and report["settings"]["rows"] == ["per_op"]
    assert [row["benchmark"] for row in report["summary"]] == [
        f"per op, fwd+bwd, 1 element, {ops}-op graphs" for ops in chain.SMALL_GRAPH_OPS
    ]
    printed = capsys.readouterr().out
    assert "engine/torch" in printed and "per op" in printed and str(path) in printed


def test_the_epoch_trains_and_extrapolates_on_random_images():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, len(X))
    frameworks = ["engine", "torch"] if epoch.torch is not None else ["engine"]
    results = epoch.measure(X, y, frameworks, fraction=0.5, warmup_s=0.0, batch_size=8)
    for figures in results.values():
        assert figures["measured_steps"] == 1 and figures["epoch_steps"] == 2 and figures["extrapolated"]
        assert figures["epoch_s"] == pytest.approx(figures["ms_per_step"] * 2 / 1e3, abs=1e-3)  # rounded to ms
        assert 0 < figures["mean_loss"] < 10
    if "torch" in results:  # one model definition, the same weights and batches: the same losses
        assert results["torch"]["mean_loss"] == pytest.approx(results["engine"]["mean_loss"], rel=1e-3)
    with pytest.raises(ValueError, match="fraction must be in"):
        epoch.measure(X, y, ["engine"], fraction=0.0, warmup_s=0.0)


def test_memory_falls_back_to_tracemalloc_without_proc(monkeypatch):
    engine = memory.measure_step("engine", threads=1, method="tracemalloc")
    assert engine["method"].startswith("tracemalloc") and _positive(engine["above_baseline_mb"])
    monkeypatch.setattr(memory, "proc_available", lambda: False)
    assert "unavailable" in memory.measure(["torch"], threads=1)["torch"]
    with pytest.raises(ValueError, match="'tracemalloc' for the engine, got 'tracemalloc' for torch"):
        memory.measure_step("torch", threads=1, method="tracemalloc")


def test_the_chain_cycles_through_its_four_ops():
    x = chain.leaf("engine")
    assert float(chain.chain(x, 2).value) == pytest.approx(1.0011)
    y = chain.chain(x, 4)
    y.backward()
    inner = np.tanh(1.0011)
    assert float(y.value) == pytest.approx(inner - 0.001, rel=1e-6)
    assert x.grad.dtype == np.float32 and float(x.grad) == pytest.approx(1.0001 * (1 - inner**2), rel=1e-5)
    with pytest.raises(ValueError, match="'engine' or 'torch', got 'jax'"):
        chain.leaf("jax")


def test_frameworks_take_turns_so_that_a_drift_of_the_machine_hits_each_alike():
    calls = []
    runs = {"engine": lambda: calls.append("engine") or 1.0, "torch": lambda: calls.append("torch") or 2.0}
    assert chain._take_turns(runs, 3) == {"engine": [1.0] * 3, "torch": [2.0] * 3}
    assert calls == ["engine", "torch"] * 3


def test_the_chain_row_also_times_the_engine_with_the_cyclic_gc_off_and_restores_it():
    import gc

    assert gc.isenabled()
    results = chain.long_chain(["engine"], length=40, repeats=1, warmup_s=0.0)
    assert gc.isenabled()
    for key in ("engine", "engine_gc_off"):
        assert _positive(results[key]["total_s"]) and results[key]["length"] == 40
    gc.disable()
    try:
        with chain.cyclic_gc_off():
            pass
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()


def test_a_data_dir_that_is_not_a_folder_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--rows", "epoch", "--data-dir", str(tmp_path / "missing")])
    assert exit_info.value.code == 2
    assert "--data-dir must be a folder" in capsys.readouterr().err


def test_compare_trees_times_two_checkouts_in_one_process_and_prints_their_ratio():
    # In a subprocess: it re-imports autograd under its own name, which must not leak into this session.
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.compare_trees",
            str(root),
            str(root),
            "--rounds",
            "1",
            "--no-train",
            "--chain",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    rows = [line.split() for line in out.splitlines() if line.startswith(("x", "1-op", "8-op", "100,000-op"))]
    assert len(rows) == 6
    for row in rows:
        first, last, ratio = (float(v) for v in row[-3:])
        assert first > 0 and last > 0 and ratio == pytest.approx(last / first, abs=1e-3)


def test_allreduce_cost_model_counts_the_cnn_gradients_and_follows_the_ring_formula(capsys):
    from benchmarks import allreduce

    sizes = allreduce.bucket_bytes()
    assert sum(sizes) == 4 * sum(p.value.size for p in epoch.model(nn).parameters())
    # 2 ranks, one bucket of 1e6 bytes at 8 Gbit/s: half of it each way twice (2 messages), 1 ms, plus latency.
    assert math.isclose(allreduce.ring_seconds([10**6], 2, 8, 0.0), 1e-3)
    assert math.isclose(allreduce.ring_seconds([10**6, 10**6], 64, 8, 1e-6), 2 * (126e-6 + 126 / 64 * 1e-3))
    assert allreduce.main(["--step-ms", "10"]) == 0
    printed = capsys.readouterr().out
    assert f"{sum(sizes):,} bytes" in printed and printed.count("Gbit/s") == 6


def test_full_collection_counts_what_the_collector_tracks_per_op_of_a_live_chain():
    figures = collector.full_collection(length=2000, repeats=1)
    # OpNode (its op's Context too), the tuple of input edges and one edge: three per op, a little more with
    # the leaf and the few tensors a node keeps; a graph that kept every intermediate tensor would show four or more.
    assert 2.9 <= figures["tracked_per_op"] < 3.6
    assert figures["seconds"] > 0
