"""chainrule.viz.plots: each function writes a real, non-blank PNG of about the size asked for;
without matplotlib, plotting fails with an error that names the extra, and training carries on."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from chainrule.training.config import TrainConfig
from chainrule.training.run import train_run
from chainrule.viz import plots

mpimg = pytest.importorskip("matplotlib.image")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 100  # what plots._save uses
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def check_png(path, figsize, min_colours=50):
    """A PNG of about figsize * dpi pixels (bbox_inches='tight' trims or grows it a little), not blank."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    height, width = image.shape[:2]
    expected_width, expected_height = figsize[0] * DPI, figsize[1] * DPI
    assert 0.6 * expected_width <= width <= 1.5 * expected_width, (width, expected_width)
    assert 0.6 * expected_height <= height <= 1.5 * expected_height, (height, expected_height)
    colours = np.unique(image.reshape(-1, image.shape[2]), axis=0)
    assert len(colours) >= min_colours, len(colours)  # drawn on, not a blank canvas
    assert image[..., :3].std() > 0.05
    return image


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_pyplot_is_matplotlib_on_the_agg_backend():
    import matplotlib

    plt = plots.pyplot()
    assert plt.__name__ == "matplotlib.pyplot"
    assert matplotlib.get_backend().lower() == "agg"


def test_history_with_validation_and_a_metric(tmp_path):
    history = {"loss": [1.2, 0.7, 0.5, 0.4], "accuracy": [0.5, 0.7, 0.8, 0.85], "val_loss": [1.3, 0.8, 0.6, 0.55],
               "val_accuracy": [0.45, 0.65, 0.75, 0.8], "lr": [1e-3] * 4, "time": [0.1] * 4}
    path = plots.plot_history(history, tmp_path / "nested" / "folder" / "history.png")  # folders are made
    assert path == tmp_path / "nested" / "folder" / "history.png"
    check_png(path, (11, 4))  # two panels of 5.5 x 4


def test_history_of_the_loss_alone_even_when_it_reaches_zero(tmp_path):
    check_png(plots.plot_history({"loss": [0.5, 0.1, 0.0]}, tmp_path / "h.png", title="regression"), (5.5, 4))


def test_decision_boundary(tmp_path, rng):
    X = rng.standard_normal((150, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)

    def predict(grid):
        assert grid.shape == (100 * 100, 2) and grid.dtype == np.float32
        return (grid[:, 0] > 0).astype(int) + (grid[:, 1] > 0.5)

    path = plots.plot_decision_boundary(predict, X, y, tmp_path / "boundary.png", resolution=100)
    check_png(path, (6, 6))


def test_confusion_matrix_with_class_names(tmp_path, rng):
    C = rng.integers(0, 30, (10, 10)) + np.diag(rng.integers(50, 100, 10))
    check_png(plots.plot_confusion_matrix(C, tmp_path / "cm.png", FASHION), (1.0 + 0.6 * 10, 0.8 + 0.6 * 10))


def test_confusion_matrix_of_two_classes(tmp_path):
    check_png(plots.plot_confusion_matrix(np.array([[5, 1], [0, 6]]), tmp_path / "cm2.png"), (2.2, 2.0),
              min_colours=20)


def test_weight_tiles(tmp_path, rng):
    W = rng.standard_normal((64, 128))  # 128 hidden units of an 8x8 input: the first 16 are drawn, 4x4
    check_png(plots.plot_weight_tiles(W, (8, 8), tmp_path / "w.png", max_tiles=16), (4 * 1.1, 4 * 1.1 + 0.4))
    W = rng.standard_normal((784, 10))  # 10 units of a 28x28 input: a 4x3 grid
    check_png(plots.plot_weight_tiles(W, (28, 28), tmp_path / "w28.png"), (4 * 1.1, 3 * 1.1 + 0.4))


def test_misclassified(tmp_path, rng):
    images = rng.random((60, 28, 28))
    y_true = np.arange(60) % 10
    y_pred = np.where(np.arange(60) % 3 == 0, (y_true + 1) % 10, y_true)  # 20 wrong: the first 8 are drawn
    path = plots.plot_misclassified(images, y_true, y_pred, tmp_path / "mis.png", FASHION, max_images=8)
    check_png(path, (5 * 1.6, 2 * 1.8 + 0.4))


def test_misclassified_when_nothing_is(tmp_path, rng):
    y = np.arange(10)
    check_png(plots.plot_misclassified(rng.random((10, 8, 8)), y, y, tmp_path / "none.png"), (1.6, 1.8 + 0.4),
              min_colours=20)


# -- without matplotlib -------------------------------------------------------------------------------


def test_pyplot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(ImportError, match=r"chainrule\[plot\]"):
        plots.pyplot()
    with pytest.raises(ImportError, match=r"chainrule\[plot\]"):
        plots.plot_history({"loss": [1.0, 0.5]}, "unused.png")


def test_training_without_matplotlib_finishes_and_says_plots_were_skipped(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    config = TrainConfig.from_dict({"data": {"dataset": "spirals", "n_samples": 120}, "train": {"epochs": 2}})
    messages = []
    card = train_run(config, tmp_path / "run", verbose=0, plots=True, log=messages.append)
    assert card["plots"] == [] and card["epochs_run"] == 2
    assert (tmp_path / "run" / "model.chainrule").is_file() and (tmp_path / "run" / "run.json").is_file()
    skipped = [m for m in messages if "plots skipped" in m]
    assert len(skipped) == 1 and "chainrule[plot]" in skipped[0]
    assert not list((tmp_path / "run").glob("plots/*.png"))
