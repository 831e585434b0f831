"""Datasets: the bundled 8x8 digits and small generated problems."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from ..init import as_generator


def load_digits(dtype=np.float32):
    """The 1,797 8x8 handwritten digits that ship with chainrule (see DIGITS_LICENSE.txt).

    Returns X of shape (1797, 64) with pixel counts 0..16 in ``dtype``, and
    integer labels y of shape (1797,) in 0..9.
    """
    with resources.files(__package__).joinpath("digits.csv.gz").open("rb") as raw, gzip.open(raw, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(dtype), table[:, -1]


def make_xor(n=4, noise=0.0, rng=None, dtype=np.float32):
    """The XOR problem: label = x1 XOR x2.

    With n=4 and no noise these are the four corners (0,0), (0,1), (1,0), (1,1)
    with labels 0, 1, 1, 0. Larger n repeats the corners, with Gaussian
    ``noise`` added to the inputs.
    """
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    labels = np.array([0, 1, 1, 0])
    idx = np.arange(n) % 4
    X = corners[idx]
    if noise:
        X = X + as_generator(rng).normal(0.0, noise, size=X.shape)
    return X.astype(dtype), labels[idx]
