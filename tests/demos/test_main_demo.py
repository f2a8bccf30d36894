"""`python -m demos`: the quick run works end to end from any folder, and the optional pictures never sink it."""

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from demos.common import draw_graph, write_metrics

REPO = Path(__file__).resolve().parents[2]


def run_demo(*args, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "demos", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_quick_run_writes_its_report_pictures_and_metrics(tmp_path):
    pytest.importorskip("sklearn")
    result = run_demo("--quick", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    folder = tmp_path / "runs" / "main"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert isinstance(metrics["test_accuracy"], float) and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["settings"]["quick"] is True and metrics["settings"]["seed"] == 1 and metrics["epochs"] == 2
    assert math.isfinite(metrics["wall_time_s"]) and metrics["iterations"] > 0
    expected = {"report", "model"} | ({"graph"} if shutil.which("dot") else set())
    expected |= {"curves", "filters", "monitor"} if importlib.util.find_spec("matplotlib") else set()
    assert expected <= set(metrics["files"])
    for path in metrics["files"].values():
        assert (tmp_path / path).is_file(), path
    report = (folder / "report.html").read_text()
    assert f"{metrics['test_accuracy']:.4g}" in report and ("<svg" in report) == ("graph" in metrics["files"])
    assert str(Path("runs") / "main" / "report.html") in result.stdout and "test accuracy" in result.stdout


def test_help_names_the_options(tmp_path):
    result = run_demo("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert all(option in result.stdout for option in ("--seed", "--quick", "--out"))
    assert not (tmp_path / "runs").exists()


def test_without_the_dot_program_the_graph_is_kept_as_dot_source(tmp_path, monkeypatch, capsys):
    pytest.importorskip("graphviz")
    import autograd as ag

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x = ag.tensor(np.ones(3), requires_grad=True)
    assert draw_graph((x * 2).sum(), tmp_path / "graph.svg") is None
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert "Install Graphviz" in capsys.readouterr().out


def test_metrics_are_written_as_plain_json(tmp_path):
    write_metrics(tmp_path / "m.json", {"acc": np.float32(0.5), "n": np.int64(3), "bad": float("nan"), "p": tmp_path})
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["acc"] == 0.5 and metrics["n"] == 3 and metrics["bad"] is None and metrics["p"] == str(tmp_path)
    assert set(metrics["versions"]) == {"python", "numpy"}
