"""What every system adapter provides, and what the adapters share.

An adapter is one library's way to run the benchmark's network: Dense + ReLU
hidden layers, a linear output, softmax cross-entropy on integer labels, Adam
at lr 1e-3, one shuffling permutation per epoch, float32. Train throughput,
inference throughput, time to accuracy and peak memory all go through it, so
each library's build, training loop and inference is written once.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools

LEARNING_RATE = 1e-3


class PeerMissing(ImportError):
    """A peer library (PyTorch, scikit-learn) is not installed."""


def import_peer(system, module_name):
    """The peer's module (torch, sklearn.neural_network); PeerMissing if it is not installed."""
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise PeerMissing(f"{system} is not installed ({exc})") from exc


def check_sizes(sizes):
    """The layer widths as a tuple of ints: at least the input and the output, all >= 1."""
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least the input and output widths, all >= 1; received {sizes}")
    return sizes


def dense_stack(sizes, dense, relu):
    """[dense(784, 256), relu(), dense(256, 128), relu(), dense(128, 10)] for sizes 784-256-128-10."""
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        if i:
            layers.append(relu())
        layers.append(dense(a, b))
    return layers


def batches(X, batch_size):
    """X in consecutive slices of ``batch_size`` rows (the last may be smaller)."""
    return (X[i:i + batch_size] for i in range(0, len(X), batch_size))


class System:
    """One library's build, training and inference of the benchmark's network.

    Subclasses set ``name`` (as in SYSTEMS) and ``module`` (the peer library
    it imports, None for chainrule) and define:

    * ``build(sizes, seed)``: a fresh model, float32, initialised from ``seed``;
    * ``trainer(model, batch_size, seed)``: everything training needs that is
      not training (optimizer, loss, generator), and a function
      ``train(X, y, epochs, after_epoch=None)`` that trains ``epochs`` epochs;
      ``after_epoch(epoch)`` is called after each and stops training by
      returning True;
    * ``infer(model, X, batch_size)``: the network's outputs for every row;
    * ``layer_shapes(model)``: [(n_in, n_out) of every dense layer], parameters.
    """

    name = None
    module = None

    def threads(self):
        """A context for all the work of one measurement (PyTorch: its thread count)."""
        return contextlib.nullcontext()

    def native(self, array):
        """A float32 / int64 NumPy array as the library takes it (PyTorch: a tensor sharing its memory)."""
        return array

    def inference_model(self, sizes, X, seed):
        """A model that can predict (scikit-learn's must be fitted first); its weights do not matter."""
        return self.build(sizes, seed)
