"""Sequential: a stack of layers, A[0] = X, A[l] = layer_l(A[l-1]).

The model owns the parameters of all its layers in one flat array
``params_`` (and their gradients in ``grads_``); each layer's W, b, ... are
views into it. Layers still read and write ``layer.W`` as usual; optimizers,
gradient clipping and saving see one vector.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from . import aligned
from . import functional as F
from . import losses as losses_module
from .init import as_generator
from .layers import Flatten, Layer, Sigmoid, Softmax, activation, layer_numbers
from . import metrics as metrics_module
from .validation import check_array, check_features, check_finite, check_one_of

DTYPES = ("float32", "float64")


class Sequential:
    """A feed-forward network: ``Sequential([Dense(64, 32), ReLU(), Dense(32, 10)], rng=0)``.

    ``rng`` (a seed, a numpy Generator or None) fixes the initial weights, the
    dropout masks and the shuffling of ``fit``: the same seed gives the same
    run, bit for bit. ``dtype`` is "float32" (default, fast) or "float64"
    (for gradient checks); inputs are converted to it.
    """

    def __init__(self, layers, rng=None, dtype="float32"):
        if isinstance(layers, Layer) or not hasattr(layers, "__iter__"):
            raise TypeError(f"Sequential takes a list of layers; received {type(layers).__name__}")
        self.layers = [activation(layer) if isinstance(layer, str) else layer for layer in layers]
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is not a chainrule Layer; received {type(layer).__name__}")
        if not self.layers:
            raise ValueError("Sequential needs at least one layer; received an empty list")
        try:  # np.dtype(None) is float64 and np.dtype("foo") a bare TypeError: name what is expected
            name = None if dtype is None else str(np.dtype(dtype))
        except TypeError:
            name = dtype
        check_one_of(name, "dtype", "Sequential", DTYPES)
        self.rng = rng
        self.dtype = np.dtype(dtype)
        self.loss = None  # set by fit or compile; tells predict what the outputs mean
        self.preprocessor = None  # a fitted Scaler: then fit, predict and evaluate take raw inputs
        self.classes_ = None  # the original labels of output columns 0..k-1 (text, -1/+1, ...); see predict
        self.input_image_ = None  # {"shape", "background", "max"} of the training images, for predict on files
        self._check_sizes()
        self._build()

    # -- construction ---------------------------------------------------------

    def _check_sizes(self):
        """Every layer's input size must be the size the layer before it puts out; records the
        model's input size (``n_inputs``: features per sample, None if any) and output size."""
        size, source = None, None
        self.n_inputs, self.takes_images = None, False
        for i, layer in enumerate(self.layers):
            need = layer.input_size()
            if need is not None and self.n_inputs is None and size is None:
                self.n_inputs, self._first_sized = need, i
                self.takes_images = any(isinstance(l, Flatten) for l in self.layers[:i])
            if need is not None and size is not None and need != size:
                raise ValueError(f"layer sizes do not chain: the {self.describe(i)} expects {need} inputs but "
                                 f"the {self.describe(source)} outputs {size}")
            new = layer.output_size(size if size is not None else need)
            if new != size:
                source = i
            size = new
        self.n_outputs = size

    # -- naming, the tutorial's way ----------------------------------------------

    def layer_number(self, i):
        """The tutorial's number l of ``model.layers[i]`` (see ``chainrule.layers.layer_numbers``)."""
        return layer_numbers(self.layers)[i]

    def describe(self, i):
        """``model.layers[i]`` as a person reads it: "Dense of layer 2 (model.layers[2])"."""
        return f"{type(self.layers[i]).__name__} of layer {self.layer_number(i)} (model.layers[{i}])"

    def parameter_names(self):
        """Every parameter in the order of the flat buffer: (label, layer, name), e.g. ("W[1]", dense, "W")."""
        return [(f"{name}[{l}]", layer, name)
                for l, layer in zip(layer_numbers(self.layers), self.layers) for name in layer.param_names]

    def _build(self):
        """Initialise every layer from one Generator, then gather the parameters into flat buffers."""
        gen = as_generator(self.rng)
        layer_rngs = gen.spawn(len(self.layers))
        self.rng_ = gen.spawn(1)[0]  # shuffles the data in fit
        for layer, layer_rng in zip(self.layers, layer_rngs):
            layer.build(layer_rng, self.dtype)
        arrays = [(layer, name) for layer in self.layers for name in layer.param_names]
        total = sum(getattr(layer, name).size for layer, name in arrays)
        self.params_ = aligned.empty(total, self.dtype)  # on a cache line: every step passes over them whole
        self.grads_ = aligned.zeros(total, self.dtype)
        start = 0
        for layer, name in arrays:
            value = getattr(layer, name)
            end = start + value.size
            self.params_[start:end] = value.ravel()
            layer.bind(name, self.params_[start:end].reshape(value.shape))
            layer.bind("d" + name, self.grads_[start:end].reshape(value.shape))
            start = end

    @property
    def num_params(self):
        return self.params_.size

    def compile(self, loss):
        """Record the loss the model is trained with (fit does this too).

        Refuses a loss that would apply softmax or sigmoid a second time: a
        model ending in Softmax or Sigmoid needs ``from_logits=False``.
        """
        loss = losses_module.get(loss)
        last = type(self.layers[-1]).__name__
        if getattr(loss, "from_logits", False) and last in ("Softmax", "Sigmoid"):
            raise ValueError(f"the model ends in {last}, so its outputs are already probabilities, but "
                             f"{type(loss).__name__}(from_logits=True) would apply {last.lower()} again: drop the "
                             f"{last} layer (recommended: the fused gradient is more accurate) or pass "
                             f"{type(loss).__name__}(from_logits=False)")
        self.loss = loss
        return self

    # -- the passes -----------------------------------------------------------

    def forward(self, X, training=False, check=True):
        """Feed forward: A[0] = X, A[l] = layer_l(A[l-1]); returns A[L], shape (m, n_outputs).

        ``check=False`` skips the checks of X (for batches of an array checked already).
        """
        A = self.as_input(X) if check else X
        for layer in self.layers:
            A = layer.forward(A, training=training)
        return A

    def backward(self, dA, need_input_grad=True):
        """Backpropagate dCost/dA[L] through every layer, filling each layer's gradients.

        Returns dCost/dX. ``need_input_grad=False`` stops at the first layer
        with parameters (training does not need dX) and returns None.
        """
        first = self._first_trainable() if not need_input_grad else 0
        for i in range(len(self.layers) - 1, first - 1, -1):
            dA = self.layers[i].backward(dA, need_input_grad=need_input_grad or i > first)
        return dA

    def _first_trainable(self):
        for i, layer in enumerate(self.layers):
            if layer.param_names:
                return i
        return 0

    def penalty(self):
        """The regularisation terms (L1, L2) the layers add to the cost."""
        return sum(layer.penalty() for layer in self.layers)

    def preprocess(self, X):
        """X through the model's preprocessor, if it has one (forward itself never preprocesses)."""
        return X if self.preprocessor is None else self.preprocessor.transform(X)

    def check_input(self, X):
        """X as an array of numbers, (m, n_inputs), or images of n_inputs pixels if the model
        flattens them first (returned as given; ``as_input`` also converts to the model's dtype)."""
        X = check_array(X, "X")
        if self.n_inputs is not None:
            layer = self.layers[self._first_sized]
            if X.ndim > 2 and not self.takes_images:
                raise ValueError(f"X must be 2-D (m, {self.n_inputs}); received shape {X.shape}. "
                                 "Add a Flatten() layer first for images")
            features = math.prod(X.shape[1:])
            if features != self.n_inputs:
                raise ValueError(f"X has {features} features per sample (shape {X.shape}) but layer "
                                 f"{self._first_sized} ({type(layer).__name__}) expects {self.n_inputs}")
        return X

    def as_input(self, X):
        """X checked by ``check_input`` and in the model's dtype."""
        X = self.check_input(X)
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    # -- using a trained model ------------------------------------------------

    def predict_output(self, X, batch_size=1024):
        """The raw network output A[L] for X, computed in batches, in evaluation mode."""
        X = check_finite(self.as_input(self.preprocess(np.asarray(X))), "X")
        outs = [self.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.concatenate(outs) if outs else np.empty((0, self.n_outputs or 0), self.dtype)

    def default_loss(self):
        """The loss that says what the outputs mean, for predict, evaluate and explain: the
        model's own (from fit or compile); else, by the last layer, CrossEntropy on a Softmax
        output, BinaryCrossEntropy on a Sigmoid output (both from_logits=False), CrossEntropy on
        several raw outputs (logits), and MSE on one raw output."""
        if self.loss is not None:
            return self.loss
        last = self.layers[-1]
        if isinstance(last, Softmax):
            return losses_module.CrossEntropy(from_logits=False)
        if isinstance(last, Sigmoid):
            return losses_module.BinaryCrossEntropy(from_logits=False)
        return losses_module.CrossEntropy() if (self.n_outputs or 1) > 1 else losses_module.MSE()

    @property
    def task(self):
        """What the outputs mean: "multiclass", "binary" or "regression" (from ``default_loss``)."""
        return self.default_loss().task

    def predict_proba(self, X, batch_size=1024):
        """Class probabilities: softmax of the logits (m, k); for a binary model with one output
        [1 - p, p] (m, 2); for several independent binary outputs, p per output (m, k)."""
        out = self.predict_output(X, batch_size)
        loss = self.default_loss()
        task, from_logits = loss.task, getattr(loss, "from_logits", True)
        if task == "multiclass":
            return F.softmax(out) if from_logits else out
        if task == "binary":
            p = F.sigmoid(out) if from_logits else out
            return np.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p
        raise ValueError("predict_proba needs a classifier (a model trained with cross_entropy or bce); "
                         f"this model's outputs are read with {loss!r}")

    def predict_index(self, X, batch_size=1024):
        """Class indices 0..k-1 (m,) for a classifier; the raw outputs for a regression model."""
        task = self.task
        if task == "multiclass":
            return np.argmax(self.predict_output(X, batch_size), axis=1)
        if task == "binary":
            p = self.predict_proba(X, batch_size)
            return np.argmax(p, axis=1) if self.n_outputs == 1 else (p > 0.5).astype(np.int64)
        return self.predict_output(X, batch_size)

    def predict(self, X, batch_size=1024):
        """Class labels (m,) for a classifier, as the original labels ``classes_[i]`` when the
        model has them (predict_proba's column i is the probability of ``classes_[i]``); the raw
        outputs for a regression model."""
        found = self.predict_index(X, batch_size)
        return found if not self._labelled() else np.asarray(self.classes_)[found]

    def _labelled(self):
        return self.classes_ is not None and (self.task == "multiclass" or (self.task == "binary" and self.n_outputs == 1))

    def class_indices(self, y):
        """Labels y (m,) as indices into ``classes_``; y as given when the model has no classes_, y is
        one-hot, or y holds indices (numbers for a model whose classes are text)."""
        if not self._labelled() or np.ndim(y) != 1:
            return y
        y, classes = np.asarray(y), np.asarray(self.classes_)
        if (y.dtype.kind in "USO") != (classes.dtype.kind in "USO"):
            return y
        index = {c: i for i, c in enumerate(classes.tolist())}
        try:
            return np.array([index[v] for v in y.tolist()], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"y holds the label {err.args[0]!r}, which is not one of the model's classes_ "
                             f"{classes.tolist()}") from None

    def evaluate(self, X, y, loss=None, metrics=None, batch_size=1024):
        """The loss (with the layers' penalties) and metrics on (X, y), as a dict; y may hold the
        original labels of ``classes_``."""
        loss = losses_module.get(loss) if loss is not None else self.default_loss()
        out = self.predict_output(X, batch_size)
        y = check_finite(check_features(self.class_indices(y), len(out), "y"), "y")
        Y = loss.targets(y, out.shape, out.dtype)
        result = {"loss": float(loss.value(out, Y)) + self.penalty()}
        for name in metrics_module.resolve(metrics, loss):
            result[name] = metrics_module.compute(name, y, out, loss)
        return result

    def fit(self, X, y, **kwargs):
        """Train; see ``chainrule.training.loop.fit`` for the arguments. Returns a History."""
        from .training.loop import fit

        y = np.asarray(y)
        if self.classes_ is None and y.ndim == 1 and y.dtype.kind in "USO":  # text labels: classes in sorted order
            self.classes_ = np.unique(y)
        if kwargs.get("validation_data") is not None:
            X_val, y_val = kwargs["validation_data"]
            kwargs["validation_data"] = (X_val, self._fit_labels(y_val, kwargs))
        return fit(self, X, self._fit_labels(y, kwargs), **kwargs)

    def _fit_labels(self, y, kwargs):
        if self.classes_ is None:
            return y
        if kwargs.get("loss") is not None:  # the task comes from the loss fit is given
            self.loss = losses_module.get(kwargs["loss"])
        return self.class_indices(y)

    # -- inspection -----------------------------------------------------------

    def explain(self, X, y, loss=None, lr=0.1, decimals=4, markdown=False, show=True):
        """Print every number of one forward and backward pass on a tiny batch, in the
        tutorial's notation, each gradient beside its finite-difference estimate.
        Returns the Explanation (its steps hold the matrices). The model is not changed."""
        from .explain import explain

        result = explain(self, X, y, loss if loss is not None else self.default_loss(), lr, decimals)
        if show:
            print(result.markdown() if markdown else result.text())
        return result


    def summary(self):
        """A table of the layers: the tutorial's layer number l, the index in ``model.layers``, the
        layer, its output shape, its parameter count and the names of its parameters (W[l], b[l])."""
        rows = [("layer", "[i]", "type", "output shape", "params", "parameters")]
        size = None
        for i, (l, layer) in enumerate(zip(layer_numbers(self.layers), self.layers)):
            size = layer.output_size(size if size is not None else layer.input_size())
            count = sum(v.size for v in layer.params().values())
            names = " ".join(f"{name}[{l}]" for name in layer.param_names)
            rows.append((str(l), str(i), repr(layer), f"(None, {size if size is not None else '?'})", f"{count:,}", names))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        line = "-" * (sum(widths) + 2 * (len(widths) - 1))
        fmt = lambda r: "  ".join(v.rjust(w) if c == 4 else v.ljust(w) for c, (v, w) in enumerate(zip(r, widths))).rstrip()
        body = [fmt(rows[0]), line, *map(fmt, rows[1:]), line,
                f"total parameters: {self.num_params:,} ({self.dtype}, {self.params_.nbytes:,} bytes)"]
        return "\n".join(body)

    def __repr__(self):
        return f"Sequential({self.layers!r}, dtype={str(self.dtype)!r})"

    # -- weights and configuration ------------------------------------------------

    def get_config(self):
        return {
            "layers": [{"class": type(layer).__name__, "config": layer.get_config()} for layer in self.layers],
            "dtype": str(self.dtype),
            "loss": None if self.loss is None else {"class": type(self.loss).__name__,
                                                    "config": self.loss.get_config()},
            "preprocessor": None if self.preprocessor is None else type(self.preprocessor).__name__,
            "classes": None if self.classes_ is None else np.asarray(self.classes_).tolist(),
            "input_image": self.input_image_,
        }

    @classmethod
    def from_config(cls, config, rng=None):
        from .layers import LAYERS

        layers = []
        for spec in config["layers"]:
            if spec["class"] not in LAYERS:
                raise ValueError(f"unknown layer class {spec['class']!r}; expected one of {sorted(LAYERS)}")
            layers.append(LAYERS[spec["class"]].from_config(spec["config"]))
        model = cls(layers, rng=rng, dtype=config["dtype"])
        if config.get("loss"):
            loss_cls = losses_module.BY_CLASS_NAME[config["loss"]["class"]]
            model.loss = loss_cls(**config["loss"]["config"])
        if config.get("classes") is not None:
            model.classes_ = np.array(config["classes"])
        model.input_image_ = config.get("input_image")
        return model  # config["preprocessor"] names the preprocessor's class: the model file's reader restores it

    def state_arrays(self):
        """Every array that defines the trained model: the flat parameters and the layers' state."""
        arrays = {"params": self.params_}
        for i, layer in enumerate(self.layers):
            for name, value in layer.state().items():
                arrays[f"layer{i}.{name}"] = value
        if self.preprocessor is not None:
            for name, value in self.preprocessor.state_arrays().items():
                arrays[f"preprocessor.{name}"] = value
        return arrays

    def load_state_arrays(self, arrays):
        if self.preprocessor is not None:
            prefix = "preprocessor."
            self.preprocessor.load_state_arrays({k[len(prefix):]: np.array(v) for k, v in arrays.items()
                                                 if k.startswith(prefix)})
        for name, value in self.state_arrays().items():
            if name not in arrays:
                raise ValueError(f"missing array {name!r}")
            if arrays[name].shape != value.shape:
                raise ValueError(f"array {name!r} has shape {arrays[name].shape}; the model needs {value.shape}")
            value[...] = arrays[name]

    def copy(self, dtype=None):
        """A deep copy, optionally in another dtype (``model.copy("float64")`` for gradient checks)."""
        config = dict(self.get_config(), dtype=str(np.dtype(dtype or self.dtype)))
        clone = Sequential.from_config(config)
        clone.preprocessor = copy.deepcopy(self.preprocessor)
        clone.load_state_arrays(self.state_arrays())
        return clone

    def save(self, path):
        """Save the architecture (JSON) and the arrays (.npy) to one zip file, atomically."""
        from .io.serialize import save_model

        save_model(self, path)
