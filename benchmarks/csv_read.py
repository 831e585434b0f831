"""Reading MNIST as a 60,000 x 785 CSV: chainrule's load_csv beside np.loadtxt and pandas.

    python benchmarks/csv_read.py [--data-dir DIR] [--rows 60000] [--repeat 3]

Writes the MNIST training set (read with chainrule's own loader, so --data-dir,
CHAINRULE_DATA or the cache) as CSV into a temporary folder: 784 pixel columns,
then the label. Prints the best wall time of each reader and its peak memory
(tracemalloc, which sees NumPy's buffers) as a multiple of the parsed float64
table (rows x 785 x 8 bytes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

import chainrule as cr


def readers(path):
    found = {"chainrule load_csv": lambda: cr.data.load_csv(path),
             "np.loadtxt": lambda: np.loadtxt(path, delimiter=",", dtype=np.float64)}
    try:
        import pandas

        found["pandas.read_csv"] = lambda: pandas.read_csv(path, header=None).to_numpy(np.float64)
    except ImportError:
        print("pandas not installed: skipped")
    return found


def measure(fn, repeat):
    best = min(_timed(fn) for _ in range(repeat))
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="where the MNIST IDX files are")
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    (X, y), _ = cr.data.load_mnist(data_dir=args.data_dir, download=False)
    table = np.concatenate([X.reshape(len(X), -1), y[:, None]], axis=1)[:args.rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mnist_train.csv"
        np.savetxt(path, table, fmt="%d", delimiter=",")
        parsed = table.shape[0] * table.shape[1] * 8
        print(f"{path.name}: {table.shape[0]:,} x {table.shape[1]}, {path.stat().st_size / 1e6:.0f} MB of text; "
              f"parsed float64 table {parsed / 1e6:.0f} MB")
        for name, fn in readers(path).items():
            seconds, peak = measure(fn, args.repeat)
            print(f"{name:<20} {seconds:6.2f} s   peak {peak / 1e6:6.0f} MB = {peak / parsed:.2f} x the table")


if __name__ == "__main__":
    main()
