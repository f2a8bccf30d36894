"""optim.sweeps: grids and random configurations, a sweep over local processes equal to each run alone, the table.

Over two MPI ranks: tests/nn/distributed_ranks.py, check "sweep".
"""

import csv
import importlib.util
import json
import os

import numpy as np
import pytest

import autograd as ag
import nn
import optim


def build(config: dict) -> optim.Solver:
    """A small classifier whose numbers depend on the configuration and on the engine's seed (initial weights)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((48, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, config["hidden"]), nn.Tanh(), nn.Linear(config["hidden"], 2))
    data = dict(X_train=X[:32], y_train=y[:32], X_val=X[32:], y_val=y[32:])
    options = dict(optim_config={"learning_rate": config["lr"]}, num_epochs=2, batch_size=8, verbose=False)
    return optim.Solver(model, data, update_rule="sgd_momentum", seed=config["seed"], **options)


CONFIGS = optim.grid(lr=[0.05, 0.2], hidden=[3, 6], seed=[1])


def test_grid_varies_the_last_axis_fastest_and_refuses_an_empty_axis():
    assert [(c["lr"], c["hidden"]) for c in CONFIGS] == [(0.05, 3), (0.05, 6), (0.2, 3), (0.2, 6)]
    with pytest.raises(ValueError, match=r"grid: each axis must be a non-empty list of values, got lr=0.1"):
        optim.grid(lr=0.1)


def test_random_configs_repeat_with_their_seed_and_stay_in_their_ranges():
    space = {"lr": optim.log_uniform(1e-4, 1e-1), "momentum": optim.uniform(0.5, 0.99), "hidden": [8, 16], "seed": 3}
    configs = optim.random_configs(20, space, seed=1)
    assert configs == optim.random_configs(20, space, seed=1) != optim.random_configs(20, space, seed=2)
    assert all(1e-4 <= c["lr"] < 1e-1 and 0.5 <= c["momentum"] < 0.99 and c["seed"] == 3 for c in configs)
    assert {c["hidden"] for c in configs} == {8, 16}
    lrs = np.log10([c["lr"] for c in configs])
    assert lrs.min() < -3 and lrs.max() > -2  # spread over the decades, not bunched at the top
    with pytest.raises(ValueError, match=r"log_uniform: needs 0 < low < high, got low=0, high=1"):
        optim.log_uniform(0, 1)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_sweep_gives_each_configuration_the_numbers_it_gives_alone(processes, tmp_path):
    records = optim.sweep(build, CONFIGS, out=tmp_path, processes=processes, verbose=False)
    ag.manual_seed(12345)  # the state a sweep leaves behind must not matter: run_config seeds the engine
    alone = [optim.run_config(build, config) for config in reversed(CONFIGS)][::-1]
    assert [r["config"] for r in records] == CONFIGS
    for mine, theirs in zip(records, alone):
        assert mine["loss_history"] == theirs["loss_history"]
        assert mine["val_acc_history"] == theirs["val_acc_history"] and mine["best_val_acc"] == theirs["best_val_acc"]
    here = f"pid {os.getpid()}"
    assert all((r["worker"] == here) == (processes == 1) for r in records)  # in worker processes, or here


def test_the_table_has_a_row_per_configuration_and_names_the_best(tmp_path, capsys):
    records = optim.sweep(build, CONFIGS, out=tmp_path, processes=1)
    printed = capsys.readouterr().out
    # each line names the configuration by what varies between them (the seed is the same for all)
    assert printed.count("sweep [") == len(CONFIGS) and "] lr=0.2, hidden=6: best_val_acc" in printed
    with open(tmp_path / "sweep.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(float(r["lr"]), int(r["hidden"])) for r in rows] == [(c["lr"], c["hidden"]) for c in CONFIGS]
    assert [float(r["best_val_acc"]) for r in rows] == [r["best_val_acc"] for r in records]
    summary = json.loads((tmp_path / "sweep.json").read_text())
    assert summary["best"] == int(np.argmax([r["best_val_acc"] for r in records]))  # first of the ties
    assert (
        summary["varying"] == ["lr", "hidden"] and summary["records"][0]["loss_history"] == records[0]["loss_history"]
    )
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "sweep.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: optim.sweep(build, []), ValueError, "sweep: expected at least one configuration, got none"),
        (lambda: optim.sweep(build, CONFIGS, metric="accuracy"), ValueError, "metric must be one of"),
        (lambda: optim.sweep(lambda c: build(c), CONFIGS, processes=2), TypeError, "build must be a module-level"),
        (lambda: optim.random_configs(2, [("lr", [0.1])]), TypeError, "space must be a dict of axes, got list"),
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
