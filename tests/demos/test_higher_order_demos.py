"""The demos built on gradients of gradients: `pinn` (u'' by differentiating a net twice in its input) and
`curvature` (the top Hessian eigenvalue by power iteration on Hessian-vector products).

Each --quick run works from any folder without MNIST (curvature falls back to the 8x8 digits), writes its
picture and a metrics.json whose numbers are checked; the power iteration is checked against the
eigenvalues of a small Hessian built column by column from the same Hessian-vector products.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import autograd
from demos import curvature
from tests.demos.quick_runs import HAS_MATPLOTLIB, HAS_SKLEARN, PNG_MAGIC, run_quick, start

# demo -> (top-level metrics keys, pictures in "files")
DEMOS = {
    "pinn": ({"max_abs_error", "first_residual_loss", "final_residual_loss", "history"}, {"solution", "loss"}),
    "curvature": ({"data", "two_over_lr", "top_eigenvalues", "runs"}, {"curvature"}),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    return run_quick(DEMOS, tmp_path_factory)


def metrics_of(runs: dict, name: str) -> dict:
    return json.loads((runs[name][3] / "runs" / name / "metrics.json").read_text())


@pytest.mark.parametrize("name", DEMOS)
def test_quick_run_writes_its_pictures_and_metrics(runs, name):
    keys, pictures = DEMOS[name]
    returncode, stdout, stderr, folder = runs[name]
    if name == "curvature" and not HAS_SKLEARN:
        assert returncode != 0 and "scikit-learn" in stderr
        return
    assert returncode == 0, stderr[-3000:]
    metrics = metrics_of(runs, name)
    assert keys <= set(metrics), sorted(keys - set(metrics))
    assert metrics["settings"]["quick"] is True and metrics["settings"]["seed"] == 1
    assert math.isfinite(metrics["wall_time_s"]) and metrics["wall_time_s"] > 0
    assert set(metrics["files"]) == (pictures if HAS_MATPLOTLIB else set())
    for path in metrics["files"].values():
        assert (folder / path).read_bytes()[:8] == PNG_MAGIC, path
    assert str(Path("runs") / name) in stdout


def test_pinn_learns_the_equation(runs):
    """The residual of u'' = f falls by orders of magnitude, and u is already near sin(pi x) everywhere."""
    assert runs["pinn"][0] == 0, runs["pinn"][2][-3000:]
    metrics = metrics_of(runs, "pinn")
    residual = metrics["history"]["residual"]
    assert metrics["first_residual_loss"] == residual[0] and metrics["final_residual_loss"] == residual[-1]
    assert residual[-1] < residual[0] / 100
    assert 0 < metrics["max_abs_error"] < 0.05


@pytest.mark.skipif(not HAS_SKLEARN, reason="the digits fallback needs scikit-learn")
def test_curvature_measures_every_run_against_its_2_over_lr(runs):
    assert runs["curvature"][0] == 0, runs["curvature"][2][-3000:]
    assert "using scikit-learn's 8x8 digits" in runs["curvature"][1]
    metrics = metrics_of(runs, "curvature")
    assert metrics["data"] == "digits"
    config = curvature.QUICK
    assert set(metrics["runs"]) == {f"lr {lr:g}" for lr in config["lrs"]}
    for name, run in metrics["runs"].items():
        assert metrics["two_over_lr"][name] == pytest.approx(2 / run["lr"])
        steps = list(range(0, config["steps"] + 1, config["every"]))
        assert run["eigenvalue_steps"] == steps and len(metrics["top_eigenvalues"][name]) == len(steps)
        assert all(math.isfinite(e) and e > 0 for e in run["top_eigenvalues"])
        assert len(run["loss"]) == config["steps"] + 1 and run["final_loss"] < run["loss"][0]


def test_power_iteration_finds_the_top_eigenvalue_of_the_full_hessian():
    """On a 5-4-3 MLP (39 weights), H is built from the Hessian-vector products of the basis vectors:
    it is symmetric, it is the gradient's finite difference, and power iteration's eigenvalue is its largest,
    to 1e-6."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 5)), rng.integers(0, 3, 20)
    autograd.manual_seed(0)
    model = curvature.make_model(5, 4, classes=3, dtype=np.float64)
    params = list(model.parameters())
    product = curvature.hessian_vector_product(autograd.cross_entropy(model(X), y), params)
    sizes = [p.value.size for p in params]

    def as_params(flat):
        return [part.reshape(p.shape) for part, p in zip(np.split(flat, np.cumsum(sizes)[:-1]), params)]

    columns = [np.concatenate([h.ravel() for h in product(as_params(e))]) for e in np.eye(sum(sizes))]
    hessian = np.stack(columns, axis=1)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)
    eigenvalues = np.linalg.eigvalsh(hessian)
    assert eigenvalues[-1] > abs(eigenvalues[0])  # the top eigenvalue is the largest in magnitude

    start_vectors = as_params(rng.standard_normal(sum(sizes)))
    top, vectors = curvature.top_eigenvalue(product, start_vectors, iterations=5000, tol=1e-14)
    assert top == pytest.approx(eigenvalues[-1], rel=1e-6)
    v = np.concatenate([a.ravel() for a in vectors])
    np.testing.assert_allclose(hessian @ v, top * v, atol=1e-5 * top)

    # And H is the Hessian: along v, the central difference of the gradient. Last, as it moves the
    # weights in place, under the graph recorded above.
    def gradient_at(flat):
        for p, part in zip(params, as_params(flat)):
            p.value[...] = part
        grads = autograd.grad(autograd.cross_entropy(model(X), y), params)
        return np.concatenate([g.value.ravel() for g in grads])

    weights, h = np.concatenate([p.value.ravel() for p in params]), 1e-5
    difference = (gradient_at(weights + h * v) - gradient_at(weights - h * v)) / (2 * h)
    np.testing.assert_allclose(difference, hessian @ v, atol=1e-8)


@pytest.mark.parametrize("name", DEMOS)
def test_help_describes_the_demo_and_its_options(name, tmp_path):
    process = start(name, "--help", cwd=tmp_path)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert f"python -m demos.{name}" in stdout and all(o in stdout for o in ("--seed", "--quick", "--out"))
    assert not (tmp_path / "runs").exists()
