"""chainrule.sklearn.MLPClassifier beside scikit-learn's own, same sizes, solver and epochs.

    python benchmarks/sklearn_compare.py --data-dir path/to/mnist [--rows 20000] [--epochs 20]
                                         [--hidden 128] [--rounds 5]

Both fit the same rows (pixels / 255, float32, which both keep: their weights are float32) with
Adam, lr 1e-3, batches of 200, L2 alpha 1e-4, shuffled, for exactly ``--epochs`` epochs (tol=0
and n_iter_no_change above the epochs, so neither stops early). The fits alternate, one of each
per round, so that both see the same machine load; each round's ratio is printed, then the
median time, the median ratio and the accuracy on the 10,000 test images.
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
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds, one fit of each (default 5)")
    args = parser.parse_args(argv)

    (X, y), (X_test, y_test) = cr.data.load_mnist(data_dir=args.data_dir, download=False)
    X = (X[:args.rows].reshape(args.rows, -1) / 255).astype(np.float32)
    y = y[:args.rows]
    X_test = (X_test.reshape(len(X_test), -1) / 255).astype(np.float32)
    common = dict(hidden_layer_sizes=tuple(args.hidden), solver="adam", alpha=1e-4, batch_size=200,
                  learning_rate_init=1e-3, max_iter=args.epochs, tol=0.0, n_iter_no_change=args.epochs + 1,
                  shuffle=True, random_state=0)
    makers = {"scikit-learn": lambda: SkMLP(**common), "chainrule": lambda: CrMLP(**common, dtype="float32")}
    results = {name: [] for name in makers}  # (seconds, accuracy) of each round
    print(f"MLPClassifier{tuple(args.hidden)}, adam, {args.rows:,} MNIST rows, {args.epochs} epochs, float32, "
          f"{args.rounds} rounds")
    for r in range(args.rounds):
        for name, make in makers.items():
            results[name].append(fit_and_score(make(), X, y, X_test, y_test))
        (sk, sk_acc), (cr_s, cr_acc) = results["scikit-learn"][-1], results["chainrule"][-1]
        print(f"round {r + 1}: scikit-learn {sk:.2f} s ({sk_acc:.4f}), chainrule {cr_s:.2f} s ({cr_acc:.4f}), "
              f"ratio {sk / cr_s:.2f}", flush=True)
    print(f"{'median':14}{'fit (s)':>9}{'test accuracy':>15}")
    for name, rounds in results.items():
        print(f"{name:14}{np.median([s for s, _ in rounds]):9.2f}{np.median([a for _, a in rounds]):15.4f}")
    ratios = [sk / c for (sk, _), (c, _) in zip(results["scikit-learn"], results["chainrule"])]
    print(f"chainrule is {np.median(ratios):.2f}x as fast (median of the rounds' ratios; "
          f"range {min(ratios):.2f} to {max(ratios):.2f})")


if __name__ == "__main__":
    main()
