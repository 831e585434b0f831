"""Fuzz chainrule's file readers: IDX, CSV, TOML recipe, model file and checkpoint.

    python scripts/fuzz.py --seconds 600          # each reader in turn, for 600 s in all

Each reader gets random bytes and single/multi-byte damage of a valid file; any exception other
than the documented ones (DataFileError, ModelFileError, ValueError from the recipe check,
FileNotFoundError) is printed with its input saved beside the report, and the exit code is 1.
The same harness runs, bounded, in tests/test_hardening_fuzz.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np


def seeds(folder):
    """A valid file for each reader, written into ``folder``: {reader: (path, bytes)}."""
    import chainrule as cr
    from chainrule import optim
    from chainrule.training import callbacks as cbs
    from chainrule.training.checkpoint import Checkpoint

    folder = Path(folder)
    model = cr.Sequential([cr.Dense(4, 5), cr.BatchNorm(5), cr.ReLU(), cr.Dense(5, 3)], rng=0)
    model.save(folder / "m.chainrule")
    X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    history = cbs.History()
    model.fit(X, np.arange(12) % 3, loss="cross_entropy", optimizer=optim.Adam(), epochs=1, batch_size=4, verbose=0,
              callbacks=[Checkpoint(folder / "c.chainrule", history)], history=history)
    idx = bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]) + bytes(range(8))
    files = {"idx": idx, "csv": b"a,b,label\n1,2,0\n3,4,1\n", "toml": b'[model]\nhidden = [8]\n[train]\nlr = 0.01\n',
             "model": (folder / "m.chainrule").read_bytes(), "checkpoint": (folder / "c.chainrule").read_bytes()}
    return files


def reader(kind):
    """The reader of ``kind`` and the exception types it documents."""
    from chainrule import ModelFileError, optim
    from chainrule.data.csv import load_csv
    from chainrule.data.idx import DataFileError, read_idx
    from chainrule.io.serialize import load_model
    from chainrule.training import callbacks as cbs
    from chainrule.training.checkpoint import Checkpoint
    from chainrule.training.config import TrainConfig
    import chainrule as cr

    def checkpoint(path):
        model = cr.Sequential([cr.Dense(4, 5), cr.BatchNorm(5), cr.ReLU(), cr.Dense(5, 3)], rng=0)
        Checkpoint(path, cbs.History()).restore(model, optim.Adam())

    return {"idx": (read_idx, (DataFileError,)), "csv": (load_csv, (DataFileError,)),
            "toml": (TrainConfig.from_toml, (ValueError,)), "model": (load_model, (ModelFileError,)),
            "checkpoint": (checkpoint, (ModelFileError,))}[kind]


def mutate(data, rng):
    """Random damage: flips, cuts, insertions, or random bytes."""
    data = bytearray(data)
    choice = rng.integers(5)
    if choice == 0 or not data:
        return bytes(rng.integers(0, 256, rng.integers(0, 200), dtype=np.uint8))
    if choice == 1:
        return bytes(data[:rng.integers(len(data))])
    for _ in range(rng.integers(1, 8)):
        at = int(rng.integers(len(data)))
        if choice == 2:
            data[at] = int(rng.integers(256))
        elif choice == 3:
            data[at:at] = bytes(rng.integers(0, 256, rng.integers(1, 16), dtype=np.uint8))
        else:
            data[at] ^= 1 << int(rng.integers(8))
    return bytes(data)


def check(kind, data, folder):
    """Run the reader on ``data``; return None, or the traceback of an undocumented exception."""
    read, documented = reader(kind)
    suffix = {"idx": ".idx", "csv": ".csv", "toml": ".toml"}.get(kind, ".chainrule")
    path = Path(folder) / f"input{suffix}"
    path.write_bytes(data)
    try:
        read(path)
    except documented:
        return None
    except Exception:  # noqa: BLE001 - the fuzzer reports it
        return traceback.format_exc()
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="total time, shared by the readers")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        valid = seeds(folder)
        for kind, data in valid.items():
            stop, runs = time.monotonic() + args.seconds / len(valid), 0
            while time.monotonic() < stop:
                sample = mutate(data, rng)
                problem = check(kind, sample, folder)
                runs += 1
                if problem:
                    failures += 1
                    saved = Path(f"fuzz-failure-{kind}-{failures}.bin")
                    saved.write_bytes(sample)
                    print(f"{kind}: undocumented exception (input saved to {saved}):\n{problem}")
            print(f"{kind}: {runs} inputs in {args.seconds / len(valid):.0f} s")
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
