"""What the benchmark prints: the machine and data, a title and a table per configuration, the summary."""

from __future__ import annotations

from .memory import BATCH_BUFFER_FACTOR


def say(stream, *parts):
    print(*parts, file=stream, flush=True)


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _table(rows, stream):
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    for i, row in enumerate(rows):
        say(stream, "  ".join(str(v).ljust(w) if c == 0 else str(v).rjust(w)
                              for c, (v, w) in enumerate(zip(row, widths))))
        if i == 0:
            say(stream, "  ".join("-" * w for w in widths))


def _status_row(name, entry, width):
    return [name, f"{entry['status']}: {entry['reason']}"[:60]] + [""] * (width - 2)


def _numbers(values, spec=".2f"):
    return ", ".join(format(x, spec) for x in values)


def print_header(results, stream):
    """The machine, the libraries, the data and the GEMM peak: what a reader needs to weigh the numbers."""
    machine, data, settings = results["machine"], results["data"], results["settings"]
    n, blas = data["samples"], machine["blas"]
    say(stream, f"chainrule benchmark, {machine['date']}")
    say(stream, f"machine: {machine['cores']} cores, {machine['cpu_model'] or 'CPU model unknown'}; "
                f"{machine['platform']}")
    say(stream, "BLAS: " + ("; ".join(f"{b['internal_api']} {b['version']} ({b['num_threads']} threads, "
                                     f"{b['architecture']}, {b['threading_layer']})" for b in blas)
                            if blas else "unknown (threadpoolctl not installed)")
        + f"; PyTorch set to {machine['blas_threads']} threads")
    say(stream, "versions: " + ", ".join(f"{k} {val}" for k, val in machine["versions"].items()))
    say(stream, f"chainrule's Adam: {machine['chainrule_adam']}")
    if "load_average" in machine:
        say(stream, "load average at start: " + _numbers(machine["load_average"])
            + " (the machine is shared: best and median of interleaved runs are shown)")
    say(stream, f"data: {data['source']}; {n:,} training rows x {settings['epochs']} epoch(s)"
        + ("  ** SYNTHETIC: speeds only, no accuracy **" if data["synthetic"] else ""))
    if data["requested"] is not None and n < data["requested"]:
        say(stream, f"      ({data['requested']:,} rows asked for, {n:,} available)")
    say(stream, f"float32 GEMM peak (NumPy, measured): {results['gemm_gflops']:.1f} GFLOP/s (measured again at the "
                "start of every round of a training configuration: each run is set against the peak of its "
                f"round); {settings['repeats']} round(s), the systems interleaved")
    for system, status in results["peer_status"].items():
        if status != "ok":
            say(stream, f"{system}: missing (not installed), reported as missing")


def print_title(name, config, stream):
    """The line that opens a configuration, printed before it is measured."""
    arch = "-".join(map(str, config["sizes"]))
    kind, n, batch = config["kind"], config.get("samples"), config["batch_size"]
    say(stream, "")
    if kind == "train":
        params, epochs = config["parameters"], config["epochs"]
        say(stream, f"== {name}: training {arch} ({params:,} parameters), batch {batch}, {n:,} samples x {epochs} "
                    f"epoch(s); FLOP lower bound 6 x params x samples / peak = {6.0 * params * n * epochs / 1e9:.2f} "
                    "GFLOP / peak ==")
    elif kind == "inference":
        say(stream, f"== {name}: {arch}, outputs for {n:,} rows in batches of {batch} ==")
    elif kind == "memory":
        say(stream, f"== {name}: extra peak RSS of training {arch} one epoch, batch {batch}, {n:,} samples "
                    "(fresh process each; ru_maxrss after the data are loaded -> after training) ==")
    else:
        say(stream, f"== time to {100 * config['target']:g}% test accuracy: {arch}, Adam 1e-3, batch {batch}, "
                    f"at most {config['max_epochs']} epochs (evaluation not timed) ==")


def print_config(config, stream):
    """The table of a measured configuration."""
    kind = config["kind"]
    if kind == "train":
        say(stream, f"GEMM peak at the start of each round: {_numbers(config['gemm_gflops_rounds'], '.1f')} GFLOP/s")
    if kind in ("train", "inference"):
        _print_speed(config["systems"], stream, training=kind == "train")
    elif kind == "memory":
        _print_memory(config["systems"], config["budget"], stream)
    else:
        _print_time_to_accuracy(config["systems"], stream)


def _print_speed(entries, stream, training):
    head = ["system", "samples/s (best)", "median", "chainrule/peer (best)", "(paired median, range)"]
    head += ["bound/measured (best, median)"] if training else []
    rows = [head]
    for system, e in entries.items():
        if e["status"] != "ok":
            rows.append(_status_row(system, e, len(head)))
            continue
        low, high = e.get("paired_ratio_range", (None, None))
        row = [system, f"{e['samples_per_s']:,.0f}", f"{e['median_samples_per_s']:,.0f}",
               _fmt(e.get("chainrule_ratio"), ".2f"),
               f"{_fmt(e.get('paired_ratio'), '.2f')} ({_fmt(low, '.2f')}-{_fmt(high, '.2f')})"]
        if training:
            row.append(f"{100 * e['fraction_of_bound']:.1f}%, {100 * e['median_fraction_of_bound']:.1f}%")
        rows.append(row)
    _table(rows, stream)


def _print_memory(entries, budget, stream):
    rows = [["system", "extra peak MiB", "of it code pages", "budget MiB", "extra/budget", "chainrule/peer"]]
    ours = entries.get("chainrule", {}).get("extra_peak_bytes")
    for system, e in entries.items():
        if e["status"] != "ok":
            rows.append(_status_row(system, e, len(rows[0])))
            continue
        extra = e["extra_peak_bytes"]
        ratio = ours / extra if ours is not None and extra > 0 else None
        code = e.get("file_backed_increase_bytes")
        rows.append([system, f"{extra / 2**20:,.1f}", "-" if code is None else f"{code / 2**20:,.1f}",
                     f"{budget['total'] / 2**20:,.1f}", f"{extra / budget['total']:.2f}", _fmt(ratio, ".2f")])
    _table(rows, stream)
    say(stream, "(code pages: library files paged in on first use, still resident after training (RssFile))")
    mib = {k: f"{v / 2**20:.1f}" for k, v in budget.items()}
    say(stream, f"budget = data {mib['data']} + 3 x parameters {mib['parameters_x3']} + batch buffers "
                f"{mib['batch_buffers']} (batch x sum of widths x 4 B x {BATCH_BUFFER_FACTOR}) = {mib['total']} MiB")


def _print_time_to_accuracy(entries, stream):
    rows = [["system", "seconds", "epochs", "best test accuracy"]]
    for system, e in entries.items():
        if e["status"] != "ok":
            rows.append(_status_row(system, e, 4))
            continue
        best = max(h["test_accuracy"] for h in e["history"])
        rows.append([system, _fmt(e["seconds"], ".1f") if e["reached"] else "not reached",
                     _fmt(e["epochs"], "d"), f"{best:.4f}"])
    _table(rows, stream)


def print_summary(results, include, stream):
    """One table of every configuration: median samples/s, the round-by-round (paired) median
    ratios, and the median share of the FLOP lower bound (each run against its round's GEMM speed)."""
    peers = [s for s in include if s != "chainrule"]
    head = ["config"] + [f"{s} samples/s" for s in include] + [f"chainrule/{p}" for p in peers]
    head += ["bound/measured " + "/".join(include)]
    rows = [head]
    for name, config in results["configs"].items():
        if config["kind"] not in ("train", "inference"):
            continue
        entries = config["systems"]
        ok = {s for s in include if entries[s]["status"] == "ok"}
        row = [name] + [f"{entries[s]['median_samples_per_s']:,.0f}" if s in ok else entries[s]["status"]
                        for s in include]
        row += [_fmt(entries[p].get("paired_ratio"), ".2f") if p in ok else "-" for p in peers]
        row.append("-" if config["kind"] != "train" else
                   " / ".join(f"{100 * entries[s]['median_fraction_of_bound']:.0f}%" if s in ok else "-"
                              for s in include))
        rows.append(row)
    say(stream, "")
    say(stream, f"== summary: medians of {results['settings']['repeats']} interleaved rounds; ratios round by round; "
                "bounds with the GEMM speed measured at the start of each round ==")
    _table(rows, stream)


def print_end(results, stream):
    """The load average at the end, where the system tells it."""
    if "load_average_end" in results["machine"]:
        say(stream, "load average at end: " + _numbers(results["machine"]["load_average_end"]))
