"""chainrule.sklearn.MLPClassifier beside scikit-learn's own, same sizes, solver and epochs.

    python benchmarks/sklearn_compare.py --data-dir path/to/mnist [--rows 20000] [--epochs 20]
                                         [--hidden 128] [--repeats 3]

Both fit the same rows (pixels / 255, float32, which both keep) with Adam, lr 1e-3, batches of
200, L2 alpha 1e-4, for exactly ``--epochs`` epochs (tol=0 and n_iter_no_change above the
epochs, so neither stops early); the fits alternate, and the best of ``--repeats`` is shown
with the accuracy on the 10,000 test images.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def fit_and_score(clf, X, y, X_test, y_test):
    """The seconds ``clf.fit`` takes, and the accuracy on the test rows."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter is reached on purpose
        clf.fit(X, y)
    return time.perf_counter() - start, clf.score(X_test, y_test)


def main(argv=None):
    from sklearn.neural_network import MLPClassifier as SkMLP

    import chainrule as cr
    from chainrule.sklearn import MLPClassifier as CrMLP

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="a folder holding the MNIST files")
    parser.add_argument("--rows", type=int, default=20000, help="training rows (default 20000)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of each fit (default 20)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer sizes (default 128)")
    parser.add_argument("--repeats", type=int, default=3, help="fits of each, the best time shown (default 3)")
    args = parser.parse_args(argv)

    (X, y), (X_test, y_test) = cr.data.load_mnist(data_dir=args.data_dir, download=False)
    X = (X[:args.rows].reshape(args.rows, -1) / 255).astype(np.float32)
    y = y[:args.rows]
    X_test = (X_test.reshape(len(X_test), -1) / 255).astype(np.float32)
    common = dict(hidden_layer_sizes=tuple(args.hidden), solver="adam", alpha=1e-4, batch_size=200,
                  learning_rate_init=1e-3, max_iter=args.epochs, tol=0.0, n_iter_no_change=args.epochs + 1,
                  shuffle=True, random_state=0)
    results = {}
    for _ in range(args.repeats):  # alternate, so that both see the same machine load
        for name, make in (("scikit-learn", lambda: SkMLP(**common)),
                           ("chainrule", lambda: CrMLP(**common, dtype="float32"))):
            seconds, accuracy = fit_and_score(make(), X, y, X_test, y_test)
            best = results.get(name, (np.inf, None))[0]
            results[name] = (min(seconds, best), accuracy)
    print(f"MLPClassifier{tuple(args.hidden)}, adam, {args.rows:,} MNIST rows, {args.epochs} epochs, "
          f"best of {args.repeats}")
    print(f"{'':14}{'fit (s)':>9}{'test accuracy':>15}")
    for name, (seconds, accuracy) in results.items():
        print(f"{name:14}{seconds:9.2f}{accuracy:15.4f}")
    print(f"chainrule is {results['scikit-learn'][0] / results['chainrule'][0]:.2f}x as fast")


if __name__ == "__main__":
    main()
