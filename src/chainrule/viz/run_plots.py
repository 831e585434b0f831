"""The plots of a run directory (plots/*.png), drawn after training.

training/ does not draw (viz sits above it): ``chainrule train`` calls train_run, then
plot_run, which reads back what the run wrote (model, history, recipe) and draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..io.serialize import load_model
from ..layers import Dense
from ..metrics import confusion_matrix
from ..training.config import TrainConfig
from ..training.run import load_data
from . import plots


def plot_run(run_dir, data_dir=None, log=print):
    """write_run_plots for the finished run in ``run_dir``, into run_dir/plots; the paths as strings."""
    try:
        plots.require_matplotlib()  # before reloading the data, which costs time on MNIST
    except ImportError as err:
        log(f"plots skipped: {err}")
        return []
    run_dir = Path(run_dir)
    config = TrainConfig.from_toml(run_dir / "config.toml")
    history = json.loads((run_dir / "history.json").read_text())
    return write_run_plots(load_model(run_dir / "model.chainrule"), load_data(config, data_dir), history,
                           run_dir / "plots", log)


def write_run_plots(model, data, history, folder, log=print):
    """The plots that fit the data, written into ``folder``; their paths as strings.

    ``data`` is what training.run.load_data returns and ``history`` the History's dict.
    Without matplotlib nothing is written: one 'plots skipped: ...' line goes to ``log``
    and the list is empty.
    """
    try:
        plots.require_matplotlib()
    except ImportError as err:
        log(f"plots skipped: {err}")
        return []
    folder = Path(folder)
    written = [plots.plot_history(history, folder / "history.png")]
    if data["task"] != "classification":
        return [str(p) for p in written]
    X_test, y_test = data["X_test"], data["y_test"]
    predicted = model.predict_index(X_test)  # class indices, as y_test holds
    k = max(int(y_test.max()), int(predicted.max())) + 1
    written.append(plots.plot_confusion_matrix(confusion_matrix(y_test, predicted, k), folder / "confusion_matrix.png",
                                               data["class_names"]))
    if X_test.shape[1] == 2:
        X_all = np.concatenate([data["X_train"], X_test])
        y_all = np.concatenate([data["y_train"], y_test])
        written.append(plots.plot_decision_boundary(model.predict_index, X_all, y_all, folder / "decision_boundary.png",
                                                    class_names=data["class_names"]))
    if data["image_shape"] is not None:
        shape = data["image_shape"]
        first = next(layer for layer in model.layers if isinstance(layer, Dense))
        written.append(plots.plot_weight_tiles(first.W, shape, folder / "first_layer_weights.png"))
        written.append(plots.plot_misclassified(X_test.reshape(-1, *shape), y_test, predicted,
                                                folder / "misclassified.png", data["class_names"]))
    return [str(p) for p in written]
