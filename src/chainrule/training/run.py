"""A training run from a recipe (TrainConfig) into a run directory.

The run directory holds::

    config.toml        the resolved recipe (every key, defaults filled in)
    model.chainrule    the trained model, with its preprocessing
    checkpoint.chainrule  the state after the last finished epoch (for --resume)
    history.csv, history.json   loss, metrics and lr per epoch
    run.json           the run card: seed, data checksum, versions, final metrics, wall time, diagnostics
    plots/*.png        curves, confusion matrix, decision boundary or weights and mistakes (plot extra;
                       drawn by chainrule train with viz.run_plots, not here)
"""

from __future__ import annotations

import csv
import json
import platform
import time
from pathlib import Path

import numpy as np

from .. import losses as losses_module
from .. import optim, schedules
from ..io.atomic import atomic_write
from ..layers import ACTIVATIONS, BatchNorm, Dense, Dropout
from ..model import Sequential
from . import callbacks as cbs
from .checkpoint import Checkpoint
from .config import TrainConfig
from .datasource import load_data
from .diagnostics import Diagnostics

# -- model and training pieces -------------------------------------------------


def build_model(config, n_in, n_out):
    """Dense -> [BatchNorm] -> activation -> [Dropout] for every hidden width, then Dense to n_out."""
    m, t = config.model, config.train
    relu_family = m.activation in ("relu", "leaky_relu", "elu", "gelu")
    init = m.init or ("he_uniform" if relu_family else "glorot_uniform")
    layers, width = [], n_in
    for hidden in m.hidden:
        layers.append(Dense(width, hidden, init=init, l2=m.l2))
        if m.batchnorm:
            layers.append(BatchNorm(hidden))
        layers.append(ACTIVATIONS[m.activation]())
        if m.dropout:
            layers.append(Dropout(m.dropout))
        width = hidden
    layers.append(Dense(width, n_out, init="glorot_uniform", l2=m.l2))
    return Sequential(layers, rng=t.seed, dtype=t.dtype)


def build_optimizer(train):
    common = {"lr": train.lr, "weight_decay": train.weight_decay, "clipnorm": train.clipnorm or None}
    if train.optimizer == "sgd":
        return optim.SGD(momentum=train.momentum, nesterov=train.nesterov, **common)
    if train.optimizer == "rmsprop":
        return optim.RMSProp(momentum=train.momentum, **common)
    return optim.OPTIMIZERS[train.optimizer](**common)


def build_callbacks(train, has_validation):
    """The callbacks the recipe asks for (their state is checkpointed)."""
    monitor = "val_loss" if has_validation else "loss"
    found = []
    if train.schedule == "step":
        found.append(cbs.LearningRateScheduler(schedules.StepDecay(train.step_size, train.gamma)))
    elif train.schedule == "exponential":
        found.append(cbs.LearningRateScheduler(schedules.ExponentialDecay(1.0 - train.gamma)))
    elif train.schedule == "cosine":
        found.append(cbs.LearningRateScheduler(schedules.CosineDecay(train.epochs, train.warmup_epochs)))
    elif train.schedule == "plateau":
        found.append(cbs.ReduceLROnPlateau(monitor=monitor, factor=train.gamma, patience=max(train.patience // 2, 2)))
    if train.patience:
        found.append(cbs.EarlyStopping(monitor=monitor, patience=train.patience, restore_best_weights=True))
    return found


def _scaler(name):
    from ..data.preprocessing import SCALERS

    return SCALERS.get(name)


# -- the run -------------------------------------------------------------------


def train_run(config: TrainConfig, run_dir, resume=False, verbose=1, data_dir=None, log=print, strategy=None):
    """Train the recipe into ``run_dir`` (resuming from its checkpoint if asked); return the run card.

    ``strategy`` (chainrule.distributed.DataParallel) trains on every MPI rank; only rank 0 writes and logs."""
    run_dir = Path(run_dir)
    started = time.perf_counter()
    root = strategy is None or strategy.is_root
    log = log if root else (lambda message: None)
    if resume:
        config = TrainConfig.from_toml(run_dir / "config.toml")
    elif root:
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(run_dir / "config.toml", "w") as f:
            f.write(config.to_toml())
    t = config.train
    data = load_data(config, data_dir)
    classify = data["task"] == "classification"
    if config.data.dataset in ("csv", "images"):  # your own data: say what the targets were read as
        log(f"task: {data['task']} ({data['task_reason']})")
    n_out = len(data["classes"]) if classify else (1 if data["y_train"].ndim == 1 else data["y_train"].shape[1])
    if classify and n_out == 2 and t.loss in ("bce", "binary_cross_entropy"):
        n_out = 1
    loss = losses_module.get(t.loss or ("cross_entropy" if classify else "mse"))
    model = build_model(config, data["X_train"].shape[1], n_out)
    scaler_cls = _scaler(config.data.scale)
    if scaler_cls is not None:
        model.preprocessor = scaler_cls().fit(data["X_train"])
    optimizer = build_optimizer(t)
    history = cbs.History()
    tracked = build_callbacks(t, data["X_val"] is not None)
    diagnostics = Diagnostics(verbose=verbose == 2)
    checkpoint = Checkpoint(run_dir / "checkpoint.chainrule", history, tracked)
    writers = [checkpoint] if root else []
    initial_epoch = 0
    if resume:
        initial_epoch = checkpoint.restore(model, optimizer)
        if checkpoint.stopped_early and (run_dir / "run.json").is_file():
            log(f"{run_dir} finished already (early stopping after epoch {initial_epoch}); nothing to resume")
            return json.loads((run_dir / "run.json").read_text())
        log(f"resuming {run_dir} after epoch {initial_epoch} of {t.epochs}")
    validation = (data["X_val"], data["y_val"]) if data["X_val"] is not None else None
    if initial_epoch < t.epochs:
        model.fit(data["X_train"], data["y_train"], loss=loss, optimizer=optimizer, epochs=t.epochs,
                  batch_size=t.batch_size, validation_data=validation, callbacks=[*tracked, diagnostics, *writers],
                  verbose=verbose, initial_epoch=initial_epoch, history=history, strategy=strategy)
    model.compile(loss)
    if root:
        model.save(run_dir / "model.chainrule")
        write_history(history.history, run_dir)
    test = model.evaluate(data["X_test"], data["y_test"],
                          metrics=["accuracy", "precision", "recall", "f1"] if classify else ["mse", "mae", "r2"])
    describe_model(model, data, run_dir)
    card = {
        "dataset": config.data.dataset, "task": {"task": data["task"], "reason": data["task_reason"]}, "seed": t.seed, "train_rows": len(data["X_train"]),
        "train_data_sha256": data["train_sha256"], "epochs_run": len(history.history.get("loss", [])),
        "test": test, "final": {k: v[-1] for k, v in history.history.items()},
        "wall_time_seconds": round(time.perf_counter() - started, 3), "resumed": bool(resume),
        "parameters": model.num_params, "diagnostics": diagnostics.records[-1] if diagnostics.records else {},
        "versions": _versions(),
    }
    if strategy is not None:
        card["ranks"] = strategy.size
    if root:
        with atomic_write(run_dir / "run.json", "w") as f:
            json.dump(card, f, indent=2)
    return card


def describe_model(model, data, run_dir):
    """Keep the classes' original labels and the training images' format in the saved model (after
    training: ``fit`` and ``evaluate`` above work on class indices)."""
    model.classes_, model.input_image_ = data["classes"], data["input_image"]
    model.save(run_dir / "model.chainrule")


def write_history(history, run_dir):
    """history.json and history.csv (one row per epoch)."""
    with atomic_write(Path(run_dir) / "history.json", "w") as f:
        json.dump(history, f, indent=2)
    keys = list(history)
    with atomic_write(Path(run_dir) / "history.csv", "w") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *keys])
        for i in range(len(history.get("loss", []))):
            writer.writerow([i + 1, *(history[k][i] for k in keys)])


def _versions():
    from .. import __version__

    return {"chainrule": __version__, "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform()}
