"""Input checks shared by the model and the training loop.

Each check raises an error that says what was expected and what was received.
"""

from __future__ import annotations

import math

import numpy as np


def is_whole(value, low=1):
    """Whether value is an integer (Python or NumPy; not True or False) of at least ``low``."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= low


def is_positive_number(value):
    """Whether value is a finite real number > 0 (Python or NumPy; not True or False)."""
    return (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
            and value > 0 and math.isfinite(value))


def check_X(X, model):
    """X as an array of numbers, (m, n_features) or images that a Flatten layer takes."""
    from .layers import Flatten

    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers; received dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"X must be 2-D (m samples, n features); received shape {X.shape}. "
                         "For one sample use X.reshape(1, -1)")
    if X.shape[0] == 0:
        raise ValueError(f"X is empty: received shape {X.shape}")
    for i, layer in enumerate(model.layers):
        need = layer.input_size()
        if need is None:
            continue
        flattened = any(isinstance(l, Flatten) for l in model.layers[:i])
        if X.ndim > 2 and not flattened:
            raise ValueError(f"X must be 2-D (m, {need}); received shape {X.shape}. "
                             "Add a Flatten() layer first for images")
        features = math.prod(X.shape[1:])
        if features != need:
            raise ValueError(f"X has {features} features per sample (shape {X.shape}) but layer {i} "
                             f"({type(layer).__name__}) expects {need}")
        break
    return X


def check_finite(X, name="X"):
    """Refuse NaN and inf: they would silently turn every number after them into NaN."""
    if X.dtype.kind != "f":
        return X
    # one fast pass first: any NaN or inf makes the sum NaN or inf (so can huge finite values,
    # by overflow; then the elementwise check decides)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(X, axis=None)
    if not np.isfinite(total):
        bad = ~np.isfinite(X)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(f"{name} contains {int(bad.sum())} NaN or inf values (the first in row {row}); "
                             "remove or impute them first")
    return X


def check_features(y, m, name="y"):
    """y must have one entry (or row) per sample of X."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != m:
        shape = y.shape
        raise ValueError(f"X has {m} samples but {name} has {shape[0] if shape else 'no'} "
                         f"(shape {shape}); they must have the same length")
    return y
