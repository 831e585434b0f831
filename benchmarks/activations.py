"""GELU against ReLU: time per call of each activation layer on one batch.

    python benchmarks/activations.py [--rows 128] [--cols 256] [--dtype float32]

Prints the best of several timings of the forward pass, and of forward + backward,
for ReLU, GELU (exact, via erf) and GELU(approximate="tanh"), each also as a
multiple of ReLU forward. Exact GELU uses SciPy's erf when SciPy is installed,
else chainrule's own; ``--no-scipy`` times the latter.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import chainrule as cr
from chainrule import functional as F


def best_time(fn, number=200, repeat=7):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--cols", type=int, default=256)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--no-scipy", action="store_true", help="time chainrule's own erf instead of SciPy's")
    args = parser.parse_args(argv)
    if args.no_scipy:
        F._erf_impl = F.erf_rational  # what erf picks when SciPy is not installed
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(args.rows, args.cols)).astype(args.dtype)
    dA = rng.normal(size=Z.shape).astype(args.dtype)

    F.erf(Z[:1])  # picks the backend
    print("erf:", "chainrule's erf_rational" if F._erf_impl is F.erf_rational else "SciPy's")
    base = None
    for name, layer in (("ReLU", cr.ReLU()), ("GELU", cr.GELU()), ("GELU(tanh)", cr.GELU("tanh"))):
        forward = best_time(lambda: layer.forward(Z))
        base = base or forward  # ReLU forward, the unit
        both = best_time(lambda: (layer.forward(Z), layer.backward(dA)))
        print(f"{name + ' forward':<32}{forward * 1e6:9.1f} us  {forward / base:5.1f}x")
        print(f"{name + ' forward + backward':<32}{both * 1e6:9.1f} us  {both / base:5.1f}x")


if __name__ == "__main__":
    main()
