"""Chapter 8, "Building and training the network" (docs/08-training.md).

Trains a 64-64-10 network (ReLU, softmax cross-entropy, Adam, mini-batches)
on the 1,797 8x8 digits bundled with chainrule, prints the cost and accuracy
per epoch and the test accuracy, and writes into --out the training history,
the confusion matrix of the test set and the misclassified test digits.

With --mnist DIR it trains a 784-128-10 network on MNIST instead, reading the
IDX files from DIR (downloading them into chainrule's cache if they are not there).

    python examples/08_training.py [--out DIR] [--epochs N] [--mnist DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import chainrule as cr
# viz imports without matplotlib (the plot extra); only drawing needs it
from chainrule.viz import plots


def digits():
    X, y = cr.data.load_digits()
    print(f"the bundled digits: X {X.shape} (8x8 images, pixels 0..16), labels y {y.shape} in 0..9")
    X_train, X_test, y_train, y_test = cr.data.train_test_split(X, y, test_size=0.2, rng=0)
    return X_train, X_test, y_train, y_test, (8, 8), [cr.Dense(64, 64), cr.ReLU(), cr.Dense(64, 10)]


def mnist(folder):
    (X_train, y_train), (X_test, y_test) = cr.data.load_mnist(data_dir=folder)
    print(f"MNIST: {len(X_train)} training and {len(X_test)} test images of 28x28")
    X_train, X_test = cr.data.flatten(X_train).astype(np.float32), cr.data.flatten(X_test).astype(np.float32)
    return X_train, X_test, y_train, y_test, (28, 28), [cr.Dense(784, 128), cr.ReLU(), cr.Dense(128, 10)]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 8: train a network on handwritten digits.")
    parser.add_argument("--out", type=Path, default=Path("examples_out"),
                        help="folder for the pictures (default: ./examples_out)")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training data (default 20)")
    parser.add_argument("--mnist", type=Path, metavar="DIR", default=None,
                        help="train on MNIST, with its files in DIR, instead of the bundled digits")
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test, image_shape, layers = mnist(args.mnist) if args.mnist else digits()
    scaler = cr.data.Standardizer().fit(X_train)
    X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)
    print(f"  {len(X_train)} training and {len(X_test)} test samples; each feature standardised "
          "(mean 0, standard deviation 1 on the training set)")

    model = cr.Sequential(layers, rng=0)
    sizes = "-".join(str(n) for n in [layers[0].n_in] + [l.n_out for l in layers if isinstance(l, cr.Dense)])
    print(f"\nthe network {sizes}: {model.num_params:,} parameters; loss cross_entropy, Adam(lr=1e-3), "
          f"batches of 32, {args.epochs} epochs, 10% of the training set held out for validation\n")
    history = model.fit(X_train_s, y_train, loss="cross_entropy", optimizer=cr.optim.Adam(lr=1e-3),
                        epochs=args.epochs, batch_size=32, validation_split=0.1, verbose=0)
    h = history.history
    print("  epoch    cost   accuracy   val cost   val accuracy")
    for epoch in range(len(h["loss"])):
        if epoch < 3 or (epoch + 1) % 5 == 0 or epoch == len(h["loss"]) - 1:
            print(f"  {epoch + 1:>5}  {h['loss'][epoch]:.4f}    {h['accuracy'][epoch]:.4f}     "
                  f"{h['val_loss'][epoch]:.4f}       {h['val_accuracy'][epoch]:.4f}")

    result = model.evaluate(X_test_s, y_test)
    predicted = model.predict(X_test_s)
    C = cr.metrics.confusion_matrix(y_test, predicted, 10)
    print(f"\ntest cost {result['loss']:.4f}, test accuracy {result['accuracy']:.2%} "
          f"({int(np.trace(C))} of {len(y_test)} right)")
    off = C - np.diag(np.diag(C))
    i, j = np.unravel_index(np.argmax(off), off.shape)
    print(f"the most frequent mistake: the digit {i} taken for {j} ({off[i, j]} times)")

    try:  # matplotlib is the optional plot extra: without it, everything above still ran
        paths = [
            plots.plot_history(h, args.out / "08_history.png", title=f"training a {sizes} network"),
            plots.plot_confusion_matrix(C, args.out / "08_confusion.png", title="test set"),
            plots.plot_misclassified(X_test.reshape(-1, *image_shape), y_test, predicted,
                                     args.out / "08_misclassified.png", title="misclassified test digits"),
        ]
    except ImportError:
        print('\n(pictures skipped: pip install "chainrule[plot]" to draw them)')
        return
    print("\npictures:", ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
