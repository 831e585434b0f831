"""Chapter 2, "Matrices, the dot product, derivatives" (docs/02-matrices-and-derivatives.md).

The dot product 2*1 + 3*5 + 2*2 = 21; a matrix product as many dot products,
with its shapes; the derivative of x^2 checked by central differences;
partial derivatives; and the chain rule on a small two-layer network,
computed number by number with chainrule.autograd.Value and compared with
the vectorised backpropagation of chainrule (both printed). No pictures.

    python examples/02_matrices_and_derivatives.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.autograd import Value, grad_array, scalar_forward


def indent(M, spaces):
    """A matrix as text, every line indented."""
    return "\n".join(" " * spaces + line for line in np.array2string(np.asarray(M)).splitlines())


def side_by_side(left, right, titles, decimals=6):
    """Two matrices of the same shape, row by row, next to each other under their titles."""
    rows = lambda M: ["[" + " ".join(f"{v:{decimals + 3}.{decimals}f}" for v in row) + "]" for row in np.atleast_2d(M)]
    left, right = rows(left), rows(right)
    width = max(len(titles[0]), len(left[0]))
    return [f"{titles[0]:<{width}}   {titles[1]}"] + [f"{a:<{width}}   {b}" for a, b in zip(left, right)]


def dot_product():
    a = np.array([2, 3, 2])
    b = np.array([1, 5, 2])
    print("THE DOT PRODUCT")
    print(f"  a = {a.tolist()}, b = {b.tolist()}")
    print(f"  a . b = 2*1 + 3*5 + 2*2 = {2 * 1} + {3 * 5} + {2 * 2} = {int(a @ b)}")


def matrix_product():
    A = np.array([[1, 2], [3, 4], [5, 6]])
    B = np.array([[1, 0, 2], [0, 1, 3]])
    C = A @ B
    print("\nA MATRIX PRODUCT: many dot products, row i of A with column j of B")
    print(f"  A {A.shape} @ B {B.shape} -> C {C.shape}: the inner sizes (2 and 2) must agree")
    for name, M in (("A", A), ("B", B), ("C = A @ B", C)):
        print(f"  {name} =")
        print(indent(M, 6))
    print(f"  C[2, 2] = row 2 of A . column 2 of B = 5*2 + 6*3 = {C[2, 2]}")
    try:
        B @ B
    except ValueError:
        print(f"  B {B.shape} @ B {B.shape} is not defined: inner sizes 3 and 2 differ (NumPy raises ValueError)")


def derivative():
    f = lambda x: x ** 2
    h = 1e-6
    print("\nA DERIVATIVE, CHECKED BY CENTRAL DIFFERENCES: f(x) = x^2, f'(x) = 2x")
    for x in (-1.0, 0.5, 3.0):
        numeric = (f(x + h) - f(x - h)) / (2 * h)
        print(f"  x = {x:5.2f}:  2x = {2 * x:8.5f}   (f(x+h) - f(x-h)) / 2h = {numeric:8.5f}")


def partial_derivatives():
    x, y, w, b, h = 2.0, 1.0, 0.5, 0.25, 1e-6
    f = lambda w, b: (w * x + b - y) ** 2
    dfdw, dfdb = 2 * (w * x + b - y) * x, 2 * (w * x + b - y)
    numeric_w = (f(w + h, b) - f(w - h, b)) / (2 * h)
    numeric_b = (f(w, b + h) - f(w, b - h)) / (2 * h)
    print("\nPARTIAL DERIVATIVES of f(w, b) = (w x + b - y)^2 at x = 2, y = 1, w = 0.5, b = 0.25")
    print(f"  df/dw = 2 (w x + b - y) x = {dfdw:.6f}   numeric {numeric_w:.6f}")
    print(f"  df/db = 2 (w x + b - y)   = {dfdb:.6f}   numeric {numeric_b:.6f}")


def chain_rule_one_neuron():
    print("\nTHE CHAIN RULE on one neuron: z = w x + b, a = tanh(z), C = (a - y)^2")
    x, y = 2.0, 1.0
    w, b = Value(0.5), Value(-0.25)
    z = w * x + b
    a = z.tanh()
    C = (a - y) ** 2
    C.backward()                                  # the chain rule, node by node
    dC_da, da_dz, dz_dw = 2 * (a.data - y), 1 - a.data ** 2, x
    print(f"  z = {z.data:.4f}, a = {a.data:.4f}, C = {C.data:.6f}")
    print(f"  dC/dw = dC/da * da/dz * dz/dw = {dC_da:.4f} * {da_dz:.4f} * {dz_dw:.1f} = {dC_da * da_dz * dz_dw:.6f}")
    print(f"  Value.backward() gives w.grad = {w.grad:.6f}, b.grad = {b.grad:.6f} (dz/db = 1)")


def chain_rule_network():
    print("\nTHE CHAIN RULE on a two-layer network: Dense(2, 3), Tanh, Dense(3, 1), MSE, 2 samples")
    model = cr.Sequential([cr.Dense(2, 3), cr.Tanh(), cr.Dense(3, 1)], rng=0, dtype="float64")
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    y = np.array([1.0, 0.0])
    loss = cr.losses.MSE()

    # 1. one number at a time: a graph of Values, z_k = b_k + sum_j a_j W[j][k], then backward()
    cost, params = scalar_forward(model, X, y, loss)
    cost.backward()
    scalar = {name: grad_array(grid) for name, grid in params.items()}
    n_values = len(cost.topological_order())

    # 2. vectorised: one matrix product per layer, dW[l] = A[l-1].T @ dZ[l]
    vector_cost = loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    dense1, dense2 = model.layers[0], model.layers[2]
    vector = {"W[1]": dense1.dW, "b[1]": dense1.db, "W[2]": dense2.dW, "b[2]": dense2.db}

    print(f"  cost: autograd {cost.data:.10f}   vectorised {vector_cost:.10f}")
    print(f"  the autograd graph holds {n_values} Values; the vectorised pass is a few matrix products")
    names = {key: "d" + key for key in vector}
    worst = 0.0
    for key, label in names.items():
        print(f"  {label}, shape {vector[key].shape}")
        for line in side_by_side(scalar[key], vector[key], ("autograd (Value.backward)", "vectorised (model.backward)")):
            print("    " + line)
        worst = max(worst, float(np.max(np.abs(scalar[key] - vector[key]))))
    print(f"  largest difference between the two: {worst:.1e} -> the same gradients")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 2: dot products, matrix products, derivatives.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for pictures (this chapter draws none)")
    parser.parse_args(argv)
    dot_product()
    matrix_product()
    derivative()
    partial_derivatives()
    chain_rule_one_neuron()
    chain_rule_network()


if __name__ == "__main__":
    main()
