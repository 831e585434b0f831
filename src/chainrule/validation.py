"""Argument and array checks, in one wording for the whole library.

Every check raises an error of the form::

    Owner: name must be <what was expected>; received <what arrived>

``ValueError`` for a value of the right kind that is out of range (a
negative size, NaN, infinity), ``TypeError`` for a value of the wrong kind (a
string or a bool where a number is meant). This module knows nothing of
layers or models: they call these checks with their own names.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _fail(owner, name, expected, value, error=ValueError):
    raise error(f"{owner}: {name} must be {expected}; received {value!r}")


def is_whole(value, low=1):
    """Whether value is an integer (Python or NumPy; not True or False) of at least ``low``."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= low


def is_positive_number(value):
    """Whether value is a finite real number > 0 (Python or NumPy; not True or False)."""
    return _is_real(value) and math.isfinite(value) and value > 0


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(value, name, owner, low=None, high=None):
    """An integer (not a bool) in [low, high]; returned as a Python int."""
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))):
        _fail(owner, name, _int_range(low, high), value, TypeError)
    if (low is not None and value < low) or (high is not None and value > high):
        _fail(owner, name, _int_range(low, high), value)
    return int(value)


def _int_range(low, high):
    if low is not None and high is not None:
        return f"an integer from {low} to {high}"
    if low is not None:
        return f"an integer >= {low}"
    if high is not None:
        return f"an integer <= {high}"
    return "an integer"


def check_number(value, name, owner, low=None, high=None, low_open=False, high_open=False, finite=True):
    """A real number (not a bool) in the interval given; returned as a Python float.

    ``low_open``/``high_open`` exclude the end points; NaN is always refused, and
    infinity too unless ``finite=False``.
    """
    expected = _interval(low, high, low_open, high_open, finite)
    if not _is_real(value):
        _fail(owner, name, expected, value, TypeError)
    number = float(value)
    if math.isnan(number) or (finite and math.isinf(number)):
        _fail(owner, name, expected, value)
    if low is not None and (number <= low if low_open else number < low):
        _fail(owner, name, expected, value)
    if high is not None and (number >= high if high_open else number > high):
        _fail(owner, name, expected, value)
    return number


def _interval(low, high, low_open, high_open, finite):
    kind = "a finite number" if finite else "a number"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def check_positive(value, name, owner):
    """A finite number > 0 (a learning rate, an epsilon, a Huber delta)."""
    return check_number(value, name, owner, low=0, low_open=True)


def check_non_negative(value, name, owner):
    """A finite number >= 0 (a penalty, a weight decay)."""
    return check_number(value, name, owner, low=0)


def check_fraction(value, name, owner, include_zero=True, include_one=False):
    """A number in [0, 1) by default (a dropout probability, a validation share)."""
    return check_number(value, name, owner, low=0, high=1, low_open=not include_zero, high_open=not include_one)


def check_bool(value, name, owner):
    if not isinstance(value, (bool, np.bool_)):
        _fail(owner, name, "True or False", value, TypeError)
    return bool(value)


def check_one_of(value, name, owner, options):
    """One of ``options`` (names, usually); the error lists them."""
    try:
        known = value in options
    except TypeError:  # an unhashable value for a dict of options
        known = False
    if not known:
        _fail(owner, name, f"one of {list(options)}", value)
    return value


# -- arrays ------------------------------------------------------------------------


def check_array(X, name="X", owner=None, min_ndim=2):
    """X as a non-empty NumPy array of numbers with at least ``min_ndim`` dimensions."""
    prefix = f"{owner}: " if owner else ""
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{prefix}{name} must hold numbers; received dtype {X.dtype}")
    if X.ndim < min_ndim:
        hint = ". For one sample use X.reshape(1, -1)" if min_ndim == 2 else ""
        raise ValueError(f"{prefix}{name} must be {min_ndim}-D (m samples, n features); received shape {X.shape}{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{prefix}{name} is empty: received shape {X.shape}")
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
