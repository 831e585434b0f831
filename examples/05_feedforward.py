"""Chapter 5, "Feed forward, vectorised" (docs/05-feedforward.md).

The forward pass Z[l] = A[l-1] @ W[l] + b[l], A[l] = g[l](Z[l]) written out
by hand with NumPy and compared with model.forward; the same outputs from
loops, one sample and one neuron at a time (chainrule.reference.loop_forward);
and how much faster the matrices are (chainrule.reference.vectorization_speedup).
No pictures.

    python examples/05_feedforward.py [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.reference import loop_forward, vectorization_speedup


def show(name, M):
    """'  name: [[...]]' with the rows of M aligned under each other."""
    head = f"  {name + ':':<18} "
    return head + np.array2string(M, precision=6, suppress_small=True, prefix=head)


def by_hand():
    model = cr.Sequential([cr.Dense(3, 4), cr.ReLU(), cr.Dense(4, 2)], rng=0, dtype="float64")
    X = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    dense1, _, dense2 = model.layers
    print("FORWARD BY HAND: Dense(3, 4), ReLU, Dense(4, 2) on m = 2 samples")
    Z1 = X @ dense1.W + dense1.b
    print(f"  Z[1] = X @ W[1] + b[1]      {X.shape} @ {dense1.W.shape} + {dense1.b.shape} -> {Z1.shape}")
    A1 = np.maximum(Z1, 0)
    print(f"  A[1] = relu(Z[1])           {A1.shape}")
    A2 = A1 @ dense2.W + dense2.b
    print(f"  A[2] = A[1] @ W[2] + b[2]   {A1.shape} @ {dense2.W.shape} + {dense2.b.shape} -> {A2.shape}")
    out = model.forward(X)
    print(show("by hand", A2))
    print(show("model.forward(X)", out))
    print(f"  the same: {np.allclose(out, A2)}")
    return model, X


def with_loops(model, X):
    print("\nWITH LOOPS: z_k = b_k + sum_j a_j W[j][k], one sample i and one neuron k at a time")
    loops = loop_forward(model, X)
    print(show("loop_forward", loops))
    print(f"  equal to model.forward (to rounding): {np.allclose(loops, model.forward(X))}")

    big = cr.Sequential([cr.Dense(64, 32), cr.Tanh(), cr.Dense(32, 10)], rng=0, dtype="float64")
    Xb = np.random.default_rng(0).normal(size=(100, 64))
    start = time.perf_counter()
    loop_out = loop_forward(big, Xb)
    loop_seconds = time.perf_counter() - start
    vec_out = big.forward(Xb)  # a first call to warm up
    vec_seconds = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        big.forward(Xb)
        vec_seconds = min(vec_seconds, time.perf_counter() - start)
    print(f"\n  a 64-32-10 network on 100 samples, forward only: loops {loop_seconds * 1e3:.1f} ms, "
          f"matrices {vec_seconds * 1e3:.3f} ms, largest difference {np.max(np.abs(loop_out - vec_out)):.1e}")


def speedup():
    print("\nTHE SPEED-UP for a whole gradient computation (forward, cost, backward), "
          "chainrule.reference.vectorization_speedup:")
    result = vectorization_speedup(sizes=(64, 32, 10), m=64, repeats=3, rng=0)
    print(f"  network 64-32-10, batch of 64: loops {result['loop_seconds'] * 1e3:.1f} ms, "
          f"matrices {result['vectorised_seconds'] * 1e3:.3f} ms")
    print(f"  the matrices are {result['speedup']:.0f} times faster, and give the same numbers "
          f"(largest difference {result['max_abs_difference']:.1e})")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 5: the vectorised forward pass.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for pictures (this chapter draws none)")
    parser.parse_args(argv)
    model, X = by_hand()
    with_loops(model, X)
    speedup()


if __name__ == "__main__":
    main()
