"""run_benchmark: every configuration measured in turn, its table printed, the results gathered in a dict."""

from __future__ import annotations

import io
import statistics
import sys

from ..validation import is_whole
from .data import load_data
from .machine import gemm_peak, load_average, machine_info
from .measure import HEADLINE, WIDE, inference_throughput, time_to_accuracy, train_throughput
from .memory import finish_memory, memory_budget, start_memory
from .report import print_config, print_end, print_header, print_summary, print_title, say
from .rounds import rounds, speed_entries
from .systems import LEARNING_RATE, SYSTEMS, PeerMissing, check_system, count_parameters, peer_status

QUICK_HEADLINE, QUICK_WIDE = (784, 32, 16, 10), (784, 64, 64, 10)
TTA_BATCH = 128


def run_benchmark(data_dir=None, samples=20000, epochs=1, quick=False, include=SYSTEMS, time_to_accuracy=False,
                  stream=sys.stdout, repeats=None, target=0.98, max_epochs=20):
    """Run every configuration, print a table for each to ``stream``, and return the results as a dict.

    Configurations: 784-256-128-10 at batch 128 (the headline), at batch 32
    and 512; 784-1024-1024-10 at batch 128; inference; peak training memory;
    and, with ``time_to_accuracy=True``, seconds to ``target`` test accuracy
    on MNIST. Data: ``samples`` rows of MNIST (``data_dir``, else
    ``CHAINRULE_DATA``, else the cache), or synthetic random data of the same
    shape if MNIST is unavailable (said in the output and in ``results["data"]``).
    Throughputs: best and median of ``repeats`` (default 3) interleaved rounds; ratios to the peers also
    as the median of the round-by-round ratios.
    ``quick=True`` uses tiny networks and data: a smoke test of a few seconds.
    ``stream=None`` measures without printing.
    """
    include = tuple(include)
    _check_arguments(include, repeats=repeats, samples=samples, epochs=epochs)
    if quick:
        samples, repeats, max_epochs = min(samples, 512), repeats or 1, min(max_epochs, 2)
    run = _Run(data_dir, include, epochs, repeats or 3, quick, stream if stream is not None else io.StringIO())
    try:
        run.load(samples, test=time_to_accuracy and quick)
        results = run.start()
        for name, kind, sizes, batch in _configs(quick):
            results["configs"][name] = run.config(name, kind, sizes, batch)
        if time_to_accuracy:
            results["configs"]["time_to_accuracy"] = run.to_accuracy(target, max_epochs)
        return run.finish(results)
    finally:
        run.close()


def _check_arguments(include, **counts):
    for system in include:
        check_system(system)
    for name, value in counts.items():
        if value is not None and not is_whole(value, 1):
            raise ValueError(f"{name} must be a whole number >= 1; received {value!r}")


def _configs(quick):
    """(name, kind, sizes, batch_size) of every configuration run_benchmark measures."""
    head, wide = (QUICK_HEADLINE, QUICK_WIDE) if quick else (HEADLINE, WIDE)
    return [("headline", "train", head, 128), ("batch32", "train", head, 32), ("batch512", "train", head, 512),
            ("wide", "train", wide, 128), ("inference", "inference", head, 1024), ("memory", "memory", head, 128)]


class _Run:
    """One run of the benchmark: its settings, its data, the GEMM speeds measured so far."""

    def __init__(self, data_dir, include, epochs, repeats, quick, stream):
        self.data_dir, self.include, self.epochs, self.repeats = data_dir, include, epochs, repeats
        self.quick, self.stream = quick, stream
        self.gemm_n = 512 if quick else 1024
        self.gemm_runs = []
        self.early = {}  # memory processes started ahead of their turn

    def load(self, samples, test):
        self.data = load_data(self.data_dir, samples, test=test)
        self.X, self.y, self.n = self.data["X"], self.data["y"], len(self.data["X"])
        if self.quick:  # a smoke test: start the memory processes now, to run beside the rest (memory is no timing)
            for _, kind, sizes, batch in _configs(self.quick):
                for system in self.include if kind == "memory" else ():
                    try:
                        self.early[system] = start_memory(system, sizes, batch, self.n, self.data_dir)
                    except Exception:
                        pass  # started again, and its error reported, in its turn

    def start(self):
        """Measures the machine, prints the header; returns the results to fill."""
        machine = machine_info()
        peak = gemm_peak(self.gemm_n, 10)
        self.gemm_runs.append(peak)
        data = {k: self.data[k] for k in ("source", "synthetic", "requested")} | {"samples": self.n}
        settings = {"epochs": self.epochs, "repeats": self.repeats, "quick": self.quick,
                    "include": list(self.include), "learning_rate": LEARNING_RATE, "dtype": "float32"}
        results = {"machine": machine, "data": data, "settings": settings, "gemm_gflops": peak,
                   "peer_status": {s: peer_status(s) for s in self.include}, "configs": {}}
        print_header(results, self.stream)
        return results

    def config(self, name, kind, sizes, batch):
        """Measures one configuration and prints its title and table."""
        config = {"kind": kind, "sizes": list(sizes), "batch_size": batch, "parameters": count_parameters(sizes),
                  "samples": self.n}
        if kind == "train":
            config["epochs"] = self.epochs
        print_title(name, config, self.stream)
        {"train": self._train, "inference": self._inference, "memory": self._memory}[kind](config, sizes, batch)
        print_config(config, self.stream)
        return config

    def _train(self, config, sizes, batch):
        def make(system):
            return lambda: train_throughput(system, sizes, batch, self.X, self.y, epochs=self.epochs)

        runs, errors, peaks = rounds(self.include, self.repeats, make, gemm_fn=lambda: gemm_peak(self.gemm_n, 5))
        self.gemm_runs.extend(peaks)
        flops, samples = 6.0 * config["parameters"], self.n * self.epochs  # per sample; per run
        config.update(gemm_gflops_rounds=peaks,
                      lower_bound_seconds=flops * samples / (statistics.median(peaks) * 1e9),
                      systems=speed_entries(self.include, runs, errors, flops, peaks, samples))

    def _inference(self, config, sizes, batch):
        def make(system):
            return lambda: inference_throughput(system, sizes, self.X, batch_size=batch)

        runs, errors, _ = rounds(self.include, self.repeats, make)
        config["systems"] = speed_entries(self.include, runs, errors, samples=self.n)

    def _memory(self, config, sizes, batch):
        entries = {}
        for system in self.include:
            try:
                started = self.early.pop(system, None) or start_memory(system, sizes, batch, self.n, self.data_dir)
                entries[system] = finish_memory(started)
            except Exception as exc:
                entries[system] = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        config.update(budget=memory_budget(sizes, batch, self.n), systems=entries)

    def to_accuracy(self, target, max_epochs):
        """Seconds to ``target`` test accuracy of chainrule and PyTorch (scikit-learn has no hook per epoch)."""
        sizes = QUICK_HEADLINE if self.quick else HEADLINE
        config = {"kind": "time_to_accuracy", "sizes": list(sizes), "target": target, "max_epochs": max_epochs,
                  "batch_size": TTA_BATCH}
        print_title("time_to_accuracy", config, self.stream)
        data = self.data if self.quick else load_data(self.data_dir, samples=None, test=True)
        if data["synthetic"]:
            say(self.stream, "   (synthetic data: the target cannot be reached; this only exercises the code)")
        entries = {}
        for system in [s for s in self.include if s != "sklearn"]:
            info = {}
            try:
                reached = time_to_accuracy(system, sizes, target=target, max_epochs=max_epochs, batch_size=TTA_BATCH,
                                           data=data, info=info)
            except PeerMissing as exc:
                entries[system] = {"status": "missing", "reason": str(exc)}
                continue
            seconds, epochs = reached if reached is not None else (None, None)
            entries[system] = {"status": "ok", "reached": reached is not None, "seconds": seconds, "epochs": epochs,
                               "history": info["history"]}
        config.update(data_source=data["source"], systems=entries)
        print_config(config, self.stream)
        return config

    def finish(self, results):
        """The GEMM speeds of the whole run, the summary, the load at the end."""
        results["gemm_gflops"] = max(self.gemm_runs)
        results["gemm_gflops_runs"] = self.gemm_runs
        print_summary(results, self.include, self.stream)
        load = load_average()
        if load is not None:
            results["machine"]["load_average_end"] = load
        print_end(results, self.stream)
        return results

    def close(self):
        """Ends the memory processes that never got their turn (a run cut short), closing their pipes."""
        for _, proc in self.early.values():
            if proc is not None:
                proc.kill()
                proc.communicate()
        self.early.clear()
