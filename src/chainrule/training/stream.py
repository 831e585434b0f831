"""Training from data that does not fit in memory: the loop of training.loop, fed batch by batch.

Each epoch iterates ``dataset.batches(batch_size)`` (a chainrule.data.PackedDataset: chunked
shuffle from disk) and takes the same gradient step as in-memory training (loop.train_step)::

    X_b = preprocess(X_b)                   the model's Scaler, fitted by one pass over the data
    A[L] = model.forward(X_b); C = loss(A[L], Y_b); backward; optimizer.step

Memory: the dataset's window of chunks, one batch, the model, and per epoch the outputs A[L]
and labels of every row (n x outputs numbers, for the epoch's metrics).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optim
from ..validation import check_bool, check_finite, check_int, check_one_of
from . import loop
from .callbacks import History


def fit_stream(model, dataset, loss=None, optimizer="adam", epochs=10, batch_size=32, validation_data=None,
               callbacks=None, metrics=None, shuffle=True, verbose=1, initial_epoch=0, history=None, strategy=None):
    """Train ``model`` on every batch of ``dataset``, epoch after epoch; return a History.

    The arguments are those of training.loop.fit; ``validation_data`` is (X_val, y_val) or another
    PackedDataset. The epoch's order comes from the dataset's rng (its chunked shuffle).

    With ``strategy=chainrule.distributed.DataParallel()``, every MPI rank passes its own
    ``PackedDataset(path, rank=r, ranks=N, rng=seed)`` (the same seed on every rank) and reads local
    batches of its share b_r of ``batch_size`` (B = sum_r b_r). At step s the global batch is the union
    of the ranks' local batches, B_s rows in all (counted by one Allreduce: the ranks' chunks, so their
    rows, can differ). A rank that has run out of rows takes part in the step with 0 rows, so every rank
    runs the same steps, until no rank has rows left; the gradient is the mean over the B_s rows.
    """
    loss = losses_module.get(loss if loss is not None else loop.model_loss(model))
    optimizer = optim.get(optimizer)
    check_int(batch_size, "batch_size", "fit", low=1)
    check_int(epochs, "epochs", "fit", low=0)
    check_int(initial_epoch, "initial_epoch", "fit", low=0)
    check_one_of(verbose, "verbose", "fit", (0, 1, 2))
    check_bool(shuffle, "shuffle", "fit")
    if not dataset.has_labels:
        raise ValueError(f"fit: {dataset.path} was packed without labels; pack (X, y) to train on it")
    strategy = strategy or loop.OneProcess()
    local_batch = _local_batch_size(dataset, batch_size, strategy)
    verbose = verbose if strategy.is_root else 0  # with MPI, only rank 0 prints
    model.compile(loss)
    names = metrics_module.resolve(metrics, loss)
    first = _inputs(model, dataset.head(1)[0])
    n_out, no_rows = model.forward(first).shape[1], first[:0]  # no_rows: the input of a step this rank sits out
    history = history or History()
    params = {"epochs": epochs, "steps": math.ceil(len(dataset) / batch_size), "samples": len(dataset),
              "batch_size": batch_size}
    callbacks = loop.set_up_callbacks(model, optimizer, params, history, callbacks, verbose)
    model.stop_training = False
    for cb in callbacks:
        cb.on_train_begin()
    with strategy.training(model):
        for epoch in range(initial_epoch, epochs):
            start_time, logs = time.perf_counter(), {}
            for cb in callbacks:
                cb.on_epoch_begin(epoch, logs)
            out, y, mean_loss = _train_epoch(model, dataset, epoch, local_batch, shuffle, loss, optimizer, callbacks,
                                             (n_out, no_rows), strategy, params["steps"])
            strategy.end_epoch(model, optimizer)
            logs["loss"] = strategy.mean(mean_loss, len(y))  # over every rank's rows
            for name in names:
                logs[name] = strategy.mean(metrics_module.compute(name, y, out, loss) if len(y) else 0.0, len(y))
            if validation_data is not None:
                for key, value in evaluate_stream(model, validation_data, loss, names).items():
                    logs["val_" + key] = value
            logs["lr"] = optimizer.lr
            logs["time"] = time.perf_counter() - start_time
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    for cb in callbacks:
        cb.on_train_end()
    return history


def _local_batch_size(dataset, batch_size, strategy):
    """b_r, this rank's share of the global batch (the first B mod N ranks take one row more)."""
    rank, ranks = getattr(strategy, "rank", 0), getattr(strategy, "size", 1)
    if (dataset.rank, dataset.ranks) != (rank, ranks):
        raise ValueError(f"fit: {dataset.path} is opened as rank {dataset.rank} of {dataset.ranks}, but this process "
                         f"trains as rank {rank} of {ranks}; open it with PackedDataset(path, rank=comm.Get_rank(), "
                         f"ranks=comm.Get_size())")
    if batch_size < ranks:
        raise ValueError(f"fit: batch_size={batch_size} cannot be shared by {ranks} MPI ranks; expected a batch_size "
                         f"of at least {ranks}")
    base, extra = divmod(batch_size, ranks)
    return base + (rank < extra)


def _train_epoch(model, dataset, epoch, local_batch, shuffle, loss, optimizer, callbacks, shapes, strategy, steps):
    """One pass over this rank's rows; returns its outputs A[L], labels and mean cost (over its rows).
    ``shapes``: the model's outputs, and its input of 0 rows."""
    n_out, no_rows = shapes
    snapshot = loop.Snapshot(model, optimizer)  # the fall-back should the loss diverge
    total, outs, ys, X_b = 0.0, [], [], no_rows
    for step, (X_raw, y_b, batch_rows) in enumerate(_global_steps(dataset, local_batch, shuffle, strategy)):
        if len(X_raw):
            X_b = check_finite(_inputs(model, X_raw), "X")
            Y_b = loss.targets(y_b, (len(X_b), n_out), model.dtype)
            out, value = loop.train_step(model, X_b, Y_b, loss, optimizer, strategy, batch_rows)
            if not math.isfinite(value):
                loop.diverged(model, snapshot, optimizer, value, epoch, step, steps, X_b)
            total += value * len(X_b)
        else:
            out, value = _empty_step(model, no_rows, optimizer, strategy), math.nan
        outs.append(out.copy())
        ys.append(y_b.copy())
        for cb in callbacks:
            cb.on_batch_end(step, {"loss": value} if len(X_raw) else {})  # this rank's loss; none without rows
    if not np.all(np.isfinite(model.params_)):  # the epoch's last step overflowed the weights
        loop.diverged(model, snapshot, optimizer, "weights", epoch, steps - 1, steps, X_b)
    y = np.concatenate(ys)
    return np.concatenate(outs), y, total / max(len(y), 1)


def _global_steps(dataset, local_batch, shuffle, strategy):
    """(X_b, y_b, B_s) per step: this rank's local batch (0 rows once it has run out) and the rows of
    the global batch, every rank's together; until no rank has rows left, so every rank takes the
    same steps (the collective calls of a step must be matched on every rank)."""
    X0, y0 = dataset.head(1)
    empty = (X0[:0], y0[:0])
    batches = dataset.batches(local_batch, shuffle)
    while True:
        X_b, y_b = next(batches, empty)
        batch_rows = strategy.total(len(X_b))
        if batch_rows == 0:
            return
        yield X_b, y_b, batch_rows


def _empty_step(model, no_rows, optimizer, strategy):
    """A rank's part in a step for which it has no rows: the forward and backward on 0 rows (BatchNorm's
    synced statistics and sums are collective calls), a gradient of the penalties alone (added by every
    rank, then averaged), and the update. Returns the (0, outputs) output."""
    out = model.forward(no_rows, training=True, check=False)
    model.backward(np.zeros_like(out), need_input_grad=False)
    strategy.reduce_gradients(model)
    strategy.step(optimizer, model)
    return out


def evaluate_stream(model, data, loss=None, metrics=None):
    """model.evaluate on (X, y) arrays, or on a PackedDataset chunk by chunk (outputs kept, inputs not)."""
    if isinstance(data, tuple):
        return model.evaluate(*data, loss=loss, metrics=metrics)
    loss = losses_module.get(loss) if loss is not None else model.default_loss()
    outs, ys = [], []
    for X, y in data.chunk_arrays():
        outs.append(model.predict_output(_flat(model, X)))
        ys.append(y.copy())
    out, y = np.concatenate(outs), np.concatenate(ys)
    result = {"loss": float(loss.value(out, loss.targets(y, out.shape, out.dtype))) + model.penalty()}
    for name in metrics_module.resolve(metrics, loss):
        result[name] = metrics_module.compute(name, y, out, loss)
    return result


def fit_scaler(scaler, dataset):
    """Fit a Standardizer, MinMaxScaler or ConstantScaler on one pass over the dataset, chunk by chunk.

    Standardizer: per feature, count, mean and sum of squared deviations merged chunk by chunk
    (Chan et al.), in float64; MinMaxScaler: running minimum and maximum.
    """
    from ..data.preprocessing import ConstantScaler, MinMaxScaler, Standardizer

    if not isinstance(scaler, (Standardizer, MinMaxScaler, ConstantScaler)):
        raise TypeError(f"fit_scaler: a Standardizer, MinMaxScaler or ConstantScaler; received {type(scaler).__name__}")
    n, mean, m2, low, high = 0, 0.0, 0.0, np.inf, -np.inf
    step = max(1, dataset.chunk_rows // 8)  # float64 blocks of 1/4 of a chunk's bytes (or less): within the budget
    blocks = (X[i:i + step] for chunk, _ in dataset.chunk_arrays() for X in [chunk] for i in range(0, len(X), step))
    for X in blocks:
        X = np.asarray(X, np.float64).reshape(len(X), -1)
        k, chunk_mean = len(X), X.mean(axis=0)
        delta = chunk_mean - mean
        m2 = m2 + ((X - chunk_mean) ** 2).sum(axis=0) + delta ** 2 * n * k / (n + k)
        mean, n = mean + delta * k / (n + k), n + k
        low, high = np.minimum(low, X.min(axis=0)), np.maximum(high, X.max(axis=0))
    if isinstance(scaler, Standardizer):
        offset, scale = mean, np.sqrt(m2 / n)
    elif isinstance(scaler, MinMaxScaler):
        offset, scale = low, high - low
    else:
        offset, scale = np.zeros_like(low), np.full_like(low, scaler.value)
    scaler.offset_, scaler.scale_ = offset, np.where(scale > 0, scale, 1.0)
    return scaler


#: in a packed run's folder: the packed dataset and memory budget it trains from (for --resume)
PACKED_RECORD = "packed.json"


def train_packed(config, run_dir, packed=None, memory_budget_mib=None, verbose=1, log=print, resume=False,
                 strategy=None):
    """chainrule train --packed: the recipe's model and training on the packed folder's train split,
    tested on its test split if it has one; writes model, history, checkpoint and run card.

    ``strategy`` (chainrule.distributed.DataParallel): every MPI rank reads its own chunks of the train
    split (see fit_stream), within its own ``memory_budget_mib``; only rank 0 logs and writes, and the
    other ranks return a card without the test numbers.

    ``resume``: continue the run in ``run_dir`` from its checkpoint (its own config.toml and packed
    folder; ``config`` and ``packed`` are then read from the run). The dataset shuffles with the
    model's own generator (model.rng_, which the checkpoint saves), so a resumed run reads the same
    chunks in the same order as the run left alone, and ends with its weights to the bit.
    """
    from ..data.packed import PackedDataset
    from ..io.atomic import atomic_write
    from . import callbacks as cbs
    from . import run
    from .checkpoint import Checkpoint
    from .config import TrainConfig
    from .diagnostics import Diagnostics

    started, run_dir = time.perf_counter(), Path(run_dir)
    root = strategy is None or strategy.is_root
    rank, ranks = (0, 1) if strategy is None else (strategy.rank, strategy.size)
    log = log if root else (lambda message: None)
    if resume:
        record = json.loads((run_dir / PACKED_RECORD).read_text(encoding="utf-8"))
        packed, memory_budget_mib = record["packed"], record["memory_budget_mib"]
        config = TrainConfig.from_toml(run_dir / "config.toml")
    elif root:
        run_dir.mkdir(parents=True, exist_ok=True)
        with atomic_write(run_dir / "config.toml", "w") as f:
            f.write(f"# data: the packed dataset {packed} (chainrule train --packed), not [data] below\n")
            f.write(config.to_toml())
        with atomic_write(run_dir / PACKED_RECORD, "w") as f:
            json.dump({"packed": str(packed), "memory_budget_mib": memory_budget_mib}, f)
    t = config.train
    train = PackedDataset(packed, "train", memory_budget_mib=memory_budget_mib, rank=rank, ranks=ranks)
    test = PackedDataset(packed, "test", memory_budget_mib=memory_budget_mib) if "test" in train.index["splits"] else None
    X1, y1 = train.head(1)
    classify = y1.ndim == 1 and y1.dtype.kind in "iu"
    n_out = (len(train.class_names) if train.class_names else _max_label(train) + 1) if classify else max(1, y1[0].size)
    loss = losses_module.get(t.loss or ("cross_entropy" if classify else "mse"))
    model = run.build_model(config, int(np.prod(X1.shape[1:])), n_out)
    train.rng = model.rng_  # the chunk order and shuffles: seeded by the recipe, saved in the checkpoint
    scaler_cls = run.scaler_class(config.data.scale)
    if scaler_cls is not None:
        model.preprocessor = fit_scaler(scaler_cls(), train)
    optimizer, history = run.build_optimizer(t), cbs.History()
    tracked = run.build_callbacks(t, False)
    diagnostics = Diagnostics(verbose=verbose == 2)
    checkpoint = Checkpoint(run_dir / "checkpoint.chainrule", history, tracked)
    initial_epoch = 0
    if resume:
        initial_epoch = checkpoint.restore(model, optimizer)
        if (run_dir / "run.json").is_file():
            log(f"not resuming {run_dir}: it finished already ({initial_epoch} epochs); its results stay as they are")
            return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        log(f"resuming {run_dir} after epoch {initial_epoch} of {t.epochs}")
    per_rank = f" per rank, {ranks} ranks" if ranks > 1 else ""
    log(f"training from {train} (at most {train.window_bytes / 2**20:.1f} MiB of data in memory{per_rank})")
    epochs = initial_epoch if resume and checkpoint.stopped_early else t.epochs
    train.fit(model, loss=loss, optimizer=optimizer, epochs=epochs, batch_size=t.batch_size,
              callbacks=[*tracked, diagnostics, *([checkpoint] if root else [])], verbose=verbose, history=history,
              initial_epoch=initial_epoch, strategy=strategy)
    if not root:  # rank 0 alone tests and writes
        return {"epochs_run": len(history.history.get("loss", [])), "ranks": ranks}
    model.save(run_dir / "model.chainrule")
    run.write_history(history.history, run_dir)
    metrics = ["accuracy", "precision", "recall", "f1"] if classify else ["mse", "mae", "r2"]
    card = {"dataset": f"packed {packed}", "seed": t.seed, "train_rows": len(train),
            "epochs_run": len(history.history.get("loss", [])),
            "test": evaluate_stream(model, test, loss, metrics) if test is not None else {},
            "final": {k: v[-1] for k, v in history.history.items()},
            "wall_time_seconds": round(time.perf_counter() - started, 3), "resumed": bool(resume),
            "parameters": model.num_params, "memory_budget_mib": memory_budget_mib,
            "diagnostics": diagnostics.records[-1] if diagnostics.records else {}, "versions": run.versions()}
    if strategy is not None:
        card["ranks"] = ranks
    with atomic_write(run_dir / "run.json", "w") as f:
        json.dump(card, f, indent=2)
    return card


def _flat(model, X):
    """Images (m, 28, 28) as rows (m, 784) when the model's first layer takes rows."""
    rows = X.reshape(len(X), int(np.prod(X.shape[1:])))  # not -1: a rank's batch may have 0 rows
    return rows if X.ndim > 2 and model.n_inputs == rows.shape[1] else X


def _inputs(model, X):
    return model.as_input(model.preprocess(_flat(model, X)))


def _max_label(dataset):
    return max(int(y.max()) for _, y in dataset.chunk_arrays())
