"""Peak training memory, measured in a fresh process, and the budget it is set against.

The process loads (or makes) its data, records its maximum resident set size
(``ru_maxrss``), builds the model, trains one epoch and records it again: the
increase is the memory training needs beyond the data.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from .data import load_data
from .machine import findable
from .measure import train_throughput
from .systems import ADAPTERS, PeerMissing, check_sizes, check_system, count_parameters, get_system

#: batch buffers in the memory budget: batch x sum of layer widths x 4 bytes x this factor.
#: 4 arrays per layer width: forward keeps the pre-activation Z and the activation A,
#: backward makes dA and dZ of the same shape.
BATCH_BUFFER_FACTOR = 4

_CHILD_MARK = "CHAINRULE-BENCHMARK-MEMORY "
#: the folder holding the chainrule package that runs here (src/chainrule/benchmark/memory.py: three up),
#: put first on the child's sys.path so that it measures this same code
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
_CHILD_CODE = ("import sys; sys.path.insert(0, sys.argv[1]); "
               "from chainrule.benchmark.memory import child_main; child_main(sys.argv[2])")


def memory_budget(sizes, batch_size, n_samples):
    """The budget 'data + 3 x parameters + batch buffers' in bytes, each part and the total.

    data: the float32 X and y of the training set, n x (inputs + 1) x 4;
    parameters: float32, 4 bytes each; batch buffers: batch x (sum of all
    layer widths, input and output included) x 4 bytes x BATCH_BUFFER_FACTOR (4:
    Z and A forward, dA and dZ backward). Note that Adam alone holds the
    weights, the gradients and two moments: 4 x parameters at the least.
    """
    sizes = check_sizes(sizes)
    parts = {"data": int(n_samples) * (sizes[0] + 1) * 4,
             "parameters_x3": 3 * count_parameters(sizes) * 4,
             "batch_buffers": int(batch_size) * sum(sizes) * 4 * BATCH_BUFFER_FACTOR}
    parts["total"] = sum(parts.values())
    return parts


def peak_training_memory(system, sizes, batch_size, n_samples, data_dir=None, seed=0, timeout=1800):
    """The extra peak memory of training one epoch, measured in a fresh process.

    The process loads (or makes) its data first, then records ``ru_maxrss``,
    builds the model, trains one epoch (``train_throughput``) and records
    ``ru_maxrss`` again: ``extra_peak_bytes`` is the increase, the memory
    that training needs beyond the data. Two details keep it honest on Linux:
    the process is started through ``/bin/sh`` (which forks it from a small
    process: started directly, a child inherits the parent's peak RSS in its
    ``ru_maxrss``), and the peak is reset to the current RSS once the data are
    loaded (``/proc/self/clear_refs``), so that loading does not hide training.
    ``peak_reset`` and ``isolated`` say whether these were possible.
    ``file_backed_increase_bytes`` is the part of the increase that is the
    library's code and data files paged in on first use (RssFile), not arrays.

    Returns a dict with ``status`` ("ok" or "missing"), the measurements and
    ``budget`` (``memory_budget``) for comparison.
    """
    return finish_memory(start_memory(system, sizes, batch_size, n_samples, data_dir, seed), timeout)


def start_memory(system, sizes, batch_size, n_samples, data_dir=None, seed=0):
    """Starts the process of ``peak_training_memory``; returns (result so far, process or None)."""
    check_system(system)
    sizes = check_sizes(sizes)
    result = {"system": system, "budget": memory_budget(sizes, batch_size, n_samples)}
    module = ADAPTERS[system].module
    if module is not None and not findable(module.split(".")[0]):
        result.update(status="missing", reason=f"{system} is not installed")
        return result, None  # (an installed peer that fails to import is reported missing by the process)
    spec = json.dumps({"system": system, "sizes": list(sizes), "batch_size": int(batch_size),
                       "n_samples": int(n_samples), "data_dir": None if data_dir is None else str(data_dir),
                       "seed": int(seed)})
    command = [sys.executable, "-c", _CHILD_CODE, _SOURCE_ROOT, spec]
    result["isolated"] = os.name == "posix" and os.path.exists("/bin/sh")
    if result["isolated"]:
        command = ["/bin/sh", "-c", '"$0" "$@"; exit $?', *command]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return result, proc


def finish_memory(started, timeout=1800):
    """Waits for the process of ``start_memory`` and returns its result."""
    result, proc = started
    if proc is None:
        return result
    try:
        stdout, stderr = proc.communicate(timeout=timeout)  # reads both pipes to the end and closes them
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    lines = [line for line in stdout.splitlines() if line.startswith(_CHILD_MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the memory benchmark process for {result['system']} failed "
                           f"(exit {proc.returncode}):\n{stderr[-2000:]}")
    result.update(json.loads(lines[-1][len(_CHILD_MARK):]))
    return result


def child_main(arg):
    """The entry point of the process that peak_training_memory starts; prints one JSON line."""
    spec = json.loads(arg)
    system = spec["system"]
    out = {"system": system}
    try:
        get_system(system)  # imports the peer: the library's own footprint is not the training's
        data = load_data(spec["data_dir"], spec["n_samples"], seed=spec["seed"])
        X, y = data["X"], data["y"]
        out.update(data_source=data["source"], synthetic=data["synthetic"])
        del data
        gc.collect()
        out["peak_reset"] = _reset_peak_rss()
        out["baseline_maxrss_bytes"] = _maxrss_bytes()
        before = _rss_parts()
        info = {}
        train_throughput(system, spec["sizes"], spec["batch_size"], X, y, epochs=1, seed=spec["seed"], info=info)
        out["peak_maxrss_bytes"] = _maxrss_bytes()
        out["extra_peak_bytes"] = out["peak_maxrss_bytes"] - out["baseline_maxrss_bytes"]
        after = _rss_parts()
        if before and after:  # still resident after training: code pages the library loaded on first use
            out["file_backed_increase_bytes"] = max(0, after["RssFile"] - before["RssFile"])
        out.update(status="ok", parameters=info["parameters"], samples=info["samples"])
    except PeerMissing as exc:
        out.update(status="missing", reason=str(exc))
    print(_CHILD_MARK + json.dumps(out), flush=True)


def _maxrss_bytes():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _reset_peak_rss():
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_parts():
    """Current anonymous and file-backed resident memory in bytes (Linux /proc/self/status), or {}."""
    parts = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "RssFile"):
                    parts[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return {}
    return parts
