"""Preprocessing fitted on the training data only, and a stratified split."""

from __future__ import annotations

import numpy as np

from ..init import as_generator
from ..validation import check_fraction, check_one_of, check_positive


class Scaler:
    """x' = (x - offset_) / scale_ per feature, with offset_ and scale_ learnt by ``fit``.

    Fit on the training data only, then transform every split with the same
    numbers. Saved with a model (``model.preprocessor``) so that it takes raw
    inputs. Features that never vary are only shifted.
    """

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        offset, scale = self._statistics(X)
        self.offset_ = offset
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, X):
        if not hasattr(self, "offset_"):
            raise ValueError(f"{type(self).__name__}.transform called before fit; call fit(X_train) first")
        X = np.asarray(X)
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
        flat = X.reshape(len(X), -1)
        if flat.shape[1] != self.offset_.size:
            raise ValueError(f"{type(self).__name__} was fitted on {self.offset_.size} features; "
                             f"received {flat.shape[1]} (shape {X.shape})")
        out = (flat - self.offset_.astype(dtype)) / self.scale_.astype(dtype)
        return out.reshape(X.shape).astype(dtype, copy=False)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def state_arrays(self):
        return {"offset": self.offset_, "scale": self.scale_}

    def load_state_arrays(self, arrays):
        self.offset_, self.scale_ = np.asarray(arrays["offset"]), np.asarray(arrays["scale"])
        return self


class Standardizer(Scaler):
    """x' = (x - mean) / std per feature (zero mean, unit variance on the training data)."""

    def _statistics(self, X):
        return X.mean(axis=0), X.std(axis=0)


class MinMaxScaler(Scaler):
    """x' = (x - min) / (max - min) per feature (into [0, 1] on the training data)."""

    def _statistics(self, X):
        low = X.min(axis=0)
        return low, X.max(axis=0) - low


class ConstantScaler(Scaler):
    """x' = x / value for every feature: ``ConstantScaler(255)`` for 8-bit images."""

    def __init__(self, value=255.0):
        self.value = check_positive(value, "value", "ConstantScaler")

    def _statistics(self, X):
        return np.zeros(X.shape[1]), np.full(X.shape[1], self.value)


SCALERS = {"standardize": Standardizer, "minmax": MinMaxScaler, "divide255": ConstantScaler}
BY_CLASS_NAME = {cls.__name__: cls for cls in (Standardizer, MinMaxScaler, ConstantScaler)}


def one_hot(labels, num_classes=None, dtype=np.float32):
    """Integer labels (m,) to one-hot rows (m, num_classes)."""
    from ..functional import one_hot as _one_hot
    from ..losses import as_labels

    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if num_classes is None else num_classes
    return _one_hot(as_labels(labels, k, "one_hot"), k, dtype)


def flatten(X):
    """(m, d1, d2, ...) to (m, d1 d2 ...)."""
    X = np.asarray(X)
    return X.reshape(len(X), -1)


def train_test_split(X, y, test_size=0.2, stratify="auto", rng=None):
    """Split (X, y) into train and test parts: ``X_train, X_test, y_train, y_test``.

    With ``stratify=True`` each class keeps its share in both parts (its test
    count is its share of test_size, rounded); "auto" (the default) stratifies
    integer class labels (or one-hot rows) and not real-valued targets. ``rng``
    fixes the split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} samples but y has {len(y)}; they must have the same length")
    check_fraction(test_size, "test_size", "train_test_split", include_zero=False)
    check_one_of(stratify, "stratify", "train_test_split", ("auto", True, False))
    gen = as_generator(rng)
    if stratify == "auto":
        stratify = (y.ndim == 1 and y.dtype.kind in "iub") or (y.ndim == 2 and y.shape[1] > 1)
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
    if not len(test) or not len(train):
        raise ValueError(f"test_size={test_size} of {len(X)} rows leaves {len(train)} training and {len(test)} "
                         "test rows; both need at least one")
    train = gen.permutation(train)
    return X[train], X[test], y[train], y[test]
