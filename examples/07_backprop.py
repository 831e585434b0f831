"""Chapter 7, "Backpropagation" (docs/07-backprop.md).

model.explain prints one forward and one backward pass of a 2-3-2 network on
2 samples, every matrix numbered with its equation and shapes, each gradient
beside its finite-difference estimate, and the gradient-descent update.
Then cr.gradcheck and cr.gradient_report check every gradient of the model
against central differences. No pictures.

    python examples/07_backprop.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 7: backpropagation, number by number.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for pictures (this chapter draws none)")
    parser.parse_args(argv)

    model = cr.Sequential([cr.Dense(2, 3), cr.Tanh(), cr.Dense(3, 2)], rng=0, dtype="float64")
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    y = np.array([0, 1])
    print("a 2-3-2 network, Dense(2, 3), Tanh, Dense(3, 2), on m = 2 samples with labels", y.tolist())
    print("model.explain(X, y, loss='cross_entropy') prints every number of one training step:\n")
    explanation = model.explain(X, y, loss="cross_entropy", lr=0.1)

    worst = max(s.error for s in explanation.backward if s.error is not None)
    print(f"\nthe largest relative error between backprop and finite differences above: {worst:.1e}")

    print("\nGRADIENT CHECK of every parameter (and of dC/dX), cr.gradient_report:")
    loss = cr.losses.CrossEntropy()
    for name, error in cr.gradient_report(model, X, y, loss).items():
        print(f"  {name:<9} relative error {error:.1e}")
    error = cr.gradcheck(model, X, y, loss)
    print(f"cr.gradcheck: the largest relative error is {error:.1e} -> "
          f"{'backpropagation is correct' if error < 1e-6 else 'a gradient is WRONG'} (threshold 1e-6)")


if __name__ == "__main__":
    main()
