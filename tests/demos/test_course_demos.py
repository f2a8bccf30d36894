"""The course-experiment demos (`python -m demos.<name>`): each --quick run works from any folder, writes
its pictures as PNGs and a metrics.json with the numbers it promises, and --help names the options.

All runs start at once in subprocesses (about 15 s in all on two cores); each test then checks one.
"""

import json
import math
from pathlib import Path

import pytest

from tests.demos.quick_runs import HAS_MATPLOTLIB, HAS_SKLEARN, PNG_MAGIC, run_quick, start

# demo -> (top-level metrics keys, pictures in "files", needs scikit-learn)
DEMOS = {
    "moons": ({"accuracies", "best_moons_val_accuracy"}, {"activation_x_hidden", "depth", "blobs"}, True),
    "activations": (
        {
            "relu_final_val_accuracy",
            "sigmoid_final_val_accuracy",
            "sigmoid_escape_epoch",
            "val_accuracy_per_epoch",
            "first_layer_mean_abs_grad_per_epoch",
        },
        {"curves", "gradient_flow"},
        False,
    ),
    "overfit": (
        {"weight_scales", "depths", "3-layer_best_train_accuracy", "5-layer_best_train_accuracy"},
        {"sweep", "curves"},
        True,
    ),
    "optimizers": ({"optimizers"}, {"curves"}, True),
    "batchnorm": ({"weight_scales", "weight_scale_sweep", "batch_size_sweep"}, {"weight_scale", "batch_size"}, True),
    "dropout": ({"runs", "gap_reduction"}, {"curves", "boundaries"}, True),
    "conv_basics": ({"max_abs_error", "learned_kernel", "learned_kernel_max_error"}, {"filters", "kernels"}, False),
    "custom_op": ({"gradcheck_passed", "bug_caught", "val_accuracy", "final_loss"}, {"curves", "boundary"}, False),
    "search": ({"random_search", "grid", "workers"}, {"random", "grid"}, True),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    return run_quick(DEMOS, tmp_path_factory)


@pytest.mark.parametrize("name", DEMOS)
def test_quick_run_writes_its_pictures_and_metrics(runs, name):
    keys, pictures, needs_sklearn = DEMOS[name]
    returncode, stdout, stderr, folder = runs[name]
    if needs_sklearn and not HAS_SKLEARN:
        assert returncode != 0 and "scikit-learn" in stderr
        return
    assert returncode == 0, stderr[-3000:]
    run_folder = folder / "runs" / name
    metrics = json.loads((run_folder / "metrics.json").read_text())
    assert keys <= set(metrics), sorted(keys - set(metrics))
    assert metrics["settings"]["quick"] is True and metrics["settings"]["seed"] == 1
    assert math.isfinite(metrics["wall_time_s"]) and metrics["wall_time_s"] > 0
    expected = pictures if HAS_MATPLOTLIB else set()
    assert set(metrics["files"]) == expected
    for path in metrics["files"].values():
        assert (folder / path).read_bytes()[:8] == PNG_MAGIC, path
    assert str(Path("runs") / name) in stdout


def test_quick_runs_report_sound_numbers(runs):
    """What each demo computes without training long is already exact: check it, not only its presence."""

    def metrics(name):
        return json.loads((runs[name][3] / "runs" / name / "metrics.json").read_text())

    conv = metrics("conv_basics")
    assert max(conv["max_abs_error"].values()) < 1e-5  # nodegrad's conv2d against a numpy loop
    op = metrics("custom_op")
    assert op["gradcheck_passed"] is True and op["bug_caught"] is True
    assert op["final_loss"] < op["first_loss"]
    flow = metrics("activations")["first_layer_mean_abs_grad_per_epoch"]
    assert set(flow) == {"relu", "sigmoid"} and all(v > 0 for series in flow.values() for v in series)
    if HAS_SKLEARN:
        search, folder = metrics("search"), runs["search"][3] / "runs" / "search"
        assert search["random_search"]["configurations"] == 4 and search["grid"]["configurations"] == 4
        assert set(search["random_search"]["config"]) == {"lr", "reg", "weight_scale", "dropout"}
        for name in ("random", "grid"):  # one table row per configuration, best named in the JSON
            assert len((folder / name / "sweep.csv").read_text().splitlines()) == 1 + 4
            assert json.loads((folder / name / "sweep.json").read_text())["best"] in range(4)


@pytest.mark.parametrize("name", DEMOS)
def test_help_describes_the_demo_and_its_options(name, tmp_path):
    process = start(name, "--help", cwd=tmp_path)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert f"python -m demos.{name}" in stdout and all(o in stdout for o in ("--seed", "--quick", "--out"))
    assert not (tmp_path / "runs").exists()
