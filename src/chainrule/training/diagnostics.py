"""Diagnostics of a training run: are the gradients alive, the weights sane, the ReLUs awake?"""

from __future__ import annotations

import sys

import numpy as np

from ..layers import ReLU, layer_numbers
from .callbacks import Callback


def layer_diagnostics(model):
    """For every parameter (named as the tutorial names it): ||dW[l]|| and ||W[l]|| from the last
    step; for each ReLU of layer l, the fraction of its units A[l] that were zero for every row of
    the batch it saw last (dead units). Keys: "dW[1].norm", "W[1].norm", "A[1].dead_relu_fraction"."""
    report = {}
    for label, layer, name in model.parameter_names():
        report[f"d{label}.norm"] = float(np.linalg.norm(getattr(layer, "d" + name)))
        report[f"{label}.norm"] = float(np.linalg.norm(getattr(layer, name)))
    for l, layer in zip(layer_numbers(model.layers), model.layers):
        if isinstance(layer, ReLU) and hasattr(layer, "A"):
            report[f"A[{l}].dead_relu_fraction"] = float(np.mean(np.all(layer.A <= 0, axis=0)))
    return report


class Diagnostics(Callback):
    """Records layer_diagnostics after every epoch in ``records``; prints a short line if ``verbose``."""

    def __init__(self, verbose=False, stream=None):
        self.verbose, self.stream = verbose, stream
        self.records = []

    def on_batch_end(self, step, logs=None):
        # the epoch's last training batch, before validation (>=: with MPI on packed data, uneven ranks
        # can take a step or two more than ceil(rows / batch_size))
        if step >= self.params.get("steps", 0) - 1:
            self.last_step = layer_diagnostics(self.model)

    def on_epoch_end(self, epoch, logs=None):
        report = getattr(self, "last_step", None) or layer_diagnostics(self.model)
        self.records.append({"epoch": epoch + 1, **report})
        if self.verbose:
            grads = "  ".join(f"|{k[:-5]}| {v:.2g}" for k, v in report.items() if k.startswith("dW["))
            dead = [v for k, v in report.items() if k.endswith("dead_relu_fraction")]
            line = f"  {grads}"
            if dead:
                line += f"  dead ReLUs {max(dead):.0%}"
            print(line, file=self.stream or sys.stdout, flush=True)
