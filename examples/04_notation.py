"""Chapter 4, "The notation of a layered network" (docs/04-notation.md).

Builds a 4-3-2 network and prints, layer by layer, the shapes of W[l] and
b[l] (W[l] is (n[l-1], n[l]), b[l] is (n[l],)), the shapes of Z[l] and A[l]
for a batch, and the parameter count. Draws the network's diagram into --out.

    python examples/04_notation.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr
# viz imports without matplotlib (the plot extra); only drawing needs it
from chainrule.viz import tutorial


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 4: the notation W[l], b[l], Z[l], A[l].")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for the pictures (default: ./examples_out)")
    args = parser.parse_args(argv)

    model = cr.Sequential([cr.Dense(4, 3), cr.Tanh(), cr.Dense(3, 2)], rng=0)
    sizes = [4, 3, 2]
    print("a 4-3-2 network: Sequential([Dense(4, 3), Tanh(), Dense(3, 2)])")
    print(f"  L = {len(sizes) - 1} layers; n[0] = {sizes[0]} input features, n[1] = {sizes[1]}, n[2] = {sizes[2]}\n")

    dense_layers = [layer for layer in model.layers if isinstance(layer, cr.Dense)]
    total = 0
    print(f"  {'symbol':<7} {'shape':<8} {'numbers':>7}   meaning")
    for l, dense in enumerate(dense_layers, start=1):
        print(f"  {f'W[{l}]':<7} {str(dense.W.shape):<8} {dense.W.size:>7}   (n[{l - 1}], n[{l}]): "
              f"column j holds the weights into neuron j of layer {l}")
        print(f"  {f'b[{l}]':<7} {str(dense.b.shape):<8} {dense.b.size:>7}   (n[{l}],): one bias per neuron of layer {l}")
        total += dense.W.size + dense.b.size
    print(f"\n  parameters: 4*3 + 3 + 3*2 + 2 = {total}; model.num_params = {model.num_params}")

    m = 5
    X = np.random.default_rng(0).normal(size=(m, 4))
    print(f"\na batch of m = {m} samples, one per row (shapes (m, n[l])):")
    A = X
    rows = [("A[0] = X", A.shape)]
    for l, dense in enumerate(dense_layers, start=1):
        Z = A @ dense.W + dense.b
        A = np.tanh(Z) if l == 1 else Z
        rows += [(f"Z[{l}] = A[{l - 1}] @ W[{l}] + b[{l}]", Z.shape),
                 (f"A[{l}] = g[{l}](Z[{l}]) = {'tanh' if l == 1 else 'identity'}(Z[{l}])", A.shape)]
    for equation, shape in rows:
        print(f"  {equation:<34} {shape}")
    print(f"  model.forward(X) has shape {model.forward(X).shape} and the same numbers: "
          f"{np.allclose(model.forward(X), A, atol=1e-5)}")

    print("\nmodel.summary():")
    print(model.summary())

    try:  # matplotlib is the optional plot extra: without it, everything above still ran
        paths = [tutorial.plot_network(sizes, args.out / "04_network.png", activations=["tanh", "identity"],
                                       title="the 4-3-2 network: W[l] is (n[l-1], n[l]), b[l] is (n[l],)"),
                 tutorial.plot_network([64, 32, 10], args.out / "04_network_digits.png",
                                       activations=["relu", "identity"],
                                       title="a digits network 64-32-10 (wide layers drawn in part)")]
    except ImportError:
        print('\n(pictures skipped: pip install "chainrule[plot]" to draw them)')
        return
    print("\npictures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
