"""Training pictures: each function writes a valid PNG, and refuses arrays of the wrong shape."""

import numpy as np
import pytest

import autograd as ag

pytest.importorskip("matplotlib")

from autograd.viz import image_grid, plot_decision_boundary, plot_history  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


def test_plot_history_with_and_without_accuracies(tmp_path):
    loss = np.exp(-np.linspace(0, 5, 200)) + 0.01
    assert_png(plot_history(loss, path=tmp_path / "loss.png"))
    written = plot_history(
        list(loss), train_acc=[0.5, 0.7, 0.9], val_acc=[0.4, 0.6, 0.8], path=tmp_path / "h" / "a.png"
    )
    assert written == str(tmp_path / "h" / "a.png")
    assert_png(written)


@pytest.mark.parametrize("first_epoch", [0, 1])
def test_plot_history_numbers_epochs_from_first_epoch(tmp_path, monkeypatch, first_epoch):
    import autograd.viz.plots as plots

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda figure, path: drawn.append(figure) or str(path))
    plot_history([1.0, 0.5, 0.2], [0.3, 0.6], [0.2, 0.5], path=tmp_path / "h.png", first_epoch=first_epoch)
    accuracy_axes = drawn[0].axes[1]
    assert [list(line.get_xdata()) for line in accuracy_axes.lines] == [[first_epoch, first_epoch + 1]] * 2


def test_plot_history_refuses_an_empty_history(tmp_path):
    with pytest.raises(ValueError, match=r"plot_history: loss_history must be a non-empty 1-D .*got shape \(0,\)"):
        plot_history([], path=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_decision_boundary_with_a_model_returning_scores_as_tensors(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    w = ag.tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)

    def predict(points):
        scores = ag.tensor(points) @ w
        assert not scores.requires_grad  # drawing runs under no_grad: no graph for 40,000 points
        return scores

    assert_png(plot_decision_boundary(predict, X, y, tmp_path / "boundary.png", resolution=50))
    labels_fn = lambda points: (points[:, 0] > 0).astype(int)  # noqa: E731
    assert_png(plot_decision_boundary(labels_fn, X, y, tmp_path / "labels.png", resolution=50))


def test_plot_decision_boundary_checks_shapes(tmp_path):
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\) with N > 0, got \(5, 3\)"):
        plot_decision_boundary(lambda p: p[:, 0], np.zeros((5, 3)), np.zeros(5), tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"y must have shape \(5,\) to match X, got \(4,\)"):
        plot_decision_boundary(lambda p: p[:, 0], X, np.zeros(4), tmp_path / "a.png")
    with pytest.raises(ValueError, match="predict_fn must return 100 labels .* got shape \\(3,\\)"):
        plot_decision_boundary(lambda p: np.zeros(3), X, np.zeros(5), tmp_path / "a.png", resolution=10)


@pytest.mark.parametrize(
    "shape",
    [(8, 3, 5, 5), (6, 4, 3, 3), (1, 16, 7, 7), (5, 9, 9)],
    ids=["rgb-filters", "deep-filters", "feature-maps", "grey"],
)
def test_image_grid_tiles_filters_and_feature_maps(tmp_path, shape):
    images = np.random.default_rng(0).standard_normal(shape)
    images[0] = 0.0  # a constant tile must not divide by zero
    assert_png(image_grid(ag.tensor(images), tmp_path / "grid.png"))


def test_image_grid_refuses_other_ranks(tmp_path):
    with pytest.raises(
        ValueError, match=r"image_grid: images must have shape \(N, H, W\) or \(N, C, H, W\), got \(4, 4\)"
    ):
        image_grid(np.zeros((4, 4)), tmp_path / "g.png")
    with pytest.raises(ValueError, match="at least one image"):
        image_grid(np.zeros((0, 4, 4)), tmp_path / "g.png")
