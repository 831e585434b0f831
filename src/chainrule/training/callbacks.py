"""Callbacks: code that fit runs at the start and end of each epoch.

A callback sees ``self.model`` and ``self.optimizer``; setting
``model.stop_training = True`` ends training after the current epoch.
``logs`` holds the epoch's numbers: loss, the metrics, val_* and lr.
"""

from __future__ import annotations

import math
import os

from ..validation import check_bool, check_int, check_non_negative, check_number, check_one_of


class Callback:
    def set_context(self, model, optimizer, params=None):
        """``params``: epochs, steps (per epoch), samples and batch_size of the run."""
        self.model, self.optimizer, self.params = model, optimizer, params or {}

    def on_train_begin(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_batch_end(self, step, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_end(self, logs=None): ...

    def get_state(self):
        """What a resumed run needs to carry on as if never stopped: (JSON-able dict, arrays)."""
        return {}, {}

    def set_state(self, values, arrays):
        pass


class History(Callback):
    """Records every epoch's logs: ``history.history["val_loss"]`` is a list, one value per epoch."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


class Monitor:
    """Tracks the best value of one logged quantity ("val_loss", "accuracy", ...)."""

    def __init__(self, monitor, mode="auto", min_delta=0.0, owner="Monitor"):
        if not isinstance(monitor, str):
            raise TypeError(f"{owner}: monitor must be the name of a logged number (e.g. 'val_loss'); "
                            f"received {monitor!r}")
        check_one_of(mode, "mode", owner, ("auto", "min", "max"))
        min_delta = check_non_negative(min_delta, "min_delta", owner)
        if mode == "auto":
            mode = "min" if "loss" in monitor or monitor.endswith(("mse", "mae")) else "max"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs, owner):
        if self.monitor not in logs:
            raise ValueError(f"{owner} monitors {self.monitor!r} but the epoch logs hold {sorted(logs)}; "
                             "pass validation_data to fit, or monitor one of those")
        return logs[self.monitor]

    def improved(self, value):
        """Whether value beats the best by more than min_delta (and if so, record it)."""
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    With ``restore_best_weights=True`` (the default) the model ends with the
    weights of its best epoch, not its last.
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best_weights=True):
        self.monitor = Monitor(monitor, mode, min_delta, "EarlyStopping")
        self.patience = check_int(patience, "patience", "EarlyStopping", low=0)
        self.restore_best_weights = check_bool(restore_best_weights, "restore_best_weights", "EarlyStopping")

    def on_train_begin(self, logs=None):
        self.wait, self.best_epoch, self.stopped_epoch, self.best_arrays = 0, None, None, None
        self.monitor.best = math.inf if self.monitor.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor.improved(self.monitor.value(logs, "EarlyStopping")):
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best_weights:
                self.best_arrays = {k: v.copy() for k, v in self.model.state_arrays().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:  # patience epochs in a row without progress (as Keras)
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_arrays is not None:
            self.model.load_state_arrays(self.best_arrays)

    def get_state(self):
        values = {"wait": self.wait, "best": self.monitor.best, "best_epoch": self.best_epoch}
        return values, dict(self.best_arrays or {})

    def set_state(self, values, arrays):
        self.wait, self.monitor.best, self.best_epoch = values["wait"], values["best"], values["best_epoch"]
        self.best_arrays = dict(arrays) or None


class ModelCheckpoint(Callback):
    """Save the model after each epoch to ``path`` (which may hold ``{epoch}``),
    or only when ``monitor`` improves with ``save_best_only=True``."""

    def __init__(self, path, monitor="val_loss", save_best_only=False, mode="auto"):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: path must be a file path (str or Path); received {path!r}")
        self.path = str(path)
        self.monitor = Monitor(monitor, mode, owner="ModelCheckpoint")
        self.save_best_only = check_bool(save_best_only, "save_best_only", "ModelCheckpoint")

    def on_epoch_end(self, epoch, logs=None):
        if self.save_best_only and not self.monitor.improved(self.monitor.value(logs, "ModelCheckpoint")):
            return
        self.model.save(self.path.format(epoch=epoch + 1, **(logs or {})))


class LearningRateScheduler(Callback):
    """Set the optimizer's lr to ``schedule(epoch, base_lr)`` at the start of each epoch."""

    def __init__(self, schedule):
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a callable schedule(epoch, base_lr); "
                            f"received {schedule!r}")
        self.schedule = schedule

    def on_train_begin(self, logs=None):
        self.base_lr = self.optimizer.lr

    def on_epoch_begin(self, epoch, logs=None):
        self.optimizer.lr = float(self.schedule(epoch, self.base_lr))

    def get_state(self):
        return {"base_lr": self.base_lr}, {}

    def set_state(self, values, arrays):
        self.base_lr = values["base_lr"]


class ReduceLROnPlateau(Callback):
    """Multiply lr by ``factor`` when ``monitor`` has not improved for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4, min_lr=0.0, mode="auto"):
        owner = "ReduceLROnPlateau"
        self.factor = check_number(factor, "factor", owner, low=0, high=1, low_open=True, high_open=True)
        self.monitor = Monitor(monitor, mode, min_delta, owner)
        self.patience = check_int(patience, "patience", owner, low=0)
        self.min_lr = check_non_negative(min_lr, "min_lr", owner)
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor.improved(self.monitor.value(logs, "ReduceLROnPlateau")):
            self.wait = 0
            return
        self.wait += 1
        if self.wait > self.patience:
            self.optimizer.lr = max(self.optimizer.lr * self.factor, self.min_lr)
            self.wait = 0

    def get_state(self):
        return {"wait": self.wait, "best": self.monitor.best}, {}

    def set_state(self, values, arrays):
        self.wait, self.monitor.best = values["wait"], values["best"]
