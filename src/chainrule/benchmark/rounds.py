"""Repeated, interleaved measurements and what is made of them: best, median, paired ratios, share of the bound.

The machine is shared and noisy, so every throughput is measured in
``repeats`` rounds with the systems interleaved (their order rotated each
round); the best run is reported next to the median, and each ratio to a peer
both as the ratio of the bests and as the median of the ratios round by round
(the runs of one round share the machine's load at that moment, so their
ratio moves less than either speed).
"""

from __future__ import annotations

import statistics

from .systems import PeerMissing


def measure(fn, system, repeat_results, errors):
    """Appends fn() to repeat_results; a failure goes to errors[system] as (status, reason) instead."""
    try:
        repeat_results.append(fn())
    except PeerMissing as exc:
        errors[system] = ("missing", str(exc))
    except Exception as exc:  # report, and go on with the other systems
        errors[system] = ("error", f"{type(exc).__name__}: {exc}")


def rounds(include, repeats, make_fn, gemm_fn=None):
    """Run make_fn(system)() ``repeats`` times for every system, interleaved, order rotated each round.

    With ``gemm_fn``, the GEMM speed is measured at the start of every round too (returned
    per round), so that each run can be set against the peak of its own moment.
    """
    runs = {s: [] for s in include}
    errors = {}
    peaks = []
    for r in range(repeats):
        if gemm_fn is not None:
            peaks.append(gemm_fn())
        k = r % len(include)
        for system in include[k:] + include[:k]:
            if system not in errors:
                measure(make_fn(system), system, runs[system], errors)
    return runs, errors, peaks


def speed_entries(include, runs, errors, flops=None, peaks=None, samples=None):
    """Per system: best and median samples/s; against chainrule: the ratio of the bests and the
    median of the ratios round by round (runs of one round share the machine's load). With the
    FLOPs of one sample (``flops``) and the GEMM speed of each round (``peaks``): the share of the
    FLOP lower bound, round by round (best and median)."""
    entries = {}
    for system in include:
        if system in errors:
            status, reason = errors[system]
            entries[system] = {"status": status, "reason": reason}
            continue
        values = runs[system]
        entry = {"status": "ok", "samples_per_s": max(values), "median_samples_per_s": statistics.median(values),
                 "runs": values, "seconds": samples / max(values)}
        if flops is not None:
            shares = [rate * flops / (peak * 1e9) for rate, peak in zip(values, peaks)]
            entry.update(fraction_of_bound=max(shares), median_fraction_of_bound=statistics.median(shares),
                         fraction_of_bound_runs=shares)
        entries[system] = entry
    ours = entries.get("chainrule", {})
    for entry in entries.values():
        if entry["status"] == "ok" and ours.get("status") == "ok":
            paired = [a / b for a, b in zip(ours["runs"], entry["runs"])]
            entry.update(chainrule_ratio=ours["samples_per_s"] / entry["samples_per_s"],
                         paired_ratio=statistics.median(paired), paired_ratio_range=[min(paired), max(paired)])
    return entries
