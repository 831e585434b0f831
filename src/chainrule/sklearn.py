"""chainrule networks as scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's conventions (hyper-parameters only in ``__init__``, learned state
ending in ``_``) and its ``MLPClassifier``'s names and defaults, so that they go into a
``Pipeline``, ``GridSearchCV`` or ``cross_val_score`` like any other estimator; the network
they train is a chainrule ``Sequential``, ``model_``::

    from chainrule.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=50, random_state=0).fit(X, y)
    clf.model_.summary()

Needs scikit-learn (``pip install "chainrule[sklearn]"``).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError('chainrule.sklearn needs scikit-learn >= 1.6: pip install "chainrule[sklearn]"') from None

from . import optim
from .layers import Dense, activation as activation_layer
from .model import Sequential
from .training.callbacks import Callback
from .validation import check_bool, check_fraction, check_int, check_number, check_one_of, check_positive

SOLVERS = {"adam": optim.Adam, "sgd": optim.SGD, "rmsprop": optim.RMSProp, "adagrad": optim.Adagrad,
           "adamw": optim.AdamW}
#: the input dtypes kept as given (others become float64): the network converts X to its own
#: dtype once, so float32 rows for a float32 network are never copied to float64 and back
FLOATS = (np.float64, np.float32)
ACTIVATIONS = ("identity", "logistic", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu")


class _Stopping(Callback):
    """scikit-learn's stopping rule, epoch by epoch: stop once the training loss (or, with
    early_stopping, the validation score) has not improved by ``tol`` for ``n_iter_no_change``
    epochs. Records loss_curve_ and validation_scores_ on the estimator as it goes, and the
    weights of the best validation epoch."""

    def __init__(self, estimator, validation):
        self.estimator, self.validation = estimator, validation

    def on_epoch_end(self, epoch, logs=None):
        est = self.estimator
        est.loss_curve_.append(float(logs["loss"]))
        est.n_iter_ += 1
        if self.validation is None:
            value, improved = -est.loss_curve_[-1], est.loss_curve_[-1] < est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, est.loss_curve_[-1])
        else:
            value = est._score_network(*self.validation)
            est.validation_scores_.append(value)
            improved = value > est.best_validation_score_ + est.tol
            if value > est.best_validation_score_:
                est.best_validation_score_, est._best_params = value, self.model.params_.copy()
        est._no_improvement = 0 if improved else est._no_improvement + 1
        if est._no_improvement > est.n_iter_no_change:
            self.model.stop_training = True


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: checking the hyper-parameters, building
    the network, and training it for some epochs with scikit-learn's stopping rule."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 warm_start=False, dtype="float64"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.dtype = dtype

    # -- hyper-parameters, checked when fit uses them (scikit-learn's rule) ----------------

    def _check_params(self):
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        for size in sizes:
            check_int(size, "hidden_layer_sizes", owner, low=1)
        check_one_of(self.activation, "activation", owner, ACTIVATIONS)
        check_one_of(self.solver, "solver", owner, tuple(SOLVERS))
        check_number(self.alpha, "alpha", owner, low=0)
        if self.batch_size != "auto":
            check_int(self.batch_size, "batch_size", owner, low=1)
        check_positive(self.learning_rate_init, "learning_rate_init", owner)
        check_int(self.max_iter, "max_iter", owner, low=1)
        check_bool(self.shuffle, "shuffle", owner)
        check_number(self.tol, "tol", owner, low=0)
        check_bool(self.early_stopping, "early_stopping", owner)
        check_fraction(self.validation_fraction, "validation_fraction", owner, include_zero=False)
        check_int(self.n_iter_no_change, "n_iter_no_change", owner, low=1)
        check_bool(self.warm_start, "warm_start", owner)
        check_one_of(str(self.dtype), "dtype", owner, ("float32", "float64"))
        return [int(size) for size in sizes]

    def _seed(self):
        """random_state as chainrule's rng: an int stays an int (the same fit, bit for bit)."""
        if self.random_state is None or isinstance(self.random_state, numbers.Integral):
            return self.random_state
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _build(self, n_features, n_outputs):
        """The network: [Dense(n, h1), g, Dense(h1, h2), g, ..., Dense(h_last, n_outputs)]."""
        sizes = [n_features, *self._check_params(), n_outputs]
        g = "sigmoid" if self.activation == "logistic" else self.activation
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [Dense(n_in, n_out, init="glorot_uniform" if g in ("sigmoid", "tanh") else "he_uniform"),
                       activation_layer(g)]
        self.model_ = Sequential(layers[:-1], rng=self._seed(), dtype=str(self.dtype))
        self._optimizer = SOLVERS[self.solver](lr=self.learning_rate_init)
        self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None

    def _train(self, X, Y, epochs, incremental):
        """Train model_ on (X, Y) (Y as the network's loss wants it) for up to ``epochs`` epochs."""
        self._check_params()
        batch = min(200, len(X)) if self.batch_size == "auto" else min(self.batch_size, len(X))
        for layer in self.model_.layers:  # scikit-learn's penalty: alpha / (2 m_batch) * sum(W^2)
            if isinstance(layer, Dense):
                layer.l2 = self.alpha / (2 * batch)
        validation = None
        if self.early_stopping and not incremental:
            stratify = Y if self._is_clf else None
            X, X_val, Y, Y_val = train_test_split(X, Y, test_size=self.validation_fraction,
                                                  random_state=self._seed(), stratify=stratify)
            validation = (X_val, Y_val)
        self._no_improvement, self._best_params, start = 0, None, self.n_iter_
        self.model_.fit(X, Y, loss=self._loss, optimizer=self._optimizer, epochs=epochs, batch_size=batch,
                        shuffle=self.shuffle, verbose=0, metrics=[], callbacks=[_Stopping(self, validation)])
        self.t_ += len(X) * (self.n_iter_ - start)
        if self._best_params is not None:  # early stopping ends with the best validation epoch's weights
            self.model_.params_[...] = self._best_params
        if not incremental and self.n_iter_ - start >= self.max_iter and self._no_improvement <= self.n_iter_no_change:
            warnings.warn(f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the optimisation "
                          "has not converged yet", ConvergenceWarning)
        del self._no_improvement, self._best_params
        return self

    def _fit(self, X, y, incremental):
        first = not hasattr(self, "model_")
        X, y = validate_data(self, X, y, reset=first or not (incremental or self.warm_start),
                             multi_output=self._multi_output, dtype=FLOATS, y_numeric=not self._is_clf)
        Y = self._targets(y, fitting=True, incremental=incremental)
        if first or not (incremental or self.warm_start):
            self._build(X.shape[1], self._n_outputs(Y))
        return self._train(X, Y, 1 if incremental else self.max_iter, incremental)

    def fit(self, X, y):
        """Train the network on (X, y) for up to max_iter epochs (from scratch unless warm_start)."""
        return self._fit(X, y, incremental=False)

    def _network_output(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=FLOATS)
        return self.model_.predict_output(X)  # (in the network's dtype: predict_output converts)

    def __getstate__(self):
        """Pickle model_ as its configuration and arrays: its layers' weights are views of one
        flat buffer, which pickle would split into separate copies."""
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state, model_=(self.model_.get_config(), self.model_.state_arrays()))
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), tuple):
            config, arrays = state["model_"]
            model = Sequential.from_config(config)
            model.load_state_arrays(arrays)
            state = dict(state, model_=model)
        super().__setstate__(state)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier trained by chainrule: softmax cross-entropy on
    raw logits, one output per class. Labels may be of any kind (ints, strings, ...):
    ``classes_`` holds them, sorted, and the network learns their indices."""

    _is_clf, _multi_output, _loss = True, False, "cross_entropy"

    def _targets(self, y, fitting=False, incremental=False, classes=None):
        check_classification_targets(y)
        if fitting and (not hasattr(self, "classes_") or not (incremental or self.warm_start)):
            self.classes_ = unique_labels(y) if classes is None else unique_labels(classes)
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__}: y must hold at least 2 classes; received 1 class, "
                                 f"{self.classes_[0]!r}")
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(f"{type(self).__name__}: y holds labels {unknown.tolist()} that are not in classes_ "
                             f"{self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y)

    def _n_outputs(self, Y):
        return len(self.classes_)

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y); the first call needs ``classes``, every label there will be."""
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError(f"{type(self).__name__}: classes must be passed on the first call to partial_fit")
            self.classes_ = unique_labels(classes)
        return self._fit(X, y, incremental=True)

    def _score_network(self, X, Y):
        return accuracy_score(Y, np.argmax(self.model_.predict_output(X), axis=1))

    def predict_proba(self, X):
        """Class probabilities (m, n_classes), the columns in the order of classes_."""
        check_is_fitted(self, "model_")
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """log p, from the logits by a stable log-softmax: Z - c - log sum e^(Z - c)."""
        Z = self._network_output(X).astype(np.float64)
        shifted = Z - Z.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def predict(self, X):
        """The most probable label of each row, one of classes_."""
        index = np.argmax(self._network_output(X), axis=1)
        return self.classes_[index]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor trained by chainrule on the squared error, one
    output per target column (y of shape (m,) or (m, k))."""

    _is_clf, _multi_output, _loss = False, True, "mse"

    def _targets(self, y, fitting=False, incremental=False):
        Y = np.asarray(y, dtype=np.float64)
        if fitting:
            if not hasattr(self, "n_outputs_") or not (incremental or self.warm_start):
                self.n_outputs_ = 1 if Y.ndim == 1 else Y.shape[1]
                self._one_column = Y.ndim == 1
            elif (1 if Y.ndim == 1 else Y.shape[1]) != self.n_outputs_:
                raise ValueError(f"{type(self).__name__}: y has {Y.shape[1]} columns; the network was fitted "
                                 f"on {self.n_outputs_}")
        return Y.reshape(len(Y), -1)

    def _n_outputs(self, Y):
        return Y.shape[1]

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, incremental=True)

    def _score_network(self, X, Y):
        return r2_score(Y, self.model_.predict_output(X))

    def predict(self, X):
        """The predicted targets, (m,) if y was one column when fitted, else (m, k)."""
        out = self._network_output(X).astype(np.float64)
        return out.ravel() if self._one_column else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


#: checks of ``sklearn.utils.estimator_checks`` these estimators are expected to fail, with the
#: reason (passed to check_estimator as ``expected_failed_checks``); empty: they pass them all
EXPECTED_FAILED_CHECKS = {}

__all__ = ["MLPClassifier", "MLPRegressor", "EXPECTED_FAILED_CHECKS"]
