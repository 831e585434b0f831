"""A training run from a recipe (TrainConfig) into a run directory.

The run directory holds::

    config.toml        the resolved recipe (every key, defaults filled in)
    model.chainrule    the trained model, with its preprocessing
    checkpoint.chainrule  the state after the last finished epoch (for --resume)
    history.csv, history.json   loss, metrics and lr per epoch
    data.sha256        the SHA-256 of the training rows the run started on (--resume compares it)
    run.json           the run card: seed, data checksum, versions, final metrics, wall time, diagnostics
    plots/*.png        curves, confusion matrix, decision boundary or weights and mistakes (plot extra;
                       drawn by chainrule train with viz.run_plots, not here)
"""

from __future__ import annotations

import csv
import json
import os
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
from .rundir import (RunDirectoryError, check_data_digest, lock_run_dir, new_run_dir, sweep_own_temp_files,
                     write_data_digest)

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


def scaler_class(name):
    """The scaler class a recipe's ``[data] scale`` names (None for none)."""
    from ..data.preprocessing import SCALERS

    return SCALERS.get(name)


# -- the run -------------------------------------------------------------------


def train_run(config: TrainConfig, run_dir, resume=False, verbose=1, data_dir=None, log=print, overwrite=False,
              accept_changed_data=False, strategy=None, epochs=None, log_every=1):
    """Train the recipe into ``run_dir`` (resuming from its checkpoint if asked); return the run card.

    Everything is checked (recipe, data, memory) before the folder is touched; the folder is locked
    while the run writes; ``overwrite`` keeps the old run until the new one's first checkpoint.
    ``strategy`` (chainrule.distributed.DataParallel) trains on every MPI rank; only rank 0 writes and logs.
    ``epochs`` (with ``resume``): continue a finished or stopped run to this many epochs in all; see
    ``continue_run``. ``log_every``: print every K-th epoch line (and the first and last).
    """
    run_dir = Path(run_dir)
    options = {"verbose": verbose, "data_dir": data_dir, "accept_changed_data": accept_changed_data,
               "strategy": strategy, "log_every": log_every}
    if strategy is not None and not strategy.is_root:  # another rank: it trains beside rank 0, which alone writes
        config = _resumed_config(run_dir, epochs) if resume else config
        return _train(config, run_dir, resume, log=lambda message: None, overwrite=False,
                      extend=resume and epochs is not None, **options)
    if not resume:
        return _train(config, run_dir, False, log=log, overwrite=overwrite, extend=False, **options)
    with lock_run_dir(run_dir):
        sweep_own_temp_files(run_dir)
        return _train(_resumed_config(run_dir, epochs), run_dir, True, log=log, overwrite=False,
                      extend=epochs is not None, **options)


def _resumed_config(run_dir, epochs):
    """The run's own recipe; with ``epochs``, its epochs changed (config.toml is rewritten only once
    the run is known to continue)."""
    config = TrainConfig.from_toml(run_dir / "config.toml")
    return config if epochs is None else config.with_overrides("train", epochs=epochs)


def _train(config, run_dir, resume, verbose, data_dir, log, overwrite, accept_changed_data, strategy, extend,
           log_every):
    started = time.perf_counter()
    root = strategy is None or strategy.is_root
    t = config.train
    data = load_data(config, data_dir)
    classify = data["task"] == "classification"
    if config.data.dataset in ("csv", "images"):  # your own data: say what the targets were read as
        log(f"task: {data['task']} ({data['task_reason']})")
    n_out = len(data["classes"]) if classify else (1 if data["y_train"].ndim == 1 else data["y_train"].shape[1])
    if classify and n_out == 2 and t.loss in ("bce", "binary_cross_entropy"):
        n_out = 1
    loss = losses_module.get(t.loss or ("cross_entropy" if classify else "mse"))
    check_fits_in_memory(config, data["X_train"].shape[1], n_out)
    model = build_model(config, data["X_train"].shape[1], n_out)
    scaler_cls = scaler_class(config.data.scale)
    if scaler_cls is not None:
        model.preprocessor = scaler_cls().fit(data["X_train"])
    optimizer = build_optimizer(t)
    history = cbs.History()
    tracked = build_callbacks(t, data["X_val"] is not None)
    diagnostics = Diagnostics(verbose=verbose == 2 and log_every == 1)  # its line goes with every epoch's
    checkpoint = Checkpoint(run_dir / "checkpoint.chainrule", history, tracked)
    writers = [checkpoint] if root else []
    validation = (data["X_val"], data["y_val"]) if data["X_val"] is not None else None

    def fit(initial_epoch, epochs, *extra):
        model.fit(data["X_train"], data["y_train"], loss=loss, optimizer=optimizer, epochs=epochs,
                  batch_size=t.batch_size, validation_data=validation,
                  callbacks=[*tracked, diagnostics, *writers, *extra], verbose=verbose,
                  initial_epoch=initial_epoch, history=history, strategy=strategy, log_every=log_every)

    finish = (lambda: finish_run(config, run_dir, model, loss, history, diagnostics, data, started, resume, strategy))
    if resume:
        initial_epoch = checkpoint.restore(model, optimizer)
        card = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else None
        check_resumable(run_dir, initial_epoch, t.epochs, checkpoint.stopped_early, extend)
        check_data_digest(run_dir, data["train_sha256"], accept_changed_data, log, card)
        if extend and t.epochs > initial_epoch:
            return continue_run(config, run_dir, initial_epoch, checkpoint, tracked, fit, finish, log, root)
        if card is not None:  # a finished run: its results stay as they are
            log(f"not resuming {run_dir}: it finished already ({card.get('epochs_run', initial_epoch)} epochs); its "
                f"results stay as they are (--epochs N, more than {initial_epoch}, continues it to N epochs)")
            return card
        if checkpoint.stopped_early:
            log(f"{run_dir} stopped early after epoch {initial_epoch}; writing its results")
        else:
            log(f"resuming {run_dir} after epoch {initial_epoch} of {t.epochs}")
        # no epochs when it stopped early or is done: fit then only restores the best weights (as it would have)
        fit(initial_epoch, initial_epoch if checkpoint.stopped_early else max(t.epochs, initial_epoch))
        return finish()
    if not root:
        fit(0, t.epochs)
        return finish()
    with new_run_dir(run_dir, overwrite) as first_checkpoint_written:
        with atomic_write(run_dir / "config.toml", "w") as f:
            f.write(config.to_toml())
        write_data_digest(run_dir, data["train_sha256"])
        fit(0, t.epochs, _AfterEpoch(first_checkpoint_written))
        return finish()


class _AfterEpoch(cbs.Callback):
    """Calls ``action`` after every epoch (put after the Checkpoint: then a checkpoint exists)."""

    def __init__(self, action):
        self.action = action

    def on_epoch_end(self, epoch, logs=None):
        self.action()


def continue_run(config, run_dir, epochs_done, checkpoint, tracked, fit, finish, log, root=True):
    """``--resume RUN --epochs N``: train a finished or stopped run on to N epochs in all, then write its
    results again (model, history, run.json; config.toml says epochs = N).

    The schedule is the recipe's with the new epochs: a cosine schedule is stretched (recomputed with
    total N, so its rate goes back up from where the shorter run ended); step, exponential and plateau
    schedules do not depend on the total and carry on. A run that early stopping ended gets its
    patience back: it trains on from its last epoch's weights until ``patience`` epochs in a row fail
    to beat the best so far (the best is kept), and ends with the best weights seen.
    """
    t = config.train
    if root:  # with MPI, rank 0 alone writes
        with atomic_write(run_dir / "config.toml", "w") as f:
            f.write(config.to_toml())
    extra = []
    if checkpoint.stopped_early:
        log(f"{run_dir} stopped early after epoch {epochs_done}; continuing to {t.epochs} epochs with its "
            f"patience ({t.patience}) counted afresh")
        extra.append(_AtTrainBegin(lambda: _reset_patience(tracked)))
    else:
        log(f"continuing {run_dir} after epoch {epochs_done} to {t.epochs} epochs")
    fit(epochs_done, t.epochs, *extra)
    return finish()


def _reset_patience(callbacks):
    for cb in callbacks:
        if isinstance(cb, cbs.EarlyStopping):
            cb.wait = 0


class _AtTrainBegin(cbs.Callback):
    """Calls ``action`` when training begins (put after the Checkpoint: then its state is restored)."""

    def __init__(self, action):
        self.action = action

    def on_train_begin(self, logs=None):
        self.action()


def finish_run(config, run_dir, model, loss, history, diagnostics, data, started, resume, strategy=None):
    """model.chainrule (with the classes' original labels and the training images' format), history
    and the run card run.json; on other MPI ranks than 0, only the card."""
    t, classify = config.train, data["task"] == "classification"
    root = strategy is None or strategy.is_root
    model.compile(loss)
    test = model.evaluate(data["X_test"], data["y_test"],
                          metrics=["accuracy", "precision", "recall", "f1"] if classify else ["mse", "mae", "r2"])
    # fit and evaluate above work on class indices; the saved model speaks the original labels
    model.classes_, model.input_image_ = data["classes"], data["input_image"]
    card = {
        "dataset": config.data.dataset, "task": {"task": data["task"], "reason": data["task_reason"]},
        "seed": t.seed, "train_rows": len(data["X_train"]),
        "train_data_sha256": data["train_sha256"], "epochs_run": len(history.history.get("loss", [])),
        "test": test, "final": {k: v[-1] for k, v in history.history.items()},
        "wall_time_seconds": round(time.perf_counter() - started, 3), "resumed": bool(resume),
        "parameters": model.num_params, "diagnostics": diagnostics.records[-1] if diagnostics.records else {},
        "versions": versions(),
    }
    if strategy is not None:
        card["ranks"] = strategy.size
    if root:
        model.save(run_dir / "model.chainrule")
        write_history(history.history, run_dir)
        with atomic_write(run_dir / "run.json", "w") as f:
            json.dump(card, f, indent=2)
    return card


def check_resumable(run_dir, epochs_done, epochs, stopped_early, extend=False):
    """The checkpoint's epoch count must fit the recipe's (or, with ``extend``, the --epochs given)."""
    if epochs_done > epochs and extend:
        raise RunDirectoryError(f"--epochs {epochs} is fewer than the {epochs_done} epochs {run_dir} has done; "
                                f"--resume --epochs N continues a run to N epochs in all")
    if epochs_done > epochs:
        raise RunDirectoryError(f"{run_dir}/checkpoint.chainrule says {epochs_done} epochs are done but the "
                                f"recipe has epochs = {epochs}; the checkpoint does not belong to this run")
    if epochs_done == 0 and not stopped_early:
        raise RunDirectoryError(f"{run_dir}/checkpoint.chainrule says no epoch is done; start the run again")


def check_fits_in_memory(config, n_in, n_out):
    """Refuse, with the estimate, a model whose training would not fit in the memory available."""
    parts = config.memory_bytes(n_in, n_out)
    need, available = sum(parts.values()), available_memory()
    if available is not None and need > available:
        shown = ", ".join(f"{name} {_size(value)}" for name, value in parts.items())
        raise MemoryError(f"config: training [model] hidden = {config.model.hidden} on {n_in} inputs needs about "
                          f"{_size(need)} ({shown}); {_size(available)} is available. Use narrower layers or a "
                          "smaller batch_size")


def available_memory():
    """Bytes of memory available (MemAvailable of /proc/meminfo, else free pages), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _size(n):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


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


def versions():
    """What the run card records of the software that made the run."""
    from .. import __version__

    return {"chainrule": __version__, "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform()}
