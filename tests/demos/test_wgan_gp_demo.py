"""The WGAN-GP demo: its --quick run writes its pictures and a metrics.json whose numbers are checked, and
the gradient penalty's gradient with respect to every critic weight (a gradient of a gradient) equals
PyTorch's to 1e-9 in float64.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import autograd
from demos import wgan_gp
from tests.demos.quick_runs import HAS_MATPLOTLIB, PNG_MAGIC, run_quick, start


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple:
    """(return code, stdout, stderr, folder) of one --quick run."""
    return run_quick(["wgan_gp"], tmp_path_factory)["wgan_gp"]


def test_quick_run_writes_its_pictures_and_metrics(run):
    returncode, stdout, stderr, folder = run
    assert returncode == 0, stderr[-3000:]
    metrics = json.loads((folder / "runs" / "wgan_gp" / "metrics.json").read_text())
    keys = {"modes_hit", "fraction_within_3_sigma", "fraction_per_mode", "wasserstein_estimate"}
    assert keys | {"mean_gradient_norm", "history"} <= set(metrics)
    assert metrics["settings"]["quick"] is True and metrics["settings"]["seed"] == 1
    assert math.isfinite(metrics["wall_time_s"]) and metrics["wall_time_s"] > 0
    assert set(metrics["files"]) == ({"samples", "training"} if HAS_MATPLOTLIB else set())
    for path in metrics["files"].values():
        assert (folder / path).read_bytes()[:8] == PNG_MAGIC, path
    assert str(Path("runs") / "wgan_gp") in stdout

    assert metrics["modes"] == wgan_gp.MODES and 0 <= metrics["modes_hit"] <= wgan_gp.MODES
    per_mode = metrics["fraction_per_mode"]
    assert len(per_mode) == wgan_gp.MODES and all(0 <= f <= 1 for f in per_mode)
    assert sum(per_mode) == pytest.approx(metrics["fraction_within_3_sigma"])
    assert metrics["modes_hit"] == sum(f >= wgan_gp.MIN_HITS for f in per_mode)
    assert math.isfinite(metrics["wasserstein_estimate"])

    history, config = metrics["history"], wgan_gp.QUICK
    assert history["step"][0] == 1 and history["step"][-1] == config["steps"]
    assert all(len(history[key]) == len(history["step"]) for key in ("wasserstein", "penalty", "gradient_norm"))
    # Even 40 steps pull the critic's slope at the interpolates from far off towards 1.
    assert history["penalty"][-1] < history["penalty"][0]
    assert abs(metrics["mean_gradient_norm"] - 1) < abs(history["gradient_norm"][0] - 1)


def test_coverage_counts_points_within_3_sigma_of_each_mode():
    centers = wgan_gp.centers()
    samples = np.concatenate([centers[:3], centers[:1] + 2.9 * wgan_gp.SIGMA, np.zeros((6, 2))])
    cover = wgan_gp.coverage(samples)  # 10 samples: 3 on modes 0-2, one 4.1 sigma from mode 0, 6 at the centre
    assert cover["fraction_within_3_sigma"] == pytest.approx(0.3)
    np.testing.assert_allclose(cover["fraction_per_mode"], [0.1, 0.1, 0.1] + [0.0] * (wgan_gp.MODES - 3))
    assert cover["modes_hit"] == 3


def test_gradient_penalty_gradient_matches_torch():
    """The same float64 critic in both frameworks: the penalty and its gradient with respect to every weight.

    With (leaky) ReLUs the input gradient is a product of weight matrices and fixed masks, so the penalty does
    not depend on the biases: the engine reports them as unused (None), PyTorch as None or zeros.
    """
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    autograd.manual_seed(0)
    critic = wgan_gp.make_mlp(2, 16, 3, 1, dtype=np.float64)
    real, fake = wgan_gp.sample_real(rng, 64, np.float64), rng.standard_normal((64, 2))
    x_hat = wgan_gp.interpolates(real, fake, rng)
    params = list(critic.parameters())
    penalty, norms = wgan_gp.gradient_penalty(critic, x_hat)
    grads = autograd.grad(penalty, params, allow_unused=True)

    weights = [torch.tensor(p.value.copy(), requires_grad=True) for p in params]
    x = torch.tensor(x_hat, requires_grad=True)
    h = x
    for i in range(0, len(weights), 2):
        h = torch.nn.functional.linear(h, weights[i], weights[i + 1])
        if i < len(weights) - 2:
            h = torch.nn.functional.leaky_relu(h, wgan_gp.SLOPE)
    (gradient,) = torch.autograd.grad(h, x, torch.ones_like(h), create_graph=True)
    torch_norms = gradient.norm(2, dim=1)
    torch_penalty = ((torch_norms - 1) ** 2).mean()
    torch_grads = torch.autograd.grad(torch_penalty, weights, allow_unused=True)

    np.testing.assert_allclose(norms, torch_norms.detach().numpy(), rtol=1e-12)
    assert penalty.item() == pytest.approx(torch_penalty.item(), rel=1e-12)
    assert all(g is not None for g in grads[0::2])  # every weight matrix gets a gradient
    for p, g, expected in zip(params, grads, torch_grads):
        ours = np.zeros(p.shape) if g is None else g.value
        theirs = np.zeros(p.shape) if expected is None else expected.numpy()
        assert ours.dtype == np.float64
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12 * np.abs(theirs).max(initial=1.0))


def test_help_describes_the_demo_and_its_options(tmp_path):
    process = start("wgan_gp", "--help", cwd=tmp_path)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "python -m demos.wgan_gp" in stdout and all(o in stdout for o in ("--seed", "--quick", "--out"))
    assert not (tmp_path / "runs").exists()
