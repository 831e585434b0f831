"""Weight initializers.

Each initializer is a function ``init(shape, rng, dtype) -> array`` for a weight
matrix of shape ``(fan_in, fan_out)``: Dense keeps W as ``(n_in, n_out)`` so that
``Z = A_prev @ W + b``. The random ones take the Generator they draw from, so
the same seed always gives the same weights.

| name             | draws from                                 | suits                 |
|------------------|--------------------------------------------|-----------------------|
| zeros, ones      | the constant                               | biases                |
| normal           | N(0, 0.01^2)                               | tiny demos            |
| uniform          | U(-0.05, 0.05)                             | tiny demos            |
| glorot_uniform   | U(-a, a), a = sqrt(6 / (fan_in + fan_out)) | tanh, sigmoid         |
| glorot_normal    | N(0, 2 / (fan_in + fan_out))               | tanh, sigmoid         |
| he_uniform       | U(-a, a), a = sqrt(6 / fan_in)             | ReLU family (default) |
| he_normal        | N(0, 2 / fan_in)                           | ReLU family           |
| lecun_uniform    | U(-a, a), a = sqrt(3 / fan_in)             | SELU, linear          |
| lecun_normal     | N(0, 1 / fan_in)                           | SELU, linear          |

``xavier_*`` and ``kaiming_*`` are the same as ``glorot_*`` and ``he_*``.
"""

from __future__ import annotations

import math

import numpy as np


def as_generator(rng) -> np.random.Generator:
    """Accept a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None; received {type(rng).__name__}: {rng!r}")


def _fans(shape):
    fan_in = shape[0] if len(shape) >= 1 else 1
    fan_out = shape[1] if len(shape) >= 2 else fan_in
    return fan_in, fan_out


def zeros(shape, rng=None, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype=np.float32):
    return np.ones(shape, dtype=dtype)


def constant(value):
    """constant(0.1) is an initializer that fills with 0.1."""

    def init(shape, rng=None, dtype=np.float32):
        return np.full(shape, value, dtype=dtype)

    init.__name__ = f"constant({value})"
    return init


def _uniform(limit, shape, rng, dtype):
    return as_generator(rng).uniform(-limit, limit, size=shape).astype(dtype)


def _normal(std, shape, rng, dtype):
    return (as_generator(rng).standard_normal(size=shape) * std).astype(dtype)


def normal(shape, rng=None, dtype=np.float32):
    return _normal(0.01, shape, rng, dtype)


def uniform(shape, rng=None, dtype=np.float32):
    return _uniform(0.05, shape, rng, dtype)


def glorot_uniform(shape, rng=None, dtype=np.float32):
    fan_in, fan_out = _fans(shape)
    return _uniform(math.sqrt(6.0 / (fan_in + fan_out)), shape, rng, dtype)


def glorot_normal(shape, rng=None, dtype=np.float32):
    fan_in, fan_out = _fans(shape)
    return _normal(math.sqrt(2.0 / (fan_in + fan_out)), shape, rng, dtype)


def he_uniform(shape, rng=None, dtype=np.float32):
    return _uniform(math.sqrt(6.0 / _fans(shape)[0]), shape, rng, dtype)


def he_normal(shape, rng=None, dtype=np.float32):
    return _normal(math.sqrt(2.0 / _fans(shape)[0]), shape, rng, dtype)


def lecun_uniform(shape, rng=None, dtype=np.float32):
    return _uniform(math.sqrt(3.0 / _fans(shape)[0]), shape, rng, dtype)


def lecun_normal(shape, rng=None, dtype=np.float32):
    return _normal(math.sqrt(1.0 / _fans(shape)[0]), shape, rng, dtype)


INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
    "normal": normal,
    "uniform": uniform,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
}


def get(name):
    """Look an initializer up by name; a callable is returned as it is."""
    if callable(name):
        return name
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[name]
