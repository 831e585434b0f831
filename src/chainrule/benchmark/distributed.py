"""chainrule bench --distributed: data-parallel scaling over MPI, measured here and modelled for a cluster.

Each measurement starts ``mpirun -n N python -m mpi4py -m chainrule.benchmark.distributed`` with one
thread per rank and trains the headline network (784-256-128-10, Adam, float32): with 128 rows per
rank (weak scaling) and on global batches of 128 rows (strong scaling); rank 0 reports samples/s and
the time spent in reduce_gradients per step. The numbers of ranks run in interleaved rounds.

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


def measure(ranks, samples=20000, epochs=1, oversubscribe=False, timeout=600, batch=BATCH):
    """Run the worker on ``ranks`` MPI ranks; returns rank 0's numbers as a dict."""
    from ..distributed import mpirun

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [mpirun(), "-n", str(ranks), *(["--oversubscribe"] if oversubscribe else []),
               sys.executable, "-m", "mpi4py", "-m", "chainrule.benchmark.distributed", str(samples), str(epochs),
               str(batch)]
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


def summarise(rounds):
    """Per number of ranks, the medians over the rounds, and the speed-up as the median (and range)
    of the round-by-round ratios to the round's single rank: the runs of a round share the machine's
    load of that moment."""
    rows = []
    for i, first in enumerate(rounds[0]):
        runs = [r[i] for r in rounds]
        ratios = [r[i]["samples_per_second"] / r[0]["samples_per_second"] for r in rounds]
        rows.append({"ranks": first["ranks"], "batch": first["batch"], "oversubscribed": first["oversubscribed"],
                     **{key: float(np.median([run[key] for run in runs]))
                        for key in ("samples_per_second", "step_ms", "allreduce_ms", "allreduce_share")},
                     "speedup": float(np.median(ratios)), "speedup_range": (min(ratios), max(ratios)),
                     "gradient_bytes": first["gradient_bytes"]})
    return rows


SCALINGS = ("weak", "strong")


def run_distributed_benchmark(samples=20000, epochs=1, quick=False, log=print, batch=BATCH, repeats=3,
                              scalings=SCALINGS):
    """Measure N = 1, 2 (and 4, oversubscribed on 2 cores) in ``repeats`` interleaved rounds, print a
    table per scaling and the model on paper. Weak scaling: each rank computes ``batch`` rows, so N
    ranks train on global batches of N x batch (the model on paper's rows per node; as Horovod's
    benchmarks report scaling). Strong scaling: every N trains on global batches of ``batch`` rows,
    so each rank computes batch / N of them."""
    if quick:
        samples, epochs, repeats = 2048, 1, 1
    cores = os.cpu_count() or 1
    results = {}
    for scaling in scalings:
        rounds = [[measure(ranks, samples, epochs, oversubscribe=ranks > cores,
                           batch=batch * ranks if scaling == "weak" else batch)
                   for ranks in (1, 2, 4)] for _ in range(repeats)]
        results[scaling] = {"measured": summarise(rounds), "rounds": rounds}
        _print_table(results[scaling]["measured"], scaling, batch, repeats, cores, log)
    one_rank = results[scalings[0]]["measured"][0]
    seconds_per_sample = 1 / one_rank["samples_per_second"]
    model = paper_model(seconds_per_sample, one_rank["gradient_bytes"])
    log(f"model on paper: {seconds_per_sample * BATCH * 1e3:.2f} ms of compute per 128 rows (measured, one rank, "
        f"batch {one_rank['batch']}), {one_rank['gradient_bytes']:,} bytes of gradients, ring allreduce:")
    for row in model:
        log(f"  {row['network']:<36} N={row['nodes']:>2}  allreduce {row['allreduce_ms']:7.3f} ms  "
            f"efficiency at 128 rows/node {row['efficiency_at_128_per_node']:6.1%}  "
            f">= 90% from a global batch of {row['global_batch_for_90pct']:,}")
    return {**results, "paper_model": model}


def _print_table(rows, scaling, batch, repeats, cores, log):
    size = f"{batch} rows per rank (weak scaling)" if scaling == "weak" else f"global batch {batch} (strong scaling)"
    log(f"data-parallel training, {'-'.join(map(str, SIZES))} network, {size}, one thread per rank, "
        f"{cores} cores; medians of {repeats} interleaved round(s), the speed-up round by round:")
    log(f"  {'ranks':>5}  {'batch':>5}  {'samples/s':>10}  {'speed-up':>8}  {'(range)':>13}  {'step ms':>8}"
        f"  {'allreduce ms':>12}  {'share':>6}")
    for r in rows:
        mark = "  (oversubscribed)" if r["oversubscribed"] else ""
        low, high = r["speedup_range"]
        log(f"  {r['ranks']:>5}  {r['batch']:>5}  {r['samples_per_second']:>10,.0f}  {r['speedup']:>7.2f}x  "
            f"{f'({low:.2f}-{high:.2f}x)':>13}  {r['step_ms']:>8.2f}  {r['allreduce_ms']:>12.3f}  "
            f"{r['allreduce_share']:>6.1%}{mark}")


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


def _worker(samples, epochs, batch=BATCH):
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
    model.fit(X[:batch * 2], y[:batch * 2], loss="cross_entropy", epochs=1, batch_size=batch, verbose=0,
              strategy=strategy)  # warm up
    strategy.allreduce_seconds = 0.0
    comm.Barrier()
    start = time.perf_counter()
    model.fit(X, y, loss="cross_entropy", epochs=epochs, batch_size=batch, verbose=0, strategy=strategy)
    seconds = time.perf_counter() - start
    steps = epochs * math.ceil(samples / batch)
    if comm.rank == 0:
        print(json.dumps({"ranks": comm.size, "batch": batch, "samples_per_second": samples * epochs / seconds,
                          "step_ms": seconds / steps * 1e3, "allreduce_ms": strategy.allreduce_seconds / steps * 1e3,
                          "allreduce_share": strategy.allreduce_seconds / seconds,
                          "gradient_bytes": int(model.grads_.nbytes)}))


if __name__ == "__main__":
    _worker(*map(int, sys.argv[1:4]))
