"""The digit pad: a drawing turned into the input a digit model was trained on, and the model.

MNIST's recipe (LeCun et al.): the digit's bounding box is scaled, keeping its aspect ratio, to
fit a 20x20 box, then placed in a 28x28 image so that its centre of mass is the image's centre;
white strokes on black, pixels 0..255. The bundled 8x8 digits were made another way (a 32x32
bitmap, its 4x4 blocks counted, 0..16): for a model that reads them the box is scaled into
32x32 instead and its blocks averaged.
"""

from __future__ import annotations

import threading

import numpy as np

from ..data import load_digits, load_mnist
from ..data.idx import DataFileError
from ..data.preprocessing import ConstantScaler
from ..layers import Dense, ReLU
from ..model import Sequential
from ..training.callbacks import Callback

MAX_SIDE = 400  # the largest drawing the server takes, in pixels a side


def area_weights(n_in, n_out):
    """The (n_out, n_in) matrix that resizes a line of n_in pixels to n_out by area averaging:
    output pixel i is the mean of the input over [i, i+1) * n_in / n_out."""
    edges = np.linspace(0, n_in, n_out + 1)
    left, right = edges[:-1, None], edges[1:, None]
    start, stop = np.arange(n_in)[None, :], np.arange(n_in)[None, :] + 1
    overlap = np.clip(np.minimum(right, stop) - np.maximum(left, start), 0, None)
    return overlap / (n_in / n_out)


def resize(image, height, width):
    """``image`` resized to (height, width) by area averaging (a box filter, no aliasing)."""
    return area_weights(image.shape[0], height) @ image @ area_weights(image.shape[1], width).T


def fit_box(image, box):
    """The drawing's bounding box scaled, aspect kept, so its longer side is ``box`` pixels."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = box / max(crop.shape)
    return resize(crop, max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))


def mnist_style(image):
    """A drawing (h, w) of intensities 0..1, white on black, as a 28x28 MNIST input 0..255:
    the bounding box into 20x20, centred by its centre of mass. An empty drawing gives zeros."""
    out = np.zeros((28, 28))
    if not np.any(image > 0):
        return out
    digit = fit_box(image, 20)
    h, w = digit.shape
    rows, cols = np.indices(digit.shape)
    total = digit.sum()
    cy, cx = (rows * digit).sum() / total, (cols * digit).sum() / total
    top = int(np.clip(round(14 - cy - 0.5), 0, 28 - h))  # pixel centres: the mass sits at 14 - 0.5
    left = int(np.clip(round(14 - cx - 0.5), 0, 28 - w))
    out[top:top + h, left:left + w] = digit
    return np.clip(out, 0, 1) * 255


def digits_style(image):
    """A drawing as an 8x8 input of the bundled digits (0..16): the box into 32x32, centred,
    then each 4x4 block averaged."""
    canvas = np.zeros((32, 32))
    if np.any(image > 0):
        digit = fit_box(image, 28)
        h, w = digit.shape
        canvas[(32 - h) // 2:(32 - h) // 2 + h, (32 - w) // 2:(32 - w) // 2 + w] = digit
    return np.clip(resize(canvas, 8, 8), 0, 1) * 16


def decode_drawing(width, height, pixels):
    """The page's drawing: ``pixels`` the bytes of a (height, width) grey image, 0..255."""
    data = np.frombuffer(pixels, dtype=np.uint8)
    if data.size != width * height:
        raise ValueError(f"playground: the drawing has {data.size} pixels but width x height is "
                         f"{width} x {height} = {width * height}")
    return data.reshape(height, width).astype(np.float64) / 255


def small_digits_model(seed=0):
    """A 64-32-10 network trained on the bundled 8x8 digits (about a second): the fall-back."""
    X, y = load_digits()
    model = Sequential([Dense(64, 32), ReLU(), Dense(32, 10)], rng=seed)
    model.preprocessor = ConstantScaler(16.0).fit(X)
    model.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=30, batch_size=64, verbose=0)
    return model


class _Progress(Callback):
    def __init__(self, owner):
        self.owner = owner

    def on_batch_end(self, step, logs=None):
        self.owner.done += 1
        if self.owner.stopping.is_set():
            raise _Stopped


class _Stopped(Exception):
    pass


class DigitModel:
    """The model behind the digit pad and where it came from: a given run, one being trained on
    MNIST in the background, or (until then, or without MNIST) the bundled 8x8 digits."""

    def __init__(self, model=None, source=None, data_dir=None, train_mnist=True):
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.done, self.total, self.training, self.error = 0, 0, False, None
        self.thread = None
        if model is not None:
            self.model, self.source = model, source or "the given model"
            return
        self.model, self.source = small_digits_model(), "the bundled 8x8 digits (a 64-32-10 network)"
        if train_mnist:
            try:
                load_mnist(data_dir=data_dir, download=False)  # only to know the files are there
            except (DataFileError, OSError):
                self.source += "; no MNIST files were found, so it reads your digit at 8x8"
                return
            self.training = True
            self.thread = threading.Thread(target=self._train_mnist, args=(data_dir,), daemon=True,
                                           name="chainrule-playground-mnist")
            self.thread.start()

    def _train_mnist(self, data_dir, epochs=2, batch_size=128):
        try:
            (X, y), _ = load_mnist(data_dir=data_dir, download=False)
            X = X.reshape(len(X), -1).astype(np.float32)
            model = Sequential([Dense(784, 128), ReLU(), Dense(128, 10)], rng=0)
            model.preprocessor = ConstantScaler(255.0).fit(X)
            self.total = epochs * -(-len(X) // batch_size)
            model.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=epochs, batch_size=batch_size,
                      verbose=0, callbacks=[_Progress(self)])
            with self.lock:
                self.model, self.source = model, "a 784-128-10 network trained on MNIST here, just now"
        except _Stopped:
            pass
        except Exception as err:  # the pad keeps the 8x8 model; the page says why
            self.error = f"training on MNIST failed: {err}"
        finally:
            self.training = False

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def status(self):
        n = self.model.n_inputs
        return {"source": self.source, "side": 28 if n == 784 else 8, "training": self.training,
                "progress": self.done / self.total if self.total else 0.0, "error": self.error}

    def predict(self, drawing):
        """Ten probabilities for a drawing and the input the model saw (side x side, 0..1)."""
        with self.lock:
            model = self.model
        if model.n_inputs == 784:
            seen = mnist_style(drawing)
            X, top = seen.reshape(1, 28, 28) if model.takes_images else seen.reshape(1, 784), 255.0
        elif model.n_inputs == 64:
            seen = digits_style(drawing)
            X, top = seen.reshape(1, 64), 16.0
        else:
            raise ValueError(f"playground: the digit model takes {model.n_inputs} inputs; the pad makes 784 "
                             "(28x28, MNIST) or 64 (8x8, the bundled digits)")
        p = model.predict_proba(X)[0]
        if p.shape != (10,):
            raise ValueError(f"playground: the digit model gives {p.size} probabilities; the pad needs 10")
        return p, seen / top
