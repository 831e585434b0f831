"""The machine the benchmark runs on: cores, CPU, BLAS and its threads, the float32 GEMM peak, versions."""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import math
import os
import platform
import time

import numpy as np


def cpu_count():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or platform.processor(), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def blas_info():
    """NumPy's BLAS libraries as threadpoolctl sees them ([] if threadpoolctl is not installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "threading_layer", "architecture", "filepath")
    return [{k: info.get(k) for k in keys} for info in threadpool_info() if info.get("user_api") == "blas"]


def blas_threads():
    """The number of threads NumPy's BLAS uses (threadpoolctl), else the number of cores."""
    libs = blas_info()
    numpy_libs = [lib for lib in libs if "numpy" in str(lib.get("filepath") or "")]
    for lib in numpy_libs or libs:
        if lib.get("num_threads"):
            return int(lib["num_threads"])
    return cpu_count()


def findable(module_name):
    """Whether a top-level module can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False


def version(module_name):
    """The module's __version__, or "missing" if it is not installed."""
    try:
        return importlib.import_module(module_name).__version__
    except ImportError:
        return "missing"


def adam_path():
    """How chainrule's Adam runs here: one fused pass (the `fast` extra) or NumPy's ten passes."""
    from ..optim import FUSED_MIN_SIZE

    if findable("numba"):
        return f"one fused pass (numba) for models from {FUSED_MIN_SIZE:,} parameters on, NumPy below"
    return 'NumPy passes (pip install "chainrule[fast]" for the fused one)'


def machine_info():
    """Cores, CPU, BLAS, library versions, date and load: what a reader needs to weigh the numbers."""
    from .. import __version__

    info = {
        "cores": cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "blas": blas_info(),
        "blas_threads": blas_threads(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "chainrule": __version__,
                     "torch": version("torch"), "sklearn": version("sklearn"),
                     "threadpoolctl": version("threadpoolctl"), "numba": version("numba")},
        "chainrule_adam": adam_path(),
    }
    load = load_average()
    if load is not None:
        info["load_average"] = load
    return info


def load_average():
    """The 1, 5 and 15 minute load averages, or None where the system does not tell them."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def gemm_peak(n=1024, repeats=5):
    """Measured float32 GEMM speed of NumPy in GFLOP/s: C = A @ B with n x n matrices, best of repeats."""
    rng = np.random.default_rng(0)
    A = rng.random((n, n), dtype=np.float32)
    B = rng.random((n, n), dtype=np.float32)
    C = np.empty((n, n), np.float32)
    np.matmul(A, B, out=C)  # warm up: threads started, pages touched
    best = math.inf
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        np.matmul(A, B, out=C)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9
