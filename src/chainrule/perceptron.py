"""The first neurons: Rosenblatt's perceptron and a single sigmoid neuron.

Both see one sample as a row x of n features and score it with one weight
vector w, shape (n,), and one bias b::

    z = x . w + b

The **perceptron** thresholds the score, y_hat = step(z), and learns by
Rosenblatt's rule: for every misclassified sample (y - y_hat = +-1)::

    w := w + lr (y - y_hat) x
    b := b + lr (y - y_hat)

If some line w . x + b = 0 separates the two classes, the rule stops making
mistakes after finitely many updates (the perceptron convergence theorem).
If none does, as for XOR, it never stops: it is the reason networks need a
hidden layer.

The **sigmoid neuron** replaces the step by a = sigma(z), a probability, and
learns by gradient descent on the binary cross-entropy. Over a batch X (m, n)::

    a  = sigma(X @ w + b)                                  (m,)
    J  = -(1/m) sum_i [y_i log a_i + (1 - y_i) log(1 - a_i)]
    dz = a - y                                             (m,)
    dw = X.T @ dz / m                                      (n,)
    db = mean(dz)
    w := w - lr dw,   b := b - lr db

Labels are 0 and 1 for both.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import functional as F
from .init import as_generator
from .validation import check_array, check_bool, check_finite, check_features, check_int, check_positive


class ConvergenceWarning(UserWarning):
    """The perceptron used all its epochs and still misclassified some samples."""


NOT_SEPARABLE_HINT = (
    "either max_epochs is too small or, more likely, the classes are not linearly separable. "
    "XOR-like data is not linearly separable: no line (hyperplane) w . x + b = 0 puts the two classes "
    "on opposite sides, so the perceptron rule never stops updating. Use a two-layer network "
    "(one hidden layer), e.g. Sequential([Dense(2, 4), Tanh(), Dense(4, 1)]) trained with loss='bce'")


def check_Xy(X, y, owner):
    """X as a float64 (m, n) array and y as int64 labels (m,) in {0, 1}, or a clear error."""
    X = check_features_X(X, owner)
    y = check_features(y, len(X), "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{owner}: y must be 1-D (one label per sample); received shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: labels must be the numbers 0 and 1; received dtype {y.dtype}")
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        found = np.unique(y[bad])[:5].tolist()
        hint = " (for -1/+1 labels pass (y > 0).astype(int))" if np.all(np.isin(y, (-1, 1))) else ""
        raise ValueError(f"{owner}: labels must be 0 or 1; received other values such as {found}{hint}")
    return X, y.astype(np.int64)


def check_fitted(model, X, owner):
    """X checked against a fitted Perceptron or SigmoidNeuron; a clear error if it is not fitted."""
    if not hasattr(model, "w_"):
        raise RuntimeError(f"{owner}: this {type(model).__name__} is not fitted yet; call fit(X, y) first")
    return check_features_X(X, owner, len(model.w_))


def check_features_X(X, owner, n_features=None):
    """X as a finite float64 array of shape (m, n), n = n_features when given."""
    X = check_array(X, "X", owner)
    if X.ndim != 2:
        raise ValueError(f"{owner}: X must be 2-D (m samples, n features); received shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{owner}: X must have {n_features} features (as in fit); received shape {X.shape}")
    return check_finite(X.astype(np.float64), f"{owner}: X")


def step(z):
    """step(z) = 1 if z > 0 else 0.

    The choice at z = 0 matters for the rule: a point exactly on the line
    counts as class 0. So starting from w = 0, b = 0 every positive sample is
    a mistake, and the first update moves the line.
    """
    return (np.asarray(z) > 0).astype(np.int64)


class Perceptron:
    """Rosenblatt's perceptron: y_hat = step(x . w + b), trained one sample at a time.

    ``fit`` starts from w = 0, b = 0 and sweeps the data up to ``max_epochs``
    times, updating on each mistake (see the module docstring). ``rng`` (a
    seed, a Generator or None) shuffles the order of the samples in each
    epoch; ``shuffle=False`` visits them in the given order.

    After ``fit``:

    - ``w_`` (n,), ``b_``: the learnt line w . x + b = 0;
    - ``converged_``: True when an epoch made no mistake;
    - ``n_epochs_``: the epochs run (the last one is the mistake-free one);
    - ``history_``: ``{"mistakes": [...], "w": (n_epochs_, n), "b": (n_epochs_,)}``,
      the mistakes in each epoch and w, b after it, to plot the line moving;
    - ``message_``: one sentence on the outcome. If the rule did not converge
      it also says why that happens (XOR-like data is not linearly separable)
      and suggests a two-layer network, and ``fit`` warns with the same text
      (a ``ConvergenceWarning``).
    """

    def __init__(self, lr=1.0, max_epochs=100, rng=None, shuffle=True):
        self.lr = check_positive(lr, "lr", "Perceptron")
        self.max_epochs = check_int(max_epochs, "max_epochs", "Perceptron", low=1)
        self.rng = rng
        self.shuffle = check_bool(shuffle, "shuffle", "Perceptron")

    def fit(self, X, y):
        X, y = check_Xy(X, y, "Perceptron.fit")
        m, n = X.shape
        gen = as_generator(self.rng)
        w, b = np.zeros(n), 0.0
        mistakes, ws, bs = [], [], []
        self.converged_ = False
        for _ in range(self.max_epochs):
            errors = 0
            for i in (gen.permutation(m) if self.shuffle else range(m)):
                y_hat = 1 if X[i] @ w + b > 0 else 0
                if y_hat != y[i]:
                    w = w + self.lr * (y[i] - y_hat) * X[i]
                    b = b + self.lr * (y[i] - y_hat)
                    errors += 1
            mistakes.append(errors)
            ws.append(w.copy())
            bs.append(float(b))
            if errors == 0:
                self.converged_ = True
                break
        self.w_, self.b_ = w, float(b)
        self.n_epochs_ = len(mistakes)
        self.history_ = {"mistakes": mistakes, "w": np.array(ws), "b": np.array(bs)}
        if self.converged_:
            self.message_ = f"converged: epoch {self.n_epochs_} made no mistakes"
        else:
            self.message_ = (f"did not converge: {mistakes[-1]} of {m} samples still misclassified after "
                             f"{self.n_epochs_} epochs; {NOT_SEPARABLE_HINT}")
            warnings.warn(f"Perceptron {self.message_}", ConvergenceWarning, stacklevel=2)
        return self

    def decision_function(self, X):
        """The scores z = X @ w + b, shape (m,); the line is where z = 0."""
        X = check_fitted(self, X, "Perceptron.decision_function")
        return X @ self.w_ + self.b_

    def predict(self, X):
        """The labels y_hat = step(X @ w + b), shape (m,), in {0, 1}."""
        return step(self.decision_function(X))

    def __repr__(self):
        return f"Perceptron(lr={self.lr!r}, max_epochs={self.max_epochs!r})"


class SigmoidNeuron:
    """One sigmoid neuron, a = sigma(x . w + b), trained by batch gradient descent
    on the binary cross-entropy (logistic regression; see the module docstring).

    ``rng`` (a seed, a Generator or None) draws the starting w from N(0, 0.01^2);
    b starts at 0. Each of the ``epochs`` steps uses the whole batch.

    After ``fit``:

    - ``w_`` (n,), ``b_``: the learnt parameters;
    - ``cost_history_`` (epochs + 1,): J at the start and after every step;
    - ``path_``: ``{"w": (epochs + 1, n), "b": (epochs + 1,)}``, the point
      (w, b) at the start and after every step, to draw the descent path on
      the cost surface.
    """

    def __init__(self, lr=0.5, epochs=1000, rng=None):
        self.lr = check_positive(lr, "lr", "SigmoidNeuron")
        self.epochs = check_int(epochs, "epochs", "SigmoidNeuron", low=0)
        self.rng = rng

    @staticmethod
    def cost_at(X, y, w, b):
        """J(w, b) = mean binary cross-entropy of sigma(X @ w + b) against y (stable at any z)."""
        return float(F.binary_cross_entropy_with_logits(X @ w + b, y))

    def fit(self, X, y):
        X, y = check_Xy(X, y, "SigmoidNeuron.fit")
        m, n = X.shape
        y = y.astype(np.float64)
        w = as_generator(self.rng).normal(0.0, 0.01, size=n)
        b = 0.0
        costs, ws, bs = [], [], []
        for t in range(self.epochs + 1):
            z = X @ w + b
            costs.append(float(F.binary_cross_entropy_with_logits(z, y)))
            ws.append(w.copy())
            bs.append(b)
            if t == self.epochs:
                break
            a = F.sigmoid(z)
            dz = a - y
            dw = X.T @ dz / m
            db = float(np.mean(dz))
            w = w - self.lr * dw
            b = b - self.lr * db
        self.w_, self.b_ = w, float(b)
        self.cost_history_ = np.array(costs)
        self.path_ = {"w": np.array(ws), "b": np.array(bs)}
        return self

    def cost(self, X, y):
        """The cost J of the fitted neuron on (X, y)."""
        X, y = check_Xy(X, y, "SigmoidNeuron.cost")
        check_fitted(self, X, "SigmoidNeuron.cost")
        return self.cost_at(X, y.astype(np.float64), self.w_, self.b_)

    def predict_proba(self, X):
        """a = sigma(X @ w + b), the probability of class 1, shape (m,)."""
        X = check_fitted(self, X, "SigmoidNeuron.predict_proba")
        return F.sigmoid(X @ self.w_ + self.b_)

    def predict(self, X):
        """The labels [a > 0.5], shape (m,), in {0, 1}."""
        return (self.predict_proba(X) > 0.5).astype(np.int64)

    def __repr__(self):
        return f"SigmoidNeuron(lr={self.lr!r}, epochs={self.epochs!r})"
