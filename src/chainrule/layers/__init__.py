"""Layers: each maps A_prev to A in forward and dA back to dA_prev in backward."""

from .activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .base import Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten

#: every layer class by name, used to rebuild a saved model
LAYERS = {cls.__name__: cls for cls in (
    Dense, Identity, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Softmax, Dropout, Flatten, BatchNorm,
)}

#: activation names accepted where a string names an activation
ACTIVATIONS = {
    "identity": Identity, "linear": Identity, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
    "leaky_relu": LeakyReLU, "elu": ELU, "gelu": GELU, "softmax": Softmax,
}


def activation(name):
    """An activation layer by name: activation("relu") -> ReLU()."""
    key = str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[key]()


def layer_numbers(layers):
    """The tutorial's number l of each layer in a list: the l-th Dense layer and the layers that
    follow it up to the next Dense (its activation, BatchNorm, Dropout) make up layer l; layers
    before the first Dense are layer 0. [Dense, ReLU, Dense, Softmax] -> [1, 1, 2, 2]."""
    numbers, l = [], 0
    for layer in layers:
        l += isinstance(layer, Dense)
        numbers.append(l)
    return numbers


__all__ = ["Layer", "Activation", "LAYERS", "ACTIVATIONS", "activation", "layer_numbers", *LAYERS]
