"""Training from packed shards against training from in-memory arrays, on MNIST.

    python benchmarks/packed.py [--data-dir DIR] [--epochs 3] [--seeds 0 1] [--budget 16]

The headline network (784-256-128-10, Adam, batch 128) trains epoch by epoch twice per seed, the
two interleaved (one epoch in memory, then one from shards) so that the load of a shared machine
falls on both alike: once from in-memory arrays with a full shuffle, once from a packed copy of
MNIST with the chunked shuffle under a memory budget (uint8 shards, scaled by /255 per batch).
Prints samples/s of each epoch and their ratio, then the test accuracy of each after the epochs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

import chainrule as cr
from chainrule.data import PackedDataset, pack
from chainrule.layers import Dense, ReLU


def network(seed):
    return cr.Sequential([Dense(784, 256), ReLU(), Dense(256, 128), ReLU(), Dense(128, 10)], rng=seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="where the MNIST files are (else the usual search path)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--budget", type=float, default=16.0, help="memory budget (MiB) of the packed run")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    (X, y), (X_test, y_test) = cr.data.load_mnist(data_dir=args.data_dir)
    X_flat = (X.reshape(len(X), -1) / np.float32(255)).astype(np.float32)
    X_test_flat = (X_test.reshape(len(X_test), -1) / np.float32(255)).astype(np.float32)
    folder = tempfile.mkdtemp(prefix="chainrule-packed-")
    pack((X, y), folder)
    ratios, accuracy = [], {"in memory, full shuffle": [], "packed, chunked shuffle": []}
    for seed in args.seeds:
        memory, packed = network(seed), network(seed)
        packed.preprocessor = cr.data.ConstantScaler(255).fit(X[:1].reshape(1, -1))
        data = PackedDataset(folder, memory_budget_mib=args.budget, rng=seed)
        opt_memory, opt_packed = cr.optim.Adam(), cr.optim.Adam()
        for epoch in range(args.epochs):
            start = time.perf_counter()
            memory.fit(X_flat, y, loss="cross_entropy", optimizer=opt_memory, epochs=1, batch_size=args.batch_size,
                       verbose=0)
            in_memory = len(X) / (time.perf_counter() - start)
            start = time.perf_counter()
            data.fit(packed, loss="cross_entropy", optimizer=opt_packed, epochs=1, batch_size=args.batch_size,
                     verbose=0)
            from_shards = len(X) / (time.perf_counter() - start)
            ratios.append(from_shards / in_memory)
            print(f"seed {seed} epoch {epoch + 1}: in memory {in_memory:,.0f} samples/s, packed {from_shards:,.0f} "
                  f"samples/s ({ratios[-1]:.0%}; {data.chunk_rows} rows per chunk, {len(data.chunks)} chunks, "
                  f"window {data.window})", flush=True)
        accuracy["in memory, full shuffle"].append(memory.evaluate(X_test_flat, y_test)["accuracy"])
        accuracy["packed, chunked shuffle"].append(packed.evaluate(X_test.reshape(len(X_test), -1), y_test)["accuracy"])
    print(f"\npacked / in-memory throughput: median {statistics.median(ratios):.0%} "
          f"(range {min(ratios):.0%}-{max(ratios):.0%}, {len(ratios)} epoch pairs)")
    for name, values in accuracy.items():
        print(f"test accuracy after {args.epochs} epochs, {name}: "
              + ", ".join(f"{v:.4f}" for v in values) + f" (seeds {', '.join(map(str, args.seeds))})")


if __name__ == "__main__":
    main()
