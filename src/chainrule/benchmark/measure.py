"""The three timings, each through the systems' adapters: training and inference speed, time to accuracy.

What is timed, and what is not:

* training: only the training itself (``Sequential.fit``, the PyTorch epoch
  loop, ``MLPClassifier.fit``), after one warm-up batch; not building the
  model nor converting the data to float32 / tensors. ``fit`` does check its
  inputs (finite values, the one-hot targets) and ``MLPClassifier.fit``
  validates its inputs and initialises its weights: that is part of their
  training and is timed.
* inference: the raw network outputs for every row, in batches
  (scikit-learn has no logits-only predict and applies its softmax).
* time to accuracy: the training epochs, not the evaluation after each.
"""

from __future__ import annotations

import time

import numpy as np

from .data import load_data
from .systems import check_sizes, check_system, get_system

HEADLINE = (784, 256, 128, 10)
WIDE = (784, 1024, 1024, 10)


def train_throughput(system, sizes, batch_size, X, y, epochs=1, seed=0, info=None):
    """Training speed in samples/s of ``system`` on (X, y): ``epochs`` x len(X) / seconds.

    The network is ``sizes`` (e.g. (784, 256, 128, 10)): Dense + ReLU hidden
    layers, a linear output, softmax cross-entropy on integer labels; Adam
    (lr 1e-3), ``batch_size`` rows per step, one shuffling permutation per
    epoch, float32. One warm-up batch is trained first; building the model
    and converting the data are not timed. If ``info`` is a dict it receives
    the parameter count, the layer shapes and the seconds.
    """
    adapter = get_system(system)
    sizes = check_sizes(sizes)
    X, y = _as_float32(X), np.asarray(y, dtype=np.int64)
    n, warm = len(X), min(batch_size, len(X))
    with adapter.threads():
        model = adapter.build(sizes, seed)
        train = adapter.trainer(model, batch_size, seed)
        X, y = adapter.native(X), adapter.native(y)
        train(X[:warm], y[:warm], 1)
        start = time.perf_counter()
        train(X, y, epochs)
        seconds = time.perf_counter() - start
    _describe(adapter, model, sizes, info, seconds=seconds, samples=n, epochs=epochs, batch_size=batch_size)
    return epochs * n / seconds


def inference_throughput(system, sizes, X, batch_size=1024, seed=0, info=None):
    """Inference speed in samples/s: the network outputs for every row of X, ``batch_size`` rows at a time.

    chainrule: ``predict_output`` (logits); PyTorch: the model under
    ``inference_mode`` (logits); scikit-learn: ``predict_proba`` (it has no
    logits-only predict). The weights do not matter for the speed; the
    scikit-learn model is fitted for one epoch on a few rows so that it can predict.
    """
    adapter = get_system(system)
    sizes = check_sizes(sizes)
    X = _as_float32(X)
    n = len(X)
    with adapter.threads():
        model = adapter.inference_model(sizes, X, seed)
        X = adapter.native(X)
        adapter.infer(model, X[:min(batch_size, n)], batch_size)
        start = time.perf_counter()
        adapter.infer(model, X, batch_size)
        seconds = time.perf_counter() - start
    _describe(adapter, model, sizes, info, seconds=seconds, samples=n, batch_size=batch_size)
    return n / seconds


def time_to_accuracy(system, sizes=HEADLINE, target=0.98, max_epochs=20, batch_size=128, data=None,
                     data_dir=None, seed=0, info=None):
    """Seconds of training until the test accuracy first reaches ``target``, and the epochs it took.

    chainrule and PyTorch follow the same recipe (``sizes`` with ReLU, Adam
    lr 1e-3, ``batch_size``, MNIST pixels/255, each library's default
    initialisation) and are evaluated on the test set after every epoch; the
    evaluation is not timed. ``data`` is ``load_data(..., test=True)``'s dict
    (default: all of MNIST from ``data_dir``). Returns ``(seconds, epochs)``,
    or None if ``max_epochs`` epochs do not reach the target. ``info`` (a
    dict) receives the accuracy after every epoch.
    """
    check_system(system)
    if system == "sklearn":
        raise ValueError("time_to_accuracy compares chainrule and pytorch")
    adapter = get_system(system)
    sizes = check_sizes(sizes)
    data = data if data is not None else load_data(data_dir, samples=None, test=True, seed=seed)
    y_test = np.asarray(data["y_test"], dtype=np.int64)
    history = []
    with adapter.threads():
        X, y = adapter.native(_as_float32(data["X"])), adapter.native(np.asarray(data["y"], dtype=np.int64))
        X_test = adapter.native(_as_float32(data["X_test"]))
        adapter.trainer(adapter.build(sizes, seed), batch_size, seed)(X[:batch_size], y[:batch_size], 1)  # warm up
        model = adapter.build(sizes, seed)
        train = adapter.trainer(model, batch_size, seed)
        start, evaluating = time.perf_counter(), 0.0

        def evaluate(epoch):
            nonlocal evaluating
            now = time.perf_counter()
            outputs = np.asarray(adapter.infer(model, X_test, 1024))
            accuracy = float(np.mean(outputs.argmax(axis=1) == y_test))
            history.append({"epoch": epoch + 1, "test_accuracy": accuracy, "train_seconds": now - start - evaluating})
            evaluating += time.perf_counter() - now
            return accuracy >= target

        train(X, y, max_epochs, after_epoch=evaluate)
    if info is not None:
        info.update(system=system, target=target, history=history, data_source=data.get("source"))
    last = history[-1] if history else None
    return (last["train_seconds"], last["epoch"]) if last and last["test_accuracy"] >= target else None


def _as_float32(X):
    return np.ascontiguousarray(X, dtype=np.float32)


def _describe(adapter, model, sizes, info, **measured):
    """Checks that the model ends in ``sizes[-1]`` outputs; fills ``info`` with its shapes and ``measured``."""
    shapes, params = adapter.layer_shapes(model)
    if shapes[-1][1] != sizes[-1]:
        raise ValueError(f"{adapter.name} built an output layer of {shapes[-1][1]} units for sizes {sizes}: "
                         f"the labels must cover all {sizes[-1]} classes")
    if info is not None:
        info.update(system=adapter.name, parameters=params, layer_shapes=[list(s) for s in shapes], **measured)
