"""chainrule.viz: each function writes a real, non-blank PNG of about the size asked for, or returns
its Figure; no function touches matplotlib's global state (backend, pyplot); without matplotlib,
plotting fails with an error that names the extra, and `chainrule train` carries on without plots."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib.image as mpimg  # the test extra installs matplotlib: a missing one fails, not skips
import numpy as np
import pytest
from matplotlib.figure import Figure

import chainrule
from chainrule.cli.main import main
from chainrule.viz import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DPI = 100  # what plots.finish uses
SRC = Path(chainrule.__file__).resolve().parents[1]
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


def test_without_a_path_the_figure_is_returned_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = plots.plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert list(tmp_path.iterdir()) == []


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


# -- what a reader needs to read them -----------------------------------------------------------------


def test_history_epoch_ticks_are_whole_numbers():
    fig = plots.plot_history({"loss": [1.0, 0.6, 0.5], "accuracy": [0.5, 0.7, 0.8]})
    fig.canvas.draw()  # the ticks as drawn
    for ax in fig.axes:
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert ticks == [1, 2, 3], ticks


def test_decision_boundary_has_a_legend_with_one_entry_per_class(rng):
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    predict = lambda G: (G[:, 0] > 0).astype(int) + (G[:, 1] > 0.5)  # noqa: E731
    legend = plots.plot_decision_boundary(predict, X, y, resolution=20).axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["class 0", "class 1", "class 2"]
    fig = plots.plot_decision_boundary(predict, X, y, resolution=20, class_names=["cat", "dog", "owl"])
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["cat", "dog", "owl"]
    colours = [tuple(h.get_color()) for h in legend.legend_handles]
    assert len(set(colours)) == 3  # each class its own colour


def test_weight_tiles_share_one_scale_shown_by_a_colour_bar(rng):
    W = rng.standard_normal((64, 4)) * np.array([1.0, 2.0, 3.0, 0.5])
    fig = plots.plot_weight_tiles(W, (8, 8))
    bars = [ax for ax in fig.axes if ax.get_ylabel() == "weight"]
    assert len(bars) == 1 and len(fig.axes) == 4 + 1
    limit = np.abs(W).max()
    for ax in fig.axes[:4]:
        assert ax.images[0].get_clim() == (-limit, limit)


def test_misclassified_captions_say_true_then_predicted():
    images = np.zeros((3, 8, 8))
    fig = plots.plot_misclassified(images, np.array([0, 1, 2]), np.array([1, 1, 0]), class_names=["a", "b", "c"])
    assert "true class -> predicted class" in fig._suptitle.get_text()
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["a -> b", "c -> a"]


# -- without matplotlib -------------------------------------------------------------------------------


def test_without_matplotlib_plotting_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(ImportError, match=r'^plots need matplotlib: pip install "chainrule\[plot\]"$'):
        plots.require_matplotlib()
    with pytest.raises(ImportError, match=r"chainrule\[plot\]"):
        plots.plot_history({"loss": [1.0, 0.5]}, "unused.png")


def test_train_without_matplotlib_finishes_and_says_plots_were_skipped(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["train", "--dataset", "spirals", "--samples", "120", "--epochs", "2", "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0 and "spirals: test" in out
    assert (tmp_path / "run" / "model.chainrule").is_file() and (tmp_path / "run" / "run.json").is_file()
    skipped = [line for line in out.splitlines() if "plots skipped" in line]
    assert skipped == ['plots skipped: plots need matplotlib: pip install "chainrule[plot]"']
    assert not (tmp_path / "run" / "plots").exists()


def test_training_never_imports_viz():
    """Layers: viz (top) draws what training (middle) wrote; training never reaches up, not even lazily."""
    for source in (SRC / "chainrule" / "training").glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        names = [f"{getattr(node, 'module', None) or ''}.{alias.name}" for node in imports for alias in node.names]
        assert not [n for n in names if "viz" in n.split(".")], source.name


# -- no global state ----------------------------------------------------------------------------------

# Every plotting function of chainrule.viz, called once on small data.
EVERY_PLOT = """
import numpy as np
from chainrule.viz import plots, tutorial, run_plots
from chainrule.training.config import TrainConfig
from chainrule.training.run import train_run

out = OUT
rng = np.random.default_rng(0)
X = rng.standard_normal((40, 2))
y = (X[:, 0] > 0).astype(int)
history = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.9], "val_loss": [1.1, 0.6, 0.4]}
drawn = [
    plots.plot_history(history, out / "history.png"),
    plots.plot_decision_boundary(lambda G: (G[:, 0] > 0).astype(int), X, y, out / "boundary.png", resolution=40),
    plots.plot_confusion_matrix(np.array([[5, 1], [2, 6]]), out / "cm.png"),
    plots.plot_weight_tiles(rng.standard_normal((64, 4)), (8, 8), out / "tiles.png"),
    plots.plot_misclassified(rng.random((6, 8, 8)), np.arange(6) % 3, np.zeros(6, int), out / "mis.png"),
    tutorial.plot_perceptron_lines(X, y, [(np.array([1.0, 0.5]), 0.1), (np.array([1.0, 0.0]), 0.0)],
                                   out / "lines.png"),
    tutorial.plot_cost_surface(lambda w, b: (w - 1) ** 2 + b ** 2, [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)],
                               out / "surface.png"),
    tutorial.plot_network([4, 3, 2], out / "network.png"),
    plots.plot_history(history),  # the Figure, for a notebook
]
config = TrainConfig.from_dict({"data": {"dataset": "digits", "samples": 200}, "model": {"hidden": [8]},
                                "train": {"epochs": 1}})
train_run(config, out / "run", verbose=0)
drawn += run_plots.plot_run(out / "run")
"""


def test_every_plot_leaves_the_users_backend_and_never_imports_pyplot(tmp_path):
    """In a fresh interpreter (nothing imported yet), as a user would be who chose another backend (svg:
    no screen needed, like a notebook's inline one)."""
    script = textwrap.dedent(f"""
        import sys
        import matplotlib
        matplotlib.use("svg")
        from pathlib import Path
        OUT = Path({str(tmp_path)!r})
    """) + EVERY_PLOT + textwrap.dedent("""
        assert len(drawn) == 13, drawn
        print("backend", matplotlib.get_backend())
        print("pyplot imported", "matplotlib.pyplot" in sys.modules)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    env.pop("MPLBACKEND", None)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "backend svg\n" in result.stdout
    assert "pyplot imported False\n" in result.stdout
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.png"))
    assert written == sorted(["history.png", "boundary.png", "cm.png", "tiles.png", "mis.png", "lines.png",
                              "surface.png", "network.png", *(os.path.join("run", "plots", name) for name in (
                                  "history.png", "confusion_matrix.png", "first_layer_weights.png",
                                  "misclassified.png"))]), written
