"""Chapter 6, "The cost" (docs/06-cost.md).

The mean squared error on two numbers; softmax turning scores into
probabilities; the cross-entropy of a right and of a wrong answer, and how
confidence changes it; its gradient (P - Y) / m; and why softmax is computed
as exp(z - max z): at logits of 1000 the naive formula overflows to nan while
chainrule's stays exact. No pictures.

    python examples/06_cost.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr


def mse():
    A = np.array([[0.5], [2.0]])
    Y = np.array([[1.0], [1.0]])
    loss = cr.losses.MSE()
    cost = loss.forward(A, Y)
    print("MEAN SQUARED ERROR, for numbers: C = mean((A - Y)^2)")
    print(f"  predictions A = {A.ravel().tolist()}, targets Y = {Y.ravel().tolist()}")
    print(f"  C = ((0.5 - 1)^2 + (2 - 1)^2) / 2 = (0.25 + 1) / 2 = {cost}")
    print(f"  dC/dA = 2 (A - Y) / n = {loss.backward().ravel().tolist()}")


def softmax_and_cross_entropy():
    Z = np.array([[2.0, 0.0, 0.0]])
    P = cr.functional.softmax(Z)
    ce = cr.losses.CrossEntropy()
    print("\nSOFTMAX: scores Z -> probabilities P = exp(Z) / sum exp(Z), row by row")
    print(f"  Z = {Z[0].tolist()}  ->  P = {np.round(P[0], 4).tolist()}  (sum {P.sum():.1f})")

    print("\nCROSS-ENTROPY, for classes: C = mean of -log P[true class]")
    right, wrong = ce.forward(Z, [0]), ce.forward(Z, [1])
    print(f"  true class 0 (the network's favourite): -log {P[0, 0]:.4f} = {right:.4f}")
    print(f"  true class 1 (a wrong guess):           -log {P[0, 1]:.4f} = {wrong:.4f}")
    print("  confidence in the right class, and its cost:")
    for score in (0.0, 1.0, 2.0, 5.0, 10.0):
        Zc = np.array([[score, 0.0, 0.0]])
        print(f"    Z = [{score:4.1f}, 0, 0]: P[0] = {cr.functional.softmax(Zc)[0, 0]:.5f}, "
              f"cost if right {ce.forward(Zc, [0]):8.5f}, cost if wrong {ce.forward(Zc, [1]):8.5f}")

    Zb = np.array([[2.0, 0.0, 0.0], [0.5, 1.5, -1.0]])
    y = np.array([0, 1])
    cost = ce.forward(Zb, y)
    dZ = ce.backward()
    Pb = cr.functional.softmax(Zb)
    Y = np.eye(3)[y]
    print(f"\n  a batch of m = 2, labels {y.tolist()}: cost {cost:.4f}")
    print("  gradient dC/dZ = (P - Y) / m:")
    row = lambda v: "[" + " ".join(f"{x:7.4f}" for x in v) + "]"
    print(f"    {'loss.backward()':<25} (P - Y) / m")
    for row_grad, row_formula in zip(dZ, (Pb - Y) / 2):
        print(f"    {row(row_grad):<25} {row(row_formula)}")


def stability():
    Z = np.array([[1000.0, 0.0]])
    print("\nSTABILITY at logits of 1000")
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        overflow = np.exp(np.float64(1000.0))
    print(f"  naive exp(z) / sum exp(z): exp(1000) = {overflow} in float64, inf / inf = nan -> P = {naive[0].tolist()}")
    P = cr.functional.softmax(Z)
    print(f"  chainrule softmax, exp(z - max z): P = {P[0].tolist()}")
    ce = cr.losses.CrossEntropy()
    right = ce.forward(Z, [0]) + 0.0  # + 0.0 turns -0.0 into 0.0
    wrong = ce.forward(Z, [1])
    print(f"  cross-entropy from log_softmax: true class 0 -> {right}, true class 1 -> {wrong} (= 1000, exactly)")
    print(f"  and its gradient (P - Y) / m for true class 1 stays finite: {ce.backward()[0].tolist()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 6: mean squared error, softmax, cross-entropy.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for pictures (this chapter draws none)")
    parser.parse_args(argv)
    mse()
    softmax_and_cross_entropy()
    stability()


if __name__ == "__main__":
    main()
