"""Layers: each maps A_prev to A in forward and dA back to dA_prev in backward."""

from .activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
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


__all__ = ["Layer", "LAYERS", "ACTIVATIONS", "activation", *LAYERS]
