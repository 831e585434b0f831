"""Gradient checking: compare backprop's gradients with central differences.

For each parameter entry theta_i::

    numeric_i = (C(theta_i + h) - C(theta_i - h)) / (2 h)

and the relative error of a whole array is ||analytic - numeric|| /
(||analytic|| + ||numeric||), the denominator floored at 1e7 times the
resolution of central differences (see gradient_report). In float64 with h = 1e-6, a correct backward
gives errors around 1e-9 or smaller; a wrong one gives errors near 1.
"""

from __future__ import annotations

import numpy as np

from . import losses as losses_module


def relative_error(analytic, numeric, floor=0.0):
    """||a - n|| / max(||a|| + ||n||, floor), and 0 when both are exactly zero."""
    num = np.linalg.norm(np.ravel(analytic) - np.ravel(numeric))
    den = max(np.linalg.norm(np.ravel(analytic)) + np.linalg.norm(np.ravel(numeric)), floor)
    return 0.0 if den == 0 else float(num / den)


def numeric_gradient(f, x, h=1e-6):
    """Central differences of the scalar function f() with respect to the array x, changed in place."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def gradient_report(model, X, y, loss, h=1e-6, training=False):
    """Relative error of every parameter's gradient and of dC/dX, named as the tutorial names
    them: {"W[1]": 3e-11, "b[1]": ..., "X": ...}.

    The model must be float64 (use ``model.copy("float64")``). Randomness
    (dropout masks) is replayed identically for every evaluation, and the
    layers' state (BatchNorm running statistics) is restored afterwards.
    """
    if model.dtype != np.float64:
        raise ValueError(f"gradient checks need a float64 model; this one is {model.dtype}. "
                         "Use model.copy('float64')")
    loss = losses_module.get(loss)
    X = np.array(X, dtype=np.float64)
    rngs = [layer.rng for layer in model.layers if hasattr(layer, "rng")]
    rng_states = [r.bit_generator.state for r in rngs]
    saved_state = {k: v.copy() for k, v in model.state_arrays().items()}

    def cost():
        for r, s in zip(rngs, rng_states):
            r.bit_generator.state = s
        return loss.forward(model.forward(X, training=training), y) + model.penalty()

    # Central differences resolve each entry only to about eps |C| / h. A gradient that is zero in
    # theory (a Dense bias just before a training-mode BatchNorm) is rounding noise on both sides,
    # which the plain relative error reports near 1; flooring the denominator at 1e7 times that
    # resolution reports such noise near 1e-7, while an error 10 times the resolution still fails 1e-6.
    try:
        resolution = np.finfo(np.float64).eps * max(abs(cost()), 1.0) / h
        dX = model.backward(loss.backward())
        report = {}
        for label, layer, name in model.parameter_names():
            grad = getattr(layer, "d" + name).copy()
            numeric = numeric_gradient(cost, getattr(layer, name), h)
            report[label] = relative_error(grad, numeric, 1e7 * resolution * np.sqrt(grad.size))
        report["X"] = relative_error(dX, numeric_gradient(cost, X, h), 1e7 * resolution * np.sqrt(X.size))
    finally:  # the model leaves as it came: its state and its random generators
        model.load_state_arrays(saved_state)
        for r, s in zip(rngs, rng_states):
            r.bit_generator.state = s
    return report


def gradcheck(model, X, y, loss, h=1e-6, training=False):
    """The largest relative error over every gradient of the model (see gradient_report).

    A float32 model is checked through a float64 copy.
    """
    if model.dtype != np.float64:
        model = model.copy("float64")
    return max(gradient_report(model, X, y, loss, h, training).values())
