"""Watching training: a progress bar per epoch (tqdm extra) or one plain line per epoch."""

from __future__ import annotations

import sys
import time

from ..validation import check_int
from .callbacks import Callback


def bar_available(stream=None):
    """A bar needs tqdm and a terminal; otherwise plain lines are better (logs, CI, pipes)."""
    stream = stream or sys.stderr
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def format_logs(logs):
    return "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k not in ("lr", "time"))


class ProgressLog(Callback):
    """One line per epoch: the epoch's numbers, samples per second and the time left.

    ``every`` = K prints only every K-th epoch's line, and always the first and the last (the last
    one when training ends, so that an early stop shows its last epoch too).
    """

    def __init__(self, stream=None, every=1):
        self.stream = stream
        self.every = check_int(every, "every", "ProgressLog", low=1)

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.done = 0
        self.held = None  # the last epoch's line while it is not printed

    def on_epoch_end(self, epoch, logs=None):
        epochs, samples = self.params.get("epochs", epoch + 1), self.params.get("samples", 0)
        self.done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (epochs - epoch - 1)
        rate = samples / logs["time"] if logs.get("time") else 0.0
        line = (f"epoch {epoch + 1}/{epochs}  {format_logs(logs)}  lr {logs.get('lr', 0):.3g}  "
                f"{rate:,.0f} samples/s  ETA {eta:.1f}s")
        self.held = None
        if self.done == 1 or (epoch + 1) % self.every == 0 or epoch + 1 == epochs:
            self._print(line)
        else:
            self.held = line

    def on_train_end(self, logs=None):
        if self.held is not None:
            self._print(self.held)

    def _print(self, line):
        print(line, file=self.stream or sys.stdout, flush=True)


class ProgressBar(Callback):
    """A tqdm bar per epoch with the running loss, samples/s and the epoch's ETA."""

    def on_epoch_begin(self, epoch, logs=None):
        from tqdm import tqdm

        self.bar = tqdm(total=self.params.get("samples"), unit="samples", unit_scale=True, leave=True,
                        desc=f"epoch {epoch + 1}/{self.params.get('epochs')}", file=sys.stderr)
        self.seen = 0

    def on_batch_end(self, step, logs=None):
        batch = self.params.get("batch_size", 1)
        size = min(batch, self.params.get("samples", batch) - self.seen)
        self.seen += size
        self.bar.update(size)
        if step % 10 == 0 and "loss" in logs:  # no loss: with MPI, a step in which this rank had no rows
            self.bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.set_postfix_str(format_logs(logs), refresh=False)
        self.bar.close()
