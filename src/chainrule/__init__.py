"""chainrule: a neural network from scratch in NumPy, where the code reads like the math.

    import chainrule as cr
    model = cr.Sequential([cr.Dense(64, 32), cr.ReLU(), cr.Dense(32, 10)], rng=0)
    history = model.fit(X, y, loss="cross_entropy", optimizer=cr.optim.Adam(1e-3), epochs=10)
"""

__version__ = "0.1.0"

from . import data, functional, init, losses, optim, schedules
from . import autograd, reference
from .gradcheck import gradcheck, gradient_report
from .io.serialize import ModelFileError, load_model as load
from .layers import ELU, GELU, BatchNorm, Dense, Dropout, Flatten, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .model import Sequential
from .perceptron import Perceptron, SigmoidNeuron
from . import metrics
from .training import callbacks
from .training.loop import TrainingDiverged

__all__ = [
    "Sequential", "Layer", "Dense", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU",
    "Softmax", "Dropout", "Flatten", "BatchNorm", "losses", "optim", "schedules", "callbacks", "metrics",
    "functional", "init", "data", "gradcheck", "gradient_report", "load", "ModelFileError", "TrainingDiverged",
    "Perceptron", "SigmoidNeuron", "autograd", "reference",
]
