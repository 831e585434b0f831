"""Training checkpoints, so that an interrupted run resumes exactly where it stopped.

A checkpoint holds everything the next epoch depends on: the model's arrays,
the optimizer's state and step count, the state of every random generator
(batch order, dropout masks), the history so far and the callbacks' state
(early stopping, schedules). Resuming from it gives bit for bit the weights
an uninterrupted run would have had. It is written atomically after every
epoch, so a crash leaves the previous checkpoint whole.
"""

from __future__ import annotations

import numpy as np

from ..io.serialize import ArchiveReader, ModelFileError, error_words, largest_array_bytes, read_model_arrays, write_archive
from .callbacks import Callback

FORMAT = "chainrule-checkpoint"

#: 2: the optimizer's state arrays are named for what they hold: Adam's (and AdamW's) moments
#: are ``m_scaled`` = m / (1 - beta1) and ``v_scaled`` = v / (1 - beta2), which version 1 saved
#: under the names ``m`` and ``v`` (the same numbers). Version-1 files are converted when read.
FORMAT_VERSION = 2


def generators(model):
    """The model's random generators by name: the batch order, and each layer's own (dropout)."""
    found = {"shuffle": model.rng_}
    for i, layer in enumerate(model.layers):
        if hasattr(layer, "rng"):
            found[f"layer{i}"] = layer.rng
    return found


class Checkpoint(Callback):
    """Write a checkpoint to ``path`` after every epoch.

    ``tracked`` are the other callbacks whose state must survive (EarlyStopping,
    LearningRateScheduler, ReduceLROnPlateau); put this callback after them.
    """

    def __init__(self, path, history, tracked=()):
        self.path, self.history, self.tracked = path, history, list(tracked)
        self._pending = None

    def on_epoch_end(self, epoch, logs=None):
        from .. import __version__

        opt = self.optimizer
        header = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": __version__,
            "epochs_done": epoch + 1,
            "stopped_early": bool(getattr(self.model, "stop_training", False)),
            "model": self.model.get_config(),
            "optimizer": {"class": type(opt).__name__, "lr": opt.lr, "iterations": opt.iterations},
            "rng": {name: gen.bit_generator.state for name, gen in generators(self.model).items()},
            "history": self.history.history,
            "callbacks": [],
        }
        arrays = {f"model.{k}": v for k, v in self.model.state_arrays().items()}
        arrays.update({f"optimizer.{k}": v for k, v in opt.state.items()})
        for i, cb in enumerate(self.tracked):
            values, cb_arrays = cb.get_state()
            header["callbacks"].append({"class": type(cb).__name__, "state": values})
            arrays.update({f"callback{i}.{k}": v for k, v in cb_arrays.items()})
        write_archive(self.path, header, arrays)

    def restore(self, model, optimizer):
        """Load the checkpoint into model, optimizer and history; return the number of epochs done.

        The tracked callbacks get their state back when training begins.
        """
        header, arrays = read_checkpoint(self.path)
        if header["optimizer"]["class"] != type(optimizer).__name__:
            raise ValueError(f"{self.path} was written with {header['optimizer']['class']}; "
                             f"the run now uses {type(optimizer).__name__}")
        try:
            model.load_state_arrays(_section(arrays, "model."))
            optimizer.load_state(header["optimizer"]["lr"], header["optimizer"]["iterations"],
                                 _section(arrays, "optimizer."))
            for name, gen in generators(model).items():
                gen.bit_generator.state = header["rng"][name]
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"{self.path} does not fit this run: {error_words(err)}") from None
        self.history.history = {k: list(v) for k, v in header["history"].items()}
        self.history.epoch = list(range(header["epochs_done"]))
        self._pending = [(entry["state"], _section(arrays, f"callback{i}."))
                         for i, entry in enumerate(header["callbacks"])]
        self.stopped_early = header.get("stopped_early", False)
        return header["epochs_done"]

    def on_train_begin(self, logs=None):
        if self._pending:
            for cb, (values, cb_arrays) in zip(self.tracked, self._pending):
                cb.set_state(values, cb_arrays)
            self._pending = None


def read_checkpoint(path):
    """The header and arrays of the checkpoint at ``path``; a version-1 file comes converted to version 2."""
    try:
        return read_checkpoint_version(path, FORMAT_VERSION)
    except ModelFileError as error:
        try:
            header, arrays = read_checkpoint_version(path, 1)
        except ModelFileError:
            raise error from None  # the message that names the version this chainrule reads
    # Version 1 named Adam's scaled moments "m" and "v"; no other optimizer had arrays of those names.
    renamed = {"optimizer.m": "optimizer.m_scaled", "optimizer.v": "optimizer.v_scaled"}
    return {**header, "format_version": FORMAT_VERSION}, {renamed.get(k, k): v for k, v in arrays.items()}


def _section(arrays, prefix):
    return {k[len(prefix):]: np.asarray(v) for k, v in arrays.items() if k.startswith(prefix)}


# -- reading a checkpoint within limits ------------------------------------------------------------


def read_checkpoint_version(path, version):
    """The header and arrays of the checkpoint at ``path``, of format ``version``: the header's values checked, the model's
    arrays against its architecture, every other array capped by what that architecture implies."""
    with ArchiveReader(path, FORMAT, version) as archive:
        check_checkpoint_header(archive.header, path)
        config = archive.header["model"]
        arrays = {f"model.{k}": v for k, v in read_model_arrays(archive, config, prefix="model.").items()}
        cap = largest_array_bytes(config, path)
        for name in sorted(archive.names):
            if name.startswith(("optimizer.", "callback")):
                arrays[name] = archive.array(name, max_bytes=cap)
    return archive.header, arrays


def check_checkpoint_header(header, path):
    """Every value the checkpoint's JSON holds, of the kind and range resuming needs."""
    from ..validation import check_bool, check_int, check_positive

    def need(ok, key, expected):
        if not ok:
            raise ModelFileError(f"{path}: the checkpoint's {key} must be {expected}; received {_get(header, key)!r}")

    try:
        check_int(header.get("epochs_done"), "epochs_done", "checkpoint", low=0)
        check_bool(header.get("stopped_early", False), "stopped_early", "checkpoint")
        opt = header.get("optimizer")
        need(isinstance(opt, dict) and isinstance(opt.get("class"), str), "optimizer", "a table naming its class")
        check_positive(opt.get("lr"), "optimizer lr", "checkpoint")
        check_int(opt.get("iterations"), "optimizer iterations", "checkpoint", low=0)
    except (TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: {err}") from None
    need(isinstance(header.get("model"), dict), "model", "a table (the architecture)")
    need(isinstance(header.get("rng"), dict) and all(isinstance(v, dict) for v in header["rng"].values()),
         "rng", "a table of generator states")
    history = header.get("history")
    need(isinstance(history, dict) and all(isinstance(v, list) and len(v) == header["epochs_done"]
                                           for v in history.values()),
         "history", f"a table of lists of {header['epochs_done']} values (one per epoch done)")
    need(isinstance(header.get("callbacks"), list)
         and all(isinstance(c, dict) and isinstance(c.get("state"), dict) for c in header["callbacks"]),
         "callbacks", "a list of tables with a state")


def _get(header, key):
    return header.get(key) if isinstance(header, dict) else None

