"""Datasets: the bundled 8x8 digits and small generated problems."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from ..init import as_generator
from ..validation import check_int, check_non_negative, check_number, check_positive


def load_digits(dtype=np.float32):
    """The 1,797 8x8 handwritten digits that ship with chainrule (see DIGITS_LICENSE.txt).

    Returns X of shape (1797, 64) with pixel counts 0..16 in ``dtype``, and
    integer labels y of shape (1797,) in 0..9.
    """
    with resources.files(__package__).joinpath("digits.csv.gz").open("rb") as raw, gzip.open(raw, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(dtype), table[:, -1]


def _check_size(n, noise, owner, noise_name="noise"):
    check_int(n, "n", owner, low=1)
    check_non_negative(noise, noise_name, owner)


def make_xor(n=4, noise=0.0, rng=None, dtype=np.float32):
    """The XOR problem: label = x1 XOR x2.

    With n=4 and no noise these are the four corners (0,0), (0,1), (1,0), (1,1)
    with labels 0, 1, 1, 0. Larger n repeats the corners, with Gaussian
    ``noise`` added to the inputs.
    """
    _check_size(n, noise, "make_xor")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    labels = np.array([0, 1, 1, 0])
    idx = np.arange(n) % 4
    X = corners[idx]
    if noise:
        X = X + as_generator(rng).normal(0.0, noise, size=X.shape)
    return X.astype(dtype), labels[idx]


def make_spirals(n=300, arms=3, noise=0.2, turns=1.0, rng=None, dtype=np.float32):
    """``arms`` interleaved spirals in the plane, n points in all, labels 0..arms-1.

    Point t of arm k sits at radius r = t and angle 2 pi (turns t + k / arms),
    t in [0, 1], with Gaussian angle noise of ``noise`` radians.
    """
    _check_size(n, noise, "make_spirals")
    check_int(arms, "arms", "make_spirals", low=1)
    check_positive(turns, "turns", "make_spirals")
    gen = as_generator(rng)
    labels = np.arange(n) % arms
    t = gen.uniform(0.0, 1.0, n)
    angle = 2 * np.pi * (turns * t + labels / arms) + gen.normal(0.0, noise, n) * t
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return X.astype(dtype), labels


def make_moons(n=200, noise=0.1, rng=None, dtype=np.float32):
    """Two interleaving half circles (labels 0 and 1), with Gaussian noise."""
    _check_size(n, noise, "make_moons")
    gen = as_generator(rng)
    labels = np.arange(n) % 2
    angle = gen.uniform(0.0, np.pi, n)
    X = np.where(labels[:, None] == 0,
                 np.stack([np.cos(angle), np.sin(angle)], 1),
                 np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    return (X + gen.normal(0.0, noise, X.shape)).astype(dtype), labels


def make_circles(n=200, noise=0.05, factor=0.5, rng=None, dtype=np.float32):
    """Two concentric circles: the outer (label 0) of radius 1, the inner (label 1) of radius ``factor``."""
    _check_size(n, noise, "make_circles")
    check_number(factor, "factor", "make_circles", low=0, high=1, low_open=True, high_open=True)
    gen = as_generator(rng)
    labels = np.arange(n) % 2
    angle = gen.uniform(0.0, 2 * np.pi, n)
    radius = np.where(labels == 0, 1.0, factor)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return (X + gen.normal(0.0, noise, X.shape)).astype(dtype), labels


def make_blobs(n=300, centers=3, features=2, spread=1.0, rng=None, dtype=np.float32):
    """Gaussian blobs around ``centers`` random centres in [-10, 10]^features (label = blob)."""
    _check_size(n, spread, "make_blobs", noise_name="spread")
    check_int(centers, "centers", "make_blobs", low=1)
    check_int(features, "features", "make_blobs", low=1)
    gen = as_generator(rng)
    means = gen.uniform(-10.0, 10.0, (centers, features))
    labels = np.arange(n) % centers
    return (means[labels] + gen.normal(0.0, spread, (n, features))).astype(dtype), labels


def make_sine(n=200, noise=0.1, rng=None, dtype=np.float32):
    """1-D regression: y = sin(x) + noise for x uniform in [-pi, pi]; X (n, 1), y (n, 1)."""
    _check_size(n, noise, "make_sine")
    gen = as_generator(rng)
    x = gen.uniform(-np.pi, np.pi, (n, 1))
    return x.astype(dtype), (np.sin(x) + gen.normal(0.0, noise, x.shape)).astype(dtype)


#: the generated datasets by name (chainrule datasets, recipes' dataset = "...")
GENERATED = {"xor": make_xor, "spirals": make_spirals, "moons": make_moons, "circles": make_circles,
             "blobs": make_blobs, "sine": make_sine}
