"""A side-by-side speed benchmark: chainrule against PyTorch and scikit-learn on the CPU.

Every system trains the same network (Dense + ReLU hidden layers, a linear
output, softmax cross-entropy) with Adam at lr 1e-3, the same batch size and
one shuffling permutation per epoch, in float32, on the same data::

    from chainrule.benchmark import run_benchmark
    results = run_benchmark(data_dir="path/to/mnist")   # prints tables, returns a dict

or ``python benchmarks/run.py --data-dir path/to/mnist --json out.json``.

PyTorch and scikit-learn are imported only when they are measured; a peer
that is not installed is reported as ``"missing"``, never faked.

The parts, one concern each:

* ``machine``: cores, CPU, BLAS threads, the float32 GEMM peak NumPy reaches;
* ``systems``: one adapter per system (chainrule, PyTorch, scikit-learn) with
  its build, training loop and inference written once;
* ``measure``: training and inference throughput, time to accuracy, through
  the adapters (what is timed and what is not: see there);
* ``rounds``: repeated runs, interleaved; best, median and paired ratios;
* ``memory``: peak training memory in a fresh process, and its budget;
* ``report``: the printed header, tables and summary;
* ``runner``: ``run_benchmark``, every configuration in turn.

The FLOP lower bound of a training epoch is 6 x parameters x samples / peak,
with peak the float32 GEMM speed NumPy reaches here (``gemm_peak``): 2 FLOPs
per parameter and sample forward, 4 backward (the weight and the input
gradients). ``bound/measured`` is how close a system comes to it; the peak is
measured again at the start of every round, and each run is set against the
peak of its own round.
"""

from __future__ import annotations

from .data import load_data
from .machine import blas_info, blas_threads, cpu_count, cpu_model, gemm_peak, machine_info
from .measure import HEADLINE, WIDE, inference_throughput, time_to_accuracy, train_throughput
from .memory import BATCH_BUFFER_FACTOR, memory_budget, peak_training_memory
from .runner import run_benchmark
from .systems import LEARNING_RATE, PEER_MODULES, SYSTEMS, PeerMissing, count_parameters, peer_status

__all__ = [
    "BATCH_BUFFER_FACTOR", "HEADLINE", "LEARNING_RATE", "PEER_MODULES", "SYSTEMS", "WIDE", "PeerMissing",
    "blas_info", "blas_threads", "count_parameters", "cpu_count", "cpu_model", "gemm_peak", "inference_throughput",
    "load_data", "machine_info", "memory_budget", "peak_training_memory", "peer_status", "run_benchmark",
    "time_to_accuracy", "train_throughput",
]
