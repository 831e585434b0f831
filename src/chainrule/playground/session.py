"""One playground session: a 2-D dataset, a small network and its optimizer, trained one
mini-batch at a time by chainrule itself, and the pictures of it as a frame of numbers.

A frame holds the network's output over a grid of the plane (the decision boundary), every
hidden neuron's output over the same grid, the weights, the train and test points and the loss
curves. The page only draws what a frame says.
"""

from __future__ import annotations

import base64
import threading
import time

import numpy as np

from ..data import make_blobs, make_circles, make_moons, make_spirals, make_xor, train_test_split
from ..layers import ACTIVATIONS, Dense, activation
from ..losses import BinaryCrossEntropy
from ..model import Sequential
from ..optim import OPTIMIZERS
from ..training.loop import train_step
from ..validation import check_int, check_number, check_one_of

#: the caps that keep one session small: a page can ask for no more than this
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 16
MAX_BATCH = 256
MAX_SAMPLES = 1000
GRID = 48           # the plane is drawn as GRID x GRID outputs
VIEW = 1.3          # ... over [-VIEW, VIEW]^2; the data are scaled into [-1, 1]^2
MAX_HISTORY = 400   # loss points sent with a frame

DATASETS = ("xor", "circles", "moons", "spirals", "blobs", "gaussian")
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name not in ("softmax", "linear"))
REGULARIZATIONS = ("none", "l1", "l2")

DEFAULTS = {"dataset": "circles", "noise": 0.2, "test_fraction": 0.3, "samples": 400, "hidden": [8, 8],
            "activation": "tanh", "lr": 0.03, "batch_size": 16, "optimizer": "adam",
            "regularization": "none", "reg_rate": 0.001, "seed": 0, "steps_per_frame": 5}


def _points(name, n, noise, gen):
    """The named dataset with two classes, noise in [0, 1] mapped to each generator's own scale."""
    if name == "xor":
        X, y = make_xor(n, noise=0.05 + 0.35 * noise, rng=gen, dtype=np.float64)
    elif name == "circles":
        X, y = make_circles(n, noise=0.02 + 0.2 * noise, rng=gen, dtype=np.float64)
    elif name == "moons":
        X, y = make_moons(n, noise=0.02 + 0.4 * noise, rng=gen, dtype=np.float64)
    elif name == "spirals":
        X, y = make_spirals(n, arms=2, noise=0.05 + 0.6 * noise, turns=0.75, rng=gen, dtype=np.float64)
    elif name == "blobs":  # four blobs, opposite corners alike
        X, y = make_blobs(n, centers=4, spread=0.8 + 3 * noise, rng=gen, dtype=np.float64)
        y = y % 2
    else:  # gaussian: two Gaussian clouds
        X, y = make_blobs(n, centers=2, spread=1 + 4 * noise, rng=gen, dtype=np.float64)
    X = X - (X.max(0) + X.min(0)) / 2
    return X / max(float(np.abs(X).max()), 1e-12), y


def parse_config(raw):
    """A session's settings from the page's JSON, the defaults filling what is missing.

    Every value is checked in the library's one wording; the caps above are enforced here.
    """
    if not isinstance(raw, dict):
        raise TypeError(f"playground: the settings must be a JSON object; received {type(raw).__name__}")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"playground: unknown setting {unknown[0]!r}; expected one of {sorted(DEFAULTS)}")
    c = {**DEFAULTS, **raw}
    owner = "playground"
    check_one_of(c["dataset"], "dataset", owner, DATASETS)
    check_number(c["noise"], "noise", owner, low=0, high=1)
    check_number(c["test_fraction"], "test_fraction", owner, low=0.1, high=0.9)
    check_int(c["samples"], "samples", owner, low=20, high=MAX_SAMPLES)
    if not isinstance(c["hidden"], list):
        raise TypeError(f"{owner}: hidden must be a list of layer widths; received {c['hidden']!r}")
    check_int(len(c["hidden"]), "the number of hidden layers", owner, low=0, high=MAX_HIDDEN_LAYERS)
    for width in c["hidden"]:
        check_int(width, "a hidden layer's width", owner, low=1, high=MAX_WIDTH)
    check_one_of(c["activation"], "activation", owner, HIDDEN_ACTIVATIONS)
    check_number(c["lr"], "lr", owner, low=0, high=10, low_open=True)
    check_int(c["batch_size"], "batch_size", owner, low=1, high=MAX_BATCH)
    check_one_of(c["optimizer"], "optimizer", owner, tuple(OPTIMIZERS))
    check_one_of(c["regularization"], "regularization", owner, REGULARIZATIONS)
    check_number(c["reg_rate"], "reg_rate", owner, low=0, high=1)
    check_int(c["seed"], "seed", owner, low=0, high=2**31 - 1)
    check_int(c["steps_per_frame"], "steps_per_frame", owner, low=1, high=50)
    return c


def _bytes(values, low, high):
    """values mapped linearly from [low, high] to 0..255, base64: a compact picture for the page."""
    scaled = np.clip((values - low) / (high - low or 1.0), 0, 1) * 255
    return base64.b64encode(np.round(scaled).astype(np.uint8).tobytes()).decode("ascii")


class Session:
    """The state of one page: settings, data, model, optimizer, position in the epoch, loss history."""

    def __init__(self, config):
        self.config = parse_config(config)
        self.lock = threading.Lock()  # the stream and the buttons may act on the session at once
        self.playing = False
        self.last_seen = time.monotonic()
        self.reset()

    def reset(self):
        c = self.config
        gen = np.random.default_rng(c["seed"])
        X, y = _points(c["dataset"], c["samples"], c["noise"], gen)
        self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
            X, y, test_size=c["test_fraction"], rng=gen)
        l1 = c["reg_rate"] if c["regularization"] == "l1" else 0.0
        l2 = c["reg_rate"] if c["regularization"] == "l2" else 0.0
        widths = [2, *c["hidden"], 1]
        layers = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(Dense(n_in, n_out, init="glorot_uniform", l1=l1, l2=l2))
            if i < len(widths) - 2:
                layers.append(activation(c["activation"]))
        self.model = Sequential(layers, rng=c["seed"], dtype="float64")
        self.loss = BinaryCrossEntropy()  # one raw output, sigmoid inside the loss: class 1's probability
        self.model.compile(self.loss)
        self.optimizer = OPTIMIZERS[c["optimizer"]](lr=c["lr"])
        self.Y_train = self.loss.targets(self.y_train, (len(self.y_train), 1), np.float64)
        self.order, self.cursor, self.epoch, self.step_count = None, 0, 0, 0
        self.batch = np.arange(min(c["batch_size"], len(self.X_train)))  # the batch the next step takes
        self.history = {"step": [], "train": [], "test": []}
        self.playing = False
        self._record()

    # -- training, through chainrule's own step ---------------------------------------------

    def _next_batch(self):
        """The rows of the next mini-batch, in a new random order each epoch (the model's rng)."""
        m, b = len(self.X_train), self.config["batch_size"]
        if self.order is None or self.cursor >= m:
            if self.order is not None:
                self.epoch += 1
            self.order, self.cursor = self.model.rng_.permutation(m), 0
        rows = self.order[self.cursor:self.cursor + b]
        self.cursor += len(rows)
        return rows

    def step(self, steps=1):
        """``steps`` gradient steps (W[l] := W[l] - alpha dW[l], or the chosen optimizer's rule)."""
        for _ in range(steps):
            self.batch = self._next_batch()
            out, value = train_step(self.model, self.X_train[self.batch], self.Y_train[self.batch],
                                    self.loss, self.optimizer)
            self.step_count += 1
            if not np.isfinite(value) or not np.all(np.isfinite(self.model.params_)):
                self._diverged(value)
        with np.errstate(over="ignore", invalid="ignore"):  # huge but finite weights overflow here
            self._record()
        if not np.isfinite(self.history["train"][-1]):
            self._diverged(self.history["train"][-1])

    def _diverged(self, value):
        self.playing = False
        raise FloatingPointError(f"the loss became {value} at step {self.step_count}: the learning rate "
                                 f"(lr={self.config['lr']:g}) is too high; lower it and press reset")

    def _loss(self, X, y):
        return float(self.model.evaluate(X, y)["loss"])

    def _record(self):
        h = self.history
        h["step"].append(self.step_count)
        h["train"].append(self._loss(self.X_train, self.y_train))
        h["test"].append(self._loss(self.X_test, self.y_test))
        if len(h["step"]) > 2 * MAX_HISTORY:  # keep every other old point: the curve's shape stays
            for key in h:
                h[key] = h[key][::2]

    # -- the frame the page draws -------------------------------------------------------------

    def grid(self):
        axis = np.linspace(-VIEW, VIEW, GRID)
        xx, yy = np.meshgrid(axis, -axis)  # the first row is the top of the picture
        return np.stack([xx.ravel(), yy.ravel()], axis=1)

    def frame(self, points=True):
        """Everything the page draws, as JSON-able values (the data points only if ``points``:
        they change only on reset)."""
        P = self.grid()
        neurons = []
        A = P
        for layer in self.model.layers:
            A = layer.forward(A)
            if layer is not self.model.layers[-1] and not isinstance(layer, Dense):
                for column in A.T:  # a hidden neuron's output, scaled by its largest size over the plane
                    top = float(np.abs(column).max()) or 1.0
                    neurons.append(_bytes(column, -top, top))
        probability = 1 / (1 + np.exp(-np.clip(A[:, 0], -50, 50)))
        weights = [{"W": np.round(d.W, 4).tolist(), "b": np.round(d.b, 4).tolist()}
                   for d in self.model.layers if isinstance(d, Dense)]
        h = self.history
        frame = {
            "step": self.step_count, "epoch": self.epoch, "playing": self.playing,
            "widths": [2, *self.config["hidden"], 1], "config": self.config,
            "grid": GRID, "view": VIEW, "boundary": _bytes(probability, 0, 1), "neurons": neurons,
            "weights": weights,
            "loss": {"train": h["train"][-1], "test": h["test"][-1]},
            "history": {key: values[-MAX_HISTORY:] for key, values in h.items()},
            "batch": self.batch.tolist(),
        }
        if points:
            frame["train"] = {"x": np.round(self.X_train, 4).tolist(), "y": self.y_train.tolist()}
            frame["test"] = {"x": np.round(self.X_test, 4).tolist(), "y": self.y_test.tolist()}
        return frame

    def explain(self):
        """The trace of one forward and backward pass on the batch the next step takes (at most
        16 rows: explain's limit), with the current weights."""
        rows = self.batch[:16]
        return self.model.explain(self.X_train[rows], self.y_train[rows].reshape(-1, 1), loss=self.loss,
                                  lr=self.config["lr"], show=False), len(rows), len(self.batch)
