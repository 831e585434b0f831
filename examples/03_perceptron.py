"""Chapter 3, "The perceptron" (docs/03-perceptron.md).

Rosenblatt's perceptron, y_hat = step(x . w + b), learns AND and OR with its
update rule and stops (it converges); on XOR it never stops, because no
straight line separates the classes, and says so. A two-layer network solves
XOR. A sigmoid neuron, the smooth version, learns AND by gradient descent.

Pictures in --out: the perceptron's line moving epoch by epoch while it
learns AND, the two-layer network's regions on XOR, and the cost surface
J(w, b) of one sigmoid neuron on a one-feature problem with the path that
gradient descent takes across it.

    python examples/03_perceptron.py [--out DIR]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

import chainrule as cr
# viz imports without matplotlib (the plot extra); only drawing needs it
from chainrule.viz import plots, tutorial

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def perceptron_gates():
    """The perceptron on AND and OR (it converges) and on XOR (it does not). Returns the AND perceptron."""
    print("THE PERCEPTRON: y_hat = step(x . w + b), update w += lr (y - y_hat) x on every mistake")
    print(f"inputs X = {X.tolist()}")
    fitted = {}
    for gate in ("AND", "OR"):
        p = cr.Perceptron(shuffle=False).fit(X, GATES[gate])
        fitted[gate] = p
        print(f"\n{gate}: labels {GATES[gate]}")
        print(f"  converged: {p.converged_} after {p.n_epochs_} epochs; mistakes per epoch {p.history_['mistakes']}")
        print(f"  weights w = {p.w_.tolist()}, bias b = {p.b_}: the line {p.w_[0]:g} x1 + {p.w_[1]:g} x2 "
              f"{'+' if p.b_ >= 0 else '-'} {abs(p.b_):g} = 0")
        print(f"  predictions {p.predict(X).tolist()} (targets {GATES[gate]})")
        on_line = X[p.decision_function(X) == 0]
        if len(on_line):
            print(f"  the line passes through {', '.join(str(tuple(x)) for x in on_line.tolist())}: "
                  "z = 0 there, which step() counts as class 0")

    with warnings.catch_warnings():  # fit warns (ConvergenceWarning); the message says the same
        warnings.simplefilter("ignore")
        xor = cr.Perceptron(max_epochs=20, shuffle=False).fit(X, GATES["XOR"])
    print(f"\nXOR: labels {GATES['XOR']}")
    print(f"  converged: {xor.converged_}; mistakes per epoch {xor.history_['mistakes']}")
    print(f"  predictions {xor.predict(X).tolist()} (targets {GATES['XOR']})")
    print(f"  message: {xor.message_}")
    return fitted["AND"]


def two_layer_xor():
    """Dense(2, 4), Tanh, Dense(4, 1) trained with the binary cross-entropy solves XOR."""
    net = cr.Sequential([cr.Dense(2, 4, init="glorot_uniform"), cr.Tanh(),
                         cr.Dense(4, 1, init="glorot_uniform")], rng=0, dtype="float64")
    history = net.fit(X, GATES["XOR"], loss="bce", optimizer=cr.optim.Adam(lr=0.05), epochs=500,
                      batch_size=4, verbose=0)
    p = net.predict_proba(X)[:, 1]
    print("\nA TWO-LAYER NETWORK on XOR: Dense(2, 4), Tanh, Dense(4, 1), loss 'bce', Adam(lr=0.05), 500 epochs")
    print(f"  cost {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")
    print(f"  P(class 1) = {np.round(p, 3).tolist()}")
    print(f"  predictions {net.predict(X).tolist()} (targets {GATES['XOR']}): the hidden layer makes XOR separable")
    return net


def sigmoid_and():
    s = cr.SigmoidNeuron(lr=1.0, epochs=2000, rng=0).fit(X, GATES["AND"])
    print("\nA SIGMOID NEURON on AND: a = sigma(x . w + b), gradient descent on the cross-entropy")
    print(f"  cost J: {s.cost_history_[0]:.4f} at the start -> {s.cost_history_[-1]:.4f} after 2000 steps")
    print(f"  w = {np.round(s.w_, 3).tolist()}, b = {s.b_:.3f}")
    print(f"  probabilities {np.round(s.predict_proba(X), 3).tolist()}, predictions {s.predict(X).tolist()}")


def one_feature_problem():
    """A one-feature problem whose classes overlap, so that the best (w, b) is finite."""
    gen = np.random.default_rng(0)
    x = np.concatenate([gen.normal(-0.5, 1.0, 20), gen.normal(1.0, 1.0, 20)])
    y = np.repeat([0, 1], 20)
    return x.reshape(-1, 1), y


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 3: the perceptron, XOR, and a sigmoid neuron.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for the pictures (default: ./examples_out)")
    args = parser.parse_args(argv)

    and_perceptron = perceptron_gates()
    net = two_layer_xor()
    sigmoid_and()

    X1, y1 = one_feature_problem()
    neuron = cr.SigmoidNeuron(lr=1.0, epochs=150, rng=0).fit(X1, y1)
    print("\nTHE COST SURFACE of one sigmoid neuron on 40 one-feature samples (classes overlap)")
    print(f"  gradient descent, 150 steps of lr = 1.0, from (w, b) = ({neuron.path_['w'][0, 0]:.3f}, "
          f"{neuron.path_['b'][0]:.3f}) to ({neuron.w_[0]:.3f}, {neuron.b_:.3f})")
    print(f"  cost J(w, b): {neuron.cost_history_[0]:.4f} -> {neuron.cost_history_[-1]:.4f}")

    try:  # matplotlib is the optional plot extra: without it, everything above still ran
        paths = [  # history_ holds w and b after each epoch, and the mistakes made in it
            tutorial.plot_perceptron_lines(X, GATES["AND"], and_perceptron.history_,
                                           args.out / "03_perceptron_lines.png",
                                           title="the perceptron learning AND: its line after each epoch"),
            plots.plot_decision_boundary(net.predict, X.astype(float), GATES["XOR"], args.out / "03_xor_two_layer.png",
                                         title="XOR: the regions of a 2-4-1 network"),
            tutorial.plot_cost_surface(lambda w, b: cr.SigmoidNeuron.cost_at(X1, y1, np.array([w]), b),
                                       np.column_stack([neuron.path_["w"][:, 0], neuron.path_["b"]]),
                                       args.out / "03_cost_surface.png",
                                       title="cost J(w, b) of one sigmoid neuron, with gradient descent"),
        ]
    except ImportError:
        print('\n(pictures skipped: pip install "chainrule[plot]" to draw them)')
        return
    print("\npictures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
