"""Preprocessing fitted on the training data only, and a stratified split."""

from __future__ import annotations

import numpy as np

from ..init import as_generator


class Standardizer:
    """x' = (x - mean) / std, per feature, with mean and std learnt by ``fit`` on training data.

    Features that never vary (std 0) are centred only.
    """

    def fit(self, X):
        X = np.asarray(X)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1).astype(self.mean_.dtype)
        return self

    def transform(self, X):
        if not hasattr(self, "mean_"):
            raise ValueError("Standardizer.transform called before fit; call fit(X_train) first")
        X = np.asarray(X)
        return ((X - self.mean_) / self.scale_).astype(X.dtype if X.dtype.kind == "f" else np.float32)

    def fit_transform(self, X):
        return self.fit(X).transform(X)


def train_test_split(X, y, test_size=0.2, stratify=True, rng=None):
    """Split (X, y) into train and test parts: ``X_train, X_test, y_train, y_test``.

    With ``stratify=True`` each class keeps its share in both parts (its test
    count is its share of test_size, rounded). ``rng`` fixes the split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1); received {test_size!r}")
    gen = as_generator(rng)
    if stratify:
        labels = y if y.ndim == 1 else np.argmax(y, axis=1)
        test = []
        for c in np.unique(labels):
            members = gen.permutation(np.flatnonzero(labels == c))
            test.append(members[:int(round(len(members) * test_size))])
        test = np.sort(np.concatenate(test))
    else:
        test = np.sort(gen.permutation(len(X))[:int(round(len(X) * test_size))])
    train = np.setdiff1d(np.arange(len(X)), test)
    train = gen.permutation(train)
    return X[train], X[test], y[train], y[test]
