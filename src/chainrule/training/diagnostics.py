"""Diagnostics of a training run: are the gradients alive, the weights sane, the ReLUs awake?"""

from __future__ import annotations

import sys

import numpy as np

from ..layers import ReLU
from .callbacks import Callback


def layer_diagnostics(model):
    """For each layer with parameters: ||dW|| and ||W|| from the last step; for each ReLU,
    the fraction of units that were zero for every row of the batch it saw last (dead units)."""
    report = {}
    for i, layer in enumerate(model.layers):
        for name in layer.param_names:
            report[f"layer{i}.{name}.grad_norm"] = float(np.linalg.norm(getattr(layer, "d" + name)))
            report[f"layer{i}.{name}.norm"] = float(np.linalg.norm(getattr(layer, name)))
        if isinstance(layer, ReLU) and hasattr(layer, "A"):
            report[f"layer{i}.dead_relu_fraction"] = float(np.mean(np.all(layer.A <= 0, axis=0)))
    return report


class Diagnostics(Callback):
    """Records layer_diagnostics after every epoch in ``records``; prints a short line if ``verbose``."""

    def __init__(self, verbose=False, stream=None):
        self.verbose, self.stream = verbose, stream
        self.records = []

    def on_batch_end(self, step, logs=None):
        if step == self.params.get("steps", 0) - 1:  # the epoch's last training batch, before validation
            self.last_step = layer_diagnostics(self.model)

    def on_epoch_end(self, epoch, logs=None):
        report = getattr(self, "last_step", None) or layer_diagnostics(self.model)
        self.records.append({"epoch": epoch + 1, **report})
        if self.verbose:
            grads = " ".join(f"{k.split('.')[0][5:]}:{v:.2g}" for k, v in report.items() if k.endswith("W.grad_norm"))
            dead = [v for k, v in report.items() if k.endswith("dead_relu_fraction")]
            line = f"  |dW| by layer {grads}"
            if dead:
                line += f"  dead ReLUs {max(dead):.0%}"
            print(line, file=self.stream or sys.stdout, flush=True)
