"""The benchmark's data: MNIST if it is on this machine (never downloaded), else synthetic data of its shape."""

from __future__ import annotations

import numpy as np


def load_data(data_dir=None, samples=20000, test=False, seed=0, features=784, classes=10):
    """Training rows (and the test set if ``test``): MNIST pixels/255 as float32, labels as int64.

    MNIST is looked for in ``data_dir``, then ``CHAINRULE_DATA``, then the
    cache; it is never downloaded. Without it: synthetic random data of the
    same shape (uniform pixels, every class present), and ``"synthetic"``
    is True. ``samples=None`` takes every training row.
    """
    from ..data.idx import DataFileError
    from ..data.mnist import find_file, load_mnist

    try:
        (X_tr, y_tr), (X_te, y_te) = load_mnist(data_dir=data_dir, download=False)
        folder = find_file("mnist", "train-images-idx3-ubyte", data_dir).parent
        n = len(X_tr) if samples is None else min(int(samples), len(X_tr))
        out = {"source": f"MNIST from {folder}", "synthetic": False, "requested": samples,
               "X": _pixels(X_tr[:n]), "y": y_tr[:n].astype(np.int64)}  # slice before converting: less memory
        del X_tr
        if test:
            out["X_test"], out["y_test"] = _pixels(X_te), y_te.astype(np.int64)
        return out
    except (DataFileError, OSError, ValueError) as exc:
        reason = str(exc).split(";")[0]
    n = 20000 if samples is None else int(samples)
    rng = np.random.default_rng(seed)
    out = {"source": f"synthetic random data (MNIST unavailable: {reason})", "synthetic": True,
           "requested": samples, "X": rng.random((n, features), dtype=np.float32),
           "y": rng.permutation(np.arange(n) % classes).astype(np.int64)}
    if test:
        n_test = max(classes, min(10000, n // 5))
        out["X_test"] = rng.random((n_test, features), dtype=np.float32)
        out["y_test"] = rng.permutation(np.arange(n_test) % classes).astype(np.int64)
    return out


def _pixels(images):
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return X
