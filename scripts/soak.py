"""Soak: train a small model for many epochs with a checkpoint after each, and report resident
memory and open file handles every 10 epochs.

    python scripts/soak.py --epochs 200

Passes (exit 0) when memory after warm-up (epoch 20) stays within 5% and the handle count is constant.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


def resident_bytes():
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_handles():
    return len(os.listdir("/proc/self/fd"))


def main(argv=None):
    import chainrule as cr
    from chainrule.training import callbacks as cbs
    from chainrule.training.checkpoint import Checkpoint

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=200)
    args = parser.parse_args(argv)
    X, y = cr.data.make_spirals(n=600, rng=0)
    model = cr.Sequential([cr.Dense(2, 64), cr.ReLU(), cr.Dense(64, 64), cr.ReLU(), cr.Dense(64, 3)], rng=0)
    rows = []

    class Meter(cbs.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % 10 == 0:
                rows.append((epoch + 1, resident_bytes(), open_handles(), logs["loss"]))
                print(f"epoch {epoch + 1:4d}  RSS {rows[-1][1] / 2**20:7.1f} MiB  open fds {rows[-1][2]}  "
                      f"loss {logs['loss']:.4f}", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        history = cbs.History()
        model.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=args.epochs, batch_size=32, verbose=0,
                  callbacks=[Checkpoint(Path(folder) / "checkpoint.chainrule", history), Meter()], history=history)
    after = [r for r in rows if r[0] >= 20]
    low, high = min(r[1] for r in after), max(r[1] for r in after)
    handles = {r[2] for r in after}
    growth = (high - low) / low
    print(f"RSS after warm-up: {low / 2**20:.1f} to {high / 2**20:.1f} MiB ({growth:.1%}); open fds {sorted(handles)}")
    return 0 if growth <= 0.05 and len(handles) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
