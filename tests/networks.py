"""Random small networks shared by the tests that compare two ways of computing the same thing."""

import numpy as np

import chainrule as cr

ACTIVATIONS = {"tanh": cr.Tanh, "relu": cr.ReLU, "sigmoid": cr.Sigmoid, "identity": cr.Identity}


def random_network(seed, widths, activation, n_out, dtype="float64"):
    """Dense layers of the given widths with an activation between them, random (non-zero) biases."""
    sizes = [*widths, n_out]
    layers = []
    for i, (n_in, n_next) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(cr.Dense(n_in, n_next))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    model = cr.Sequential(layers, rng=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    for layer in model.layers:
        if isinstance(layer, cr.Dense):
            layer.b = rng.normal(size=layer.b.shape)
    return model
