"""The training loop: mini-batch gradient descent over whole epochs.

One step on a mini-batch (X_b, Y_b) of m rows::

    A[L]  = model.forward(X_b)             feed forward
    C     = loss(A[L], Y_b) + penalties    the cost
    dA[L] = loss.backward()                dC/dA[L]
    model.backward(dA[L])                  dW[l], db[l] for every layer, by the chain rule
    optimizer.step(model)                  W[l] := W[l] - alpha dW[l] (or Adam, ...)
"""

from __future__ import annotations

import contextlib
import math
import time

import numpy as np

from .. import losses as losses_module
from .. import optim
from ..layers import BatchNorm
from .. import metrics as metrics_module
from ..validation import check_bool, check_features, check_finite, check_fraction, check_int, check_one_of
from . import progress
from .callbacks import Callback, History


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the model keeps its last finite weights."""


def fit(model, X, y, loss=None, optimizer="adam", epochs=10, batch_size=32, validation_data=None,
        validation_split=0.0, callbacks=None, metrics=None, shuffle=True, verbose=1, initial_epoch=0,
        history=None, strategy=None, log_every=1):
    """Train ``model`` on (X, y) and return a History.

    loss             a Loss or its name; defaults to the model's (from compile or an earlier fit)
    optimizer        an Optimizer or its name ("adam", "sgd", ...)
    epochs           passes over the training data
    batch_size       rows per gradient step (the last batch of an epoch may be smaller)
    validation_data  (X_val, y_val), evaluated after every epoch as val_loss and val_<metric>
    validation_split the fraction of (X, y), taken from the end, held out as validation data
    callbacks        a list of Callback (EarlyStopping, ModelCheckpoint, ...)
    metrics          metric names; default: accuracy for classifiers, mae for regression
    shuffle          draw the batches in a new random order every epoch (from the model's rng)
    verbose          1: a progress bar per epoch on a terminal with tqdm installed, else one line
                     per epoch; 2: one line per epoch; 0: silent
    log_every        with lines (verbose 2, or 1 without a bar): print every K-th epoch's line, and the
                     first and the last; K > 1 prints lines even where a bar could be drawn
    initial_epoch    the epoch to start from (when resuming: the number of epochs already done)
    history          a History to continue (when resuming); a new one by default
    strategy         how the work is shared: None, one process; chainrule.distributed.DataParallel,
                     every MPI rank takes its share of each batch (see OneProcess for the hooks)

    If the model has a ``preprocessor`` (a fitted Scaler), X and the
    validation inputs are raw and transformed by it first.
    """
    loss = losses_module.get(loss if loss is not None else model_loss(model))
    optimizer = optim.get(optimizer)
    check_int(batch_size, "batch_size", "fit", low=1)
    check_int(epochs, "epochs", "fit", low=0)
    check_int(initial_epoch, "initial_epoch", "fit", low=0)
    check_int(log_every, "log_every", "fit", low=1)
    check_one_of(verbose, "verbose", "fit", (0, 1, 2))
    check_bool(shuffle, "shuffle", "fit")
    strategy = strategy or OneProcess()
    verbose = verbose if strategy.is_root else 0  # with MPI, only rank 0 prints
    data = prepare_data(model, X, y, loss, batch_size, validation_data, validation_split)
    model.compile(loss)
    names = metrics_module.resolve(metrics, loss)
    history = history or History()
    params = {"epochs": epochs, "steps": math.ceil(len(data.X) / batch_size), "samples": len(data.X),
              "batch_size": batch_size}
    callbacks = set_up_callbacks(model, optimizer, params, history, callbacks, verbose, log_every)
    model.stop_training = False
    for cb in callbacks:
        cb.on_train_begin()
    buffers = Buffers(data.X, data.Y, batch_size)
    with strategy.training(model):
        for epoch in range(initial_epoch, epochs):
            run_epoch(model, data, epoch, batch_size, loss, optimizer, callbacks, buffers, names, shuffle, strategy)
            if model.stop_training:
                break
    for cb in callbacks:
        cb.on_train_end()
    return history


class OneProcess:
    """The default strategy: one process trains on every row of every batch.

    fit calls these hooks; chainrule.distributed.DataParallel implements them over MPI (each rank
    takes its share of a batch, gradients summed by one Allreduce), and here they do nothing.
    """

    is_root = True  # the process that prints and writes files

    def training(self, model):
        """A context for the whole of fit (DataParallel: same start on every rank, synced BatchNorm)."""
        return contextlib.nullcontext()

    def local_rows(self, batch):
        """The indices of the batch this process computes: all of them."""
        return batch

    def output_grad(self, dA, rows, batch_rows):
        """dA[L] as this process backpropagates it."""
        return dA

    def reduce_gradients(self, model):
        """Combine model.grads_ of every process before the update: nothing to combine."""

    def step(self, optimizer, model):
        """The update (DataParallel: each rank updates its slice of the parameters)."""
        optimizer.step(model)

    def end_epoch(self, model, optimizer):
        """Before the epoch's callbacks (DataParallel: the optimizer's whole state on every rank)."""

    def mean(self, value, rows):
        """The epoch's mean over every process's rows, given this process's mean over its ``rows``."""
        return value

    def total(self, count):
        """``count`` summed over every process (training.stream: the rows of a global batch)."""
        return count


class TrainingData:
    """What fit trains on: X in the model's dtype, the targets y as given and as the loss wants
    them (Y, a float array of the output's shape), and the validation pair (or None)."""

    def __init__(self, X, y, Y, validation):
        self.X, self.y, self.Y, self.validation = X, y, Y, validation


def prepare_data(model, X, y, loss, batch_size, validation_data=None, validation_split=0.0):
    """Check (X, y) once, split off the validation rows, preprocess, and turn y into Y."""
    X = np.asarray(X)
    y = check_features(y, len(X), "y")
    check_fraction(validation_split, "validation_split", "fit")
    if validation_split and validation_data is None:
        cut = len(X) - int(round(len(X) * validation_split))
        if cut < 1 or cut == len(X):
            raise ValueError(f"fit: validation_split={validation_split} leaves no training or validation rows "
                             f"out of {len(X)}")
        X, y, validation_data = X[:cut], y[:cut], (X[cut:], y[cut:])
    X = check_finite(model.as_input(model.preprocess(X)), "X")
    n_out = model.forward(X[:1]).shape[1]
    Y = np.ascontiguousarray(loss.targets(check_finite(np.asarray(y), "y"), (len(X), n_out), model.dtype))
    if len(X) % batch_size == 1 and any(isinstance(layer, BatchNorm) for layer in model.layers):
        raise ValueError(f"BatchNorm needs at least 2 rows per batch, but {len(X)} rows in batches of {batch_size} "
                         f"leave a last batch of 1 row; choose another batch_size (e.g. {batch_size + 1})")
    return TrainingData(X, y, Y, validation_data)


def set_up_callbacks(model, optimizer, params, history, callbacks, verbose, log_every=1):
    """History first, then the progress display, then the user's callbacks, each told the run's context."""
    callbacks = [history, *(callbacks or [])]
    if verbose:  # right after History, so that its line comes before any other callback's output
        bar = verbose == 1 and log_every == 1 and progress.bar_available()
        callbacks.insert(1, progress.ProgressBar() if bar else progress.ProgressLog(every=log_every))
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be chainrule Callback objects; received {type(cb).__name__}")
        cb.set_context(model, optimizer, params)
    return callbacks


def run_epoch(model, data, epoch, batch_size, loss, optimizer, callbacks, buffers, names, shuffle,
              strategy=OneProcess()):
    """One epoch: the callbacks' hooks, the gradient steps, the metrics and the validation numbers."""
    start_time = time.perf_counter()
    logs = {}
    for cb in callbacks:
        cb.on_epoch_begin(epoch, logs)
    order = model.rng_.permutation(len(data.X)) if shuffle else np.arange(len(data.X))
    mean_loss, seen = train_epoch(model, data.X, data.Y, order, batch_size, loss, optimizer, callbacks, buffers,
                                  epoch, strategy)
    strategy.end_epoch(model, optimizer)
    logs["loss"] = strategy.mean(mean_loss, len(seen))
    for name in names:
        logs[name] = strategy.mean(metrics_module.compute(name, data.y[seen], buffers.outputs[:len(seen)], loss),
                                   len(seen))
    if data.validation is not None:
        X_val, y_val = data.validation
        for key, value in model.evaluate(X_val, y_val, loss=loss, metrics=names).items():
            logs["val_" + key] = value
    logs["lr"] = optimizer.lr
    logs["time"] = time.perf_counter() - start_time
    for cb in callbacks:
        cb.on_epoch_end(epoch, logs)
    return logs


class Buffers:
    """Arrays allocated once per fit and reused by every step: the batch of inputs and
    targets, and the epoch's outputs (for its metrics)."""

    def __init__(self, X, Y, batch_size):
        rows = min(batch_size, len(X))
        self.X = np.empty((rows, *X.shape[1:]), X.dtype)
        self.Y = np.empty((rows, Y.shape[1]), Y.dtype)
        self.outputs = np.empty((len(X), Y.shape[1]), X.dtype)


def train_epoch(model, X, Y, order, batch_size, loss, optimizer, callbacks, buffers, epoch, strategy=OneProcess()):
    """One pass over the rows in ``order``, a gradient step per mini-batch; returns the mean cost
    and the rows this process computed, in the order of ``buffers.outputs`` (all of ``order``
    unless the strategy shares each batch out)."""
    steps = math.ceil(len(order) / batch_size)
    snapshot = Snapshot(model, optimizer)  # the fall-back should the loss diverge
    total, m, seen = 0.0, 0, []
    for step in range(steps):
        batch = order[step * batch_size:(step + 1) * batch_size]
        idx = strategy.local_rows(batch)
        b = len(idx)
        # the indices are valid by construction; mode="clip" lets NumPy gather without a copy
        Xb = np.take(X, idx, axis=0, out=buffers.X[:b], mode="clip")
        Yb = np.take(Y, idx, axis=0, out=buffers.Y[:b], mode="clip")
        out, value = train_step(model, Xb, Yb, loss, optimizer, strategy, len(batch))
        if not math.isfinite(value):
            diverged(model, snapshot, optimizer, value, epoch, step, steps, X)
        buffers.outputs[m:m + b] = out
        seen.append(idx)
        total += value * b
        m += b
        for cb in callbacks:
            cb.on_batch_end(step, {"loss": value})
    if not np.all(np.isfinite(model.params_)):  # the epoch's last step overflowed the weights
        diverged(model, snapshot, optimizer, "weights", epoch, steps - 1, steps, X)
    return total / m, np.concatenate(seen)


def train_step(model, X_b, Y_b, loss, optimizer, strategy=OneProcess(), batch_rows=None):
    """One gradient step on a mini-batch; returns A[L] and the cost C.

    Overflow in a diverging step is expected (the caller sees C become NaN or infinite, and
    goes back to finite weights), so floating-point warnings are silenced here and only here.
    A NaN cost skips the update. With a data-parallel ``strategy``, X_b is this rank's share of a
    batch of ``batch_rows`` rows, and the gradients are combined across ranks before the update.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = model.forward(X_b, training=True, check=False)    # A[L] (X was checked once)
        value = loss.forward(out, Y_b) + model.penalty()        # C
        if math.isfinite(value):
            dA = strategy.output_grad(loss.backward(), len(X_b), batch_rows or len(X_b))  # dA[L]
            model.backward(dA, need_input_grad=False)               # dW[l], db[l]
            strategy.reduce_gradients(model)                        # (MPI: summed over the ranks)
            strategy.step(optimizer, model)                         # W[l] := W[l] - alpha dW[l], ...
    return out, value


class Snapshot:
    """The model's arrays (weights, BatchNorm statistics) and the optimizer's state, to go back to."""

    def __init__(self, model, optimizer):
        self.arrays = {k: v.copy() for k, v in model.state_arrays().items()}
        self.state = {k: v.copy() for k, v in optimizer.state.items()}
        self.iterations = optimizer.iterations

    def restore(self, model, optimizer):
        model.load_state_arrays(self.arrays)
        optimizer.state, optimizer.iterations = self.state, self.iterations


def diverged(model, snapshot, optimizer, value, epoch, step, steps, X):
    """Stop with a clear error, the model and optimizer back where they were when the epoch
    began (the current weights, even where finite, are what produced the NaN)."""
    snapshot.restore(model, optimizer)
    input_scale = float(max(X.max(), -X.min()))
    scale_hint = (f" The inputs reach {input_scale:g} in size: standardise them (e.g. Standardizer) first."
                  if input_scale > 10 and not _standardised(model, X) else "")
    what = "the weights became NaN or inf" if value == "weights" else f"the loss became {value}"
    raise TrainingDiverged(
        f"{what} at epoch {epoch + 1}, step {step + 1} of {steps}. The learning rate "
        f"(lr={optimizer.lr:g}) is probably too high: try lr={optimizer.lr / 10:g}.{scale_hint} "
        f"The model is back at the (finite) weights it had when epoch {epoch + 1} began.")


def _standardised(model, X):
    """Were the inputs fit saw (after the model's preprocessor) scaled already? A preprocessor,
    or column means near 0 and standard deviations near 1 (constant columns aside), say so."""
    if getattr(model, "preprocessor", None) is not None:
        return True
    flat = X.reshape(len(X), -1)[::max(1, len(X) // 10_000)].astype(np.float64)  # 10,000 rows tell enough
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    varying = std > 0
    return bool(np.all(np.abs(mean) < 0.1) and np.all(np.abs(std[varying] - 1) < 0.1))


def model_loss(model):
    """The loss the model was compiled or last fitted with; a clear error if it has none."""
    if model.loss is None:
        raise ValueError("fit needs a loss: pass loss='cross_entropy', 'bce', 'mse' or 'huber' (or a Loss object)")
    return model.loss
