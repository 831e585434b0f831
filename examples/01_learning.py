"""Chapter 1, "What learning is" (docs/01-learning.md).

Learning is data, a cost and minimising it. This script fits y = 3x with a
one-parameter model y_hat = w x: first by gradient descent in plain NumPy,
printing the cost C(w) = mean((w x - y)^2) as it falls, then the same with
chainrule (a Dense(1, 1) layer, the MSE cost and SGD). Pictures in --out:
the cost falling step by step, and the cost surface C(W, b) of the chainrule
model with the path SGD took across it.

    python examples/01_learning.py [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr
# viz imports without matplotlib (the plot extra); only drawing needs it
from chainrule.viz import plots, tutorial


def by_hand(x, y, alpha=0.05, steps=50):
    """Gradient descent on C(w) = mean((w x - y)^2), one weight, plain NumPy. Returns w and the costs."""
    w = 0.0
    costs = []
    print(f"gradient descent by hand: y_hat = w x, start at w = {w}, learning rate alpha = {alpha}")
    print("  step          w    cost C(w)   slope dC/dw")
    for step in range(steps + 1):
        cost = np.mean((w * x - y) ** 2)
        grad = np.mean(2 * (w * x - y) * x)       # dC/dw = (2/m) sum (w x_i - y_i) x_i
        costs.append(float(cost))
        if step <= 5 or step % 10 == 0:
            print(f"  {step:>4}  {w:9.6f}  {cost:11.3e}  {grad:12.3e}")
        w = w - alpha * grad                      # w := w - alpha dC/dw
    print(f"learnt w = {w:.6f} (the answer is 3); the cost fell from {costs[0]:.1f} to {costs[-1]:.2e}")
    return w, costs


class RecordWeights(cr.callbacks.Callback):
    """Keeps (W, b) of the model's one Dense(1, 1) layer at the start and after every epoch."""

    def on_train_begin(self, logs=None):
        self.path = [self.read()]

    def on_epoch_end(self, epoch, logs=None):
        self.path.append(self.read())

    def read(self):
        dense = self.model.layers[0]
        return float(dense.W[0, 0]), float(dense.b[0])


def with_chainrule(x, y):
    """The same fit with a chainrule network: y_hat = x W + b, MSE, SGD. Returns the costs and the (W, b) path."""
    model = cr.Sequential([cr.Dense(1, 1)], rng=0)
    recorder = RecordWeights()
    history = model.fit(x.reshape(-1, 1), y, loss="mse", optimizer=cr.optim.SGD(lr=0.05),
                        epochs=200, batch_size=len(x), callbacks=[recorder], verbose=0)
    losses = history.history["loss"]
    print("\nthe same with chainrule: Sequential([Dense(1, 1)]), loss='mse', optimizer=SGD(lr=0.05)")
    print("  (Dense also has a bias b, so the model is y_hat = x W + b)")
    print("  epoch    cost")
    for epoch in (1, 2, 5, 10, 25, 50, 100, 200):
        print(f"  {epoch:>5}  {losses[epoch - 1]:.6f}")
    dense = model.layers[0]
    print(f"learnt W = {dense.W[0, 0]:.4f} and b = {dense.b[0]:.4f} (the answer is W = 3, b = 0)")
    print(f"prediction for x = 4: {model.predict([[4.0]])[0, 0]:.4f} (the answer is 12)")
    print("  (the cost falls fast at first, then slowly: W and b can trade off along a long, flat valley)")
    return losses, recorder.path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 1: fit y = 3x by gradient descent.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for the pictures (default: ./examples_out)")
    args = parser.parse_args(argv)

    x = np.array([1.0, 2.0, 3.0])
    y = 3 * x
    print(f"data: x = {x.tolist()}, y = 3x = {y.tolist()}\n")
    _, costs = by_hand(x, y)
    losses, path = with_chainrule(x, y)

    try:  # matplotlib is the optional plot extra: without it, everything above still ran
        paths = [plots.plot_history({"loss": costs[1:]}, args.out / "01_cost_by_hand.png",
                                    title="by hand: C(w) after each step (log scale)"),
                 tutorial.plot_cost_surface(lambda w, b: np.mean((w * x + b - y) ** 2), path,
                                            args.out / "01_cost_surface.png",
                                            title="C(W, b) of Dense(1, 1) and the path of SGD")]
    except ImportError:
        print('\n(pictures skipped: pip install "chainrule[plot]" to draw them)')
        return
    print("\npictures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
