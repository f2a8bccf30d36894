"""The MNIST and CIFAR-10 demos run end to end with --quick on tiny fake data sets written here (no real
MNIST or CIFAR-10 needed), leave their pictures and metrics.json, and exit with code 2 and a message
naming the files and folders when CIFAR-10 is missing."""

import gzip
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.mpi import mpirun, needs_mpi

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool) -> None:
    """An IDX file: big-endian magic (type byte 0x08 = uint8, then the number of dims), each size, the bytes."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def fake_images(rng: np.random.Generator, labels: np.ndarray, size: int, channels: int = 0) -> np.ndarray:
    """Noise plus a bright bar whose row depends on the label, so that there is something to learn."""
    shape = (len(labels), channels, size, size) if channels else (len(labels), size, size)
    images = rng.integers(0, 60, shape, dtype=np.uint8)
    for i, label in enumerate(labels):
        row = 2 + 2 * int(label)
        images[i, ..., row : row + 2, 4 : size - 4] = 255
    return images


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    # Training files gzipped and test files plain: the loader must take both.
    for prefix, count, compress in (("train", 700, True), ("t10k", 150, False)):
        labels = rng.integers(0, 10, count).astype(np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", fake_images(rng, labels, 28), 0x00000803, compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels, 0x00000801, compress)
    return folder


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, 60)
        data = fake_images(rng, labels, 32, channels=3).reshape(60, -1)
        # As the official batches: a protocol-2 pickle of a dict with bytes keys and a list of labels.
        batch = {b"batch_label": name.encode(), b"data": data, b"labels": labels.tolist()}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder.parent


def run_demo(name: str, cwd: Path, *args) -> subprocess.CompletedProcess:
    # One BLAS thread: the suite may run beside other work on a small machine.
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    for var in ("NODEGRAD_MNIST", "NODEGRAD_CIFAR10", "NODEGRAD_DATA"):
        env.pop(var, None)
    env["XDG_CACHE_HOME"] = str(cwd / "cache")  # no real data set from the cache folder either
    return subprocess.run(
        [sys.executable, "-m", f"demos.{name}", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


# demo -> (PNG files it writes in --quick mode, metrics.json keys)
EXPECTED = {
    "mnist_linear": (["curves.png", "weights.png"], ["test_accuracy", "best_val_accuracy", "train_time_s"]),
    "mnist_mlp": (["curves.png", "weights.png"], ["test_accuracy", "best_val_accuracy", "train_time_s"]),
    "mnist_cnn": (
        ["curves_plain.png", "filters_plain.png", "curves_bn_dropout.png", "filters_bn_dropout.png"],
        ["plain_test_accuracy", "bn_dropout_test_accuracy", "plain_train_time_s"],
    ),
    "binary": (
        [
            "curves_logistic_linear.png",
            "curves_logistic_two_layer.png",
            "curves_hinge_linear.png",
            "curves_hinge_two_layer.png",
            "weights.png",
        ],
        [
            "logistic_linear_test_accuracy",
            "logistic_two_layer_test_accuracy",
            "hinge_linear_test_accuracy",
            "hinge_two_layer_test_accuracy",
        ],
    ),
    "monitor": (
        [
            "first_layer.png",
            "stats_relu_adam.png",
            "stats_relu_adagrad.png",
            "histograms_tanh_adam.png",
            "histograms_relu_adam.png",
            "gradient_flow.png",
        ],
        ["tanh_adam_test_accuracy", "relu_adagrad_test_accuracy", "monitor_samples_per_run"],
    ),
    "cifar10": (
        ["curves_two_layer.png", "curves_deep.png", "weights_two_layer.png"],
        ["two_layer_test_accuracy", "deep_test_accuracy", "deep_best_val_accuracy"],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_quick_run_writes_figures_and_metrics(name, mnist_dir, cifar_dir, tmp_path):
    data_dir = cifar_dir if name == "cifar10" else mnist_dir
    result = run_demo(name, tmp_path, "--quick", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "runs" / name
    pictures, keys = EXPECTED[name]
    for picture in pictures:
        assert (out / picture).read_bytes().startswith(PNG_MAGIC), picture
    metrics = json.loads((out / "metrics.json").read_text())
    for key in keys:
        assert key in metrics, f"{key} not in {sorted(metrics)}"
    accuracies = [v for k, v in metrics.items() if k.endswith("accuracy")]
    assert accuracies and all(0.0 <= a <= 1.0 for a in accuracies)
    assert metrics["settings"]["quick"] is True
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == len(metrics["files"]) - 1  # every figure inlined


def test_cifar10_without_data_exits_2_naming_files_and_folders(tmp_path):
    missing = tmp_path / "no-cifar-here"
    result = run_demo("cifar10", tmp_path, "--quick", "--data-dir", str(missing))
    assert result.returncode == 2
    assert "data_batch_1" in result.stderr and "test_batch" in result.stderr
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_mnist_without_data_exits_2(tmp_path):
    result = run_demo("mnist_linear", tmp_path, "--quick", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert "train-images-idx3-ubyte" in result.stderr and str(tmp_path) in result.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_help_names_the_demo_and_data_dir(name, capsys):
    module = __import__(f"demos.{name}", fromlist=["main"])
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert f"python -m demos.{name}" in text and "--data-dir" in text and "--quick" in text


@pytest.mark.parametrize("name, variant", [("mnist_mlp", []), ("mnist_cnn", ["--variant", "plain"])])
def test_export_writes_the_trained_model_for_onnxruntime(name, variant, mnist_dir, tmp_path):
    install = 'needs onnx and onnxruntime: pip install -e ".[onnx]"'
    pytest.importorskip("onnx", reason=install)
    ort = pytest.importorskip("onnxruntime", reason=install)
    result = run_demo(name, tmp_path, "--quick", "--data-dir", str(mnist_dir), "--export", "model.onnx", *variant)
    assert result.returncode == 0, result.stderr[-3000:]
    agreement = re.search(
        r"wrote model\.onnx: .*onnxruntime gives the engine's outputs on \d+ test images within (\S+)", result.stdout
    )
    assert agreement, result.stdout[-2000:]
    assert float(agreement.group(1)) < 1e-4
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    shape = (3, 784) if name == "mnist_mlp" else (3, 1, 28, 28)
    (logits,) = session.run(None, {"input": np.zeros(shape, np.float32)})
    assert logits.shape == (3, 10)


def test_export_without_onnx_exits_2_before_training(monkeypatch, capsys):
    from demos import mnist_common

    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(SystemExit) as exit_info:
        mnist_common.parse_args("mnist_mlp", "", ["--export", "model.onnx"], [mnist_common.EXPORT_OPTION])
    assert exit_info.value.code == 2
    assert 'pip install -e ".[onnx]"' in capsys.readouterr().err


def test_cnn_export_names_a_file_per_variant_when_both_train():
    from demos.mnist_cnn import export_path

    assert export_path(Path("out/cnn.onnx"), "plain", "plain") == Path("out/cnn.onnx")
    assert export_path(Path("out/cnn.onnx"), "bn_dropout", "both") == Path("out/cnn_bn_dropout.onnx")


@needs_mpi
def test_the_cnn_on_two_ranks_follows_the_single_process_run(mnist_dir, tmp_path):
    args = ("--quick", "--variant", "plain", "--data-dir", str(mnist_dir))
    (tmp_path / "alone").mkdir()
    alone = run_demo("mnist_cnn", tmp_path / "alone", *args)
    (tmp_path / "two").mkdir()
    two = mpirun("-m", "demos.mnist_cnn", "--distributed", *args, cwd=tmp_path / "two", env={"MPLBACKEND": "Agg"})
    assert alone.returncode == 0 and two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
    assert two.stdout.count("test accuracy") == alone.stdout.count("test accuracy"), "rank 1 must be silent"
    single, distributed = (
        json.loads((tmp_path / run / "runs/mnist_cnn/metrics.json").read_text()) for run in ("alone", "two")
    )
    assert (single["settings"]["ranks"], distributed["settings"]["ranks"]) == (1, 2)
    assert distributed["plain_iterations"] == single["plain_iterations"]
    # The same batches and updates, summed in another order: at most one of the 150 test images may tip over.
    assert abs(distributed["plain_test_accuracy"] - single["plain_test_accuracy"]) <= 1 / 150
