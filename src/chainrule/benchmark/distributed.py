"""chainrule bench --distributed: data-parallel scaling over MPI, measured here and modelled for a cluster.

Each measurement starts ``mpirun -n N python -m mpi4py -m chainrule.benchmark.distributed`` with one
thread per rank and trains the headline network (784-256-128-10, Adam, float32) on the same global
batches of 128 rows; rank 0 reports samples/s and the time spent in the one Allreduce per step.

The model on paper, for N nodes each computing at the speed measured here for one rank:

    compute per step   t_c(B, N) = c B / N                    (c: seconds per sample, measured at N = 1)
    ring allreduce     t_a(N) = 2 (N - 1) / N  bytes / bandwidth + 2 (N - 1) latency
    efficiency         t_c / (t_c + t_a)                      (no overlap of the two: chainrule's loop)

and the smallest global batch with efficiency >= 90% is B = 9 N t_a / c.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

SIZES = (784, 256, 128, 10)
BATCH = 128
#: the interconnects of the model: (name, bytes per second, latency in seconds per message)
NETWORKS = (("10 Gbit/s Ethernet (TCP, 30 us)", 10e9 / 8, 30e-6),
            ("100 Gbit/s Ethernet (RoCE, 5 us)", 100e9 / 8, 5e-6),
            ("InfiniBand HDR 200 Gbit/s (1.5 us)", 200e9 / 8, 1.5e-6))
NODES = (8, 16, 32, 64)


def measure(ranks, samples=20000, epochs=1, oversubscribe=False, timeout=600):
    """Run the worker on ``ranks`` MPI ranks; returns rank 0's numbers as a dict."""
    from ..distributed import mpirun

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [mpirun(), "-n", str(ranks), *(["--oversubscribe"] if oversubscribe else []),
               sys.executable, "-m", "mpi4py", "-m", "chainrule.benchmark.distributed", str(samples), str(epochs)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"mpirun -n {ranks} failed: {result.stderr.strip()[-500:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]), oversubscribed=oversubscribe)


def paper_model(seconds_per_sample, gradient_bytes, nodes=NODES, networks=NETWORKS, batch=BATCH):
    """Per network and node count: allreduce time, efficiency at ``batch`` per node, and the global
    batch size at which efficiency stays >= 90%."""
    rows = []
    for name, bandwidth, latency in networks:
        for n in nodes:
            t_a = 2 * (n - 1) / n * gradient_bytes / bandwidth + 2 * (n - 1) * latency
            t_c = seconds_per_sample * batch  # each node's share of a global batch of batch * n rows
            rows.append({"network": name, "nodes": n, "allreduce_ms": t_a * 1e3,
                         "efficiency_at_128_per_node": t_c / (t_c + t_a),
                         "global_batch_for_90pct": math.ceil(9 * n * t_a / seconds_per_sample)})
    return rows


def run_distributed_benchmark(samples=20000, epochs=1, quick=False, log=print):
    """Measure N = 1, 2 (and 4, oversubscribed on 2 cores) and print the table and the model on paper."""
    if quick:
        samples, epochs = 2048, 1
    cores = os.cpu_count() or 1
    results = []
    for ranks in (1, 2, 4):
        results.append(measure(ranks, samples, epochs, oversubscribe=ranks > cores))
    base = results[0]["samples_per_second"]
    log(f"data-parallel training, {'-'.join(map(str, SIZES))} network, global batch {BATCH}, one thread per rank, "
        f"{cores} cores:")
    log(f"  {'ranks':>5}  {'samples/s':>10}  {'speed-up':>8}  {'step ms':>8}  {'allreduce ms':>12}  {'share':>6}")
    for r in results:
        mark = "  (oversubscribed)" if r["oversubscribed"] else ""
        log(f"  {r['ranks']:>5}  {r['samples_per_second']:>10,.0f}  {r['samples_per_second'] / base:>7.2f}x  "
            f"{r['step_ms']:>8.2f}  {r['allreduce_ms']:>12.3f}  {r['allreduce_share']:>6.1%}{mark}")
    seconds_per_sample = 1 / base
    model = paper_model(seconds_per_sample, results[0]["gradient_bytes"])
    log(f"model on paper: {seconds_per_sample * BATCH * 1e3:.2f} ms of compute per 128 rows (measured, one rank), "
        f"{results[0]['gradient_bytes']:,} bytes of gradients, ring allreduce:")
    for row in model:
        log(f"  {row['network']:<36} N={row['nodes']:>2}  allreduce {row['allreduce_ms']:7.3f} ms  "
            f"efficiency at 128 rows/node {row['efficiency_at_128_per_node']:6.1%}  "
            f">= 90% from a global batch of {row['global_batch_for_90pct']:,}")
    return {"measured": results, "paper_model": model}


class _TimedDataParallel:
    """DataParallel whose Allreduce is timed."""

    def __new__(cls, comm):
        from ..distributed import DataParallel

        class Timed(DataParallel):
            allreduce_seconds = 0.0

            def reduce_gradients(self, model):
                start = time.perf_counter()
                super().reduce_gradients(model)
                self.allreduce_seconds += time.perf_counter() - start

        return Timed(comm)


def _worker(samples, epochs):
    """On every rank: train the headline network and report (rank 0) as one JSON line."""
    from mpi4py import MPI

    from .. import Dense, ReLU, Sequential

    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(0)
    X = rng.random((samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], samples)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [Dense(n_in, n_out), ReLU()]
    model = Sequential(layers[:-1], rng=0)
    strategy = _TimedDataParallel(comm)
    model.fit(X[:BATCH * 2], y[:BATCH * 2], loss="cross_entropy", epochs=1, batch_size=BATCH, verbose=0,
              strategy=strategy)  # warm up
    strategy.allreduce_seconds = 0.0
    comm.Barrier()
    start = time.perf_counter()
    model.fit(X, y, loss="cross_entropy", epochs=epochs, batch_size=BATCH, verbose=0, strategy=strategy)
    seconds = time.perf_counter() - start
    steps = epochs * math.ceil(samples / BATCH)
    if comm.rank == 0:
        print(json.dumps({"ranks": comm.size, "samples_per_second": samples * epochs / seconds,
                          "step_ms": seconds / steps * 1e3, "allreduce_ms": strategy.allreduce_seconds / steps * 1e3,
                          "allreduce_share": strategy.allreduce_seconds / seconds,
                          "gradient_bytes": int(model.grads_.nbytes)}))


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]))
