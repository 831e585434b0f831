"""GELU against ReLU: time per call of each activation layer on one batch.

    python benchmarks/activations.py [--rows 128] [--cols 256] [--dtype float32] [--rounds 15]

Prints, for ReLU, GELU (exact, via erf) and GELU(approximate="tanh"), the time of the forward
pass and of forward + backward, each as a multiple of ReLU's forward. The layers are timed in
interleaved rounds (every round times each of them once, as the best of 7 x 100 calls), and the
multiples are the medians of the round-by-round ratios, so that a change in the machine's load
between rounds moves both sides of a ratio alike. Exact GELU in float32 uses chainrule's float32
erf; in float64, SciPy's erf when SciPy is installed, else chainrule's own (``--no-scipy``).
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import chainrule as cr
from chainrule import functional as F


def best_time(fn, number=100, repeat=7):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--cols", type=int, default=256)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-scipy", action="store_true", help="float64: chainrule's own erf instead of SciPy's")
    args = parser.parse_args(argv)
    if args.no_scipy:
        F._erf_impl = F.erf_rational  # what erf picks when SciPy is not installed
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(args.rows, args.cols)).astype(args.dtype)
    dA = rng.normal(size=Z.shape).astype(args.dtype)

    F.erf(Z[:1].astype(np.float64))  # picks the float64 backend
    erf = "chainrule's erf_float32" if Z.dtype == np.float32 else (
        "chainrule's erf_rational" if F._erf_impl is F.erf_rational else "SciPy's")
    print(f"erf: {erf}; {args.rows} x {args.cols} {args.dtype}; medians of {args.rounds} interleaved rounds")
    layers = {"ReLU": cr.ReLU(), "GELU": cr.GELU(), "GELU(tanh)": cr.GELU("tanh")}
    runs = {}
    for name, layer in layers.items():
        runs[name + " forward"] = lambda layer=layer: layer.forward(Z)
        runs[name + " forward + backward"] = lambda layer=layer: (layer.forward(Z), layer.backward(dA))
    times = {key: [] for key in runs}
    for _ in range(args.rounds):
        for key, fn in runs.items():
            times[key].append(best_time(fn))
    unit = np.array(times["ReLU forward"])
    for key, values in times.items():
        values = np.array(values)
        print(f"{key:<32}{np.median(values) * 1e6:9.1f} us  {np.median(values / unit):5.1f}x  "
              f"(rounds {np.min(values / unit):.1f}-{np.max(values / unit):.1f}x)")


if __name__ == "__main__":
    main()
