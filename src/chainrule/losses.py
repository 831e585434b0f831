"""Losses: the cost C(A, Y) of the network's output A against the targets.

Each loss has ``forward(A, y) -> float`` and ``backward() -> dA``, the gradient
of the cost with respect to A, of A's shape. The math is in
``chainrule.functional``; these classes check and convert the targets.

| loss                                 | string           | targets y                                 |
|--------------------------------------|------------------|-------------------------------------------|
| MSE                                  | "mse"            | values of A's shape (or (m,) for one output) |
| Huber(delta=1.0)                     | "huber"          | as MSE                                    |
| BinaryCrossEntropy(from_logits=True) | "bce"            | 0/1 (or probabilities) of A's shape       |
| CrossEntropy(from_logits=True)       | "cross_entropy"  | integer labels (m,), or one-hot or soft rows (m, k) |
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from .validation import check_bool, check_positive


class Loss:
    """A cost C(A, Y). Each loss defines its value and its gradient once, as
    ``value_from(prepared, Y)`` and ``gradient_from(prepared, Y)`` of
    ``prepared = prepare(A)``; ``value``/``gradient`` (for evaluation) and
    ``forward``/``backward`` (for training, which keeps ``prepared`` between the
    two) are thin wrappers around them.
    """

    name = "loss"
    #: what predict() makes of the network's output
    task = "regression"

    def prepare(self, A):
        """What both the value and the gradient are computed from: A itself, unless a
        loss shares work between the two."""
        return A

    def value(self, A, Y):
        """C(A, Y), for targets Y already made by ``targets``."""
        return self.value_from(self.prepare(A), Y)

    def gradient(self, A, Y):
        """dC/dA, of A's shape."""
        return self.gradient_from(self.prepare(A), Y)

    def forward(self, A, y):
        """C(A, y) as a float; keeps the targets and ``prepare(A)`` for ``backward``."""
        self.Y = self.targets(y, A.shape, A.dtype)
        self.prepared = self.prepare(A)
        return float(self.value_from(self.prepared, self.Y))

    def backward(self):
        """dC/dA of the last ``forward``."""
        return self.gradient_from(self.prepared, self.Y)

    def __call__(self, A, y):
        return self.forward(A, y)

    def targets(self, y, out_shape, dtype):
        """Check y against the output shape and return it as a float array of that shape."""
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__}: targets must be numeric; received dtype {y.dtype}")
        if y.ndim == 1 and len(out_shape) == 2 and out_shape[1] == 1:
            y = y.reshape(-1, 1)
        if y.shape != tuple(out_shape):
            raise ValueError(f"{type(self).__name__}: targets must have shape {tuple(out_shape)} "
                             f"(the network's output); received {y.shape}")
        return y.astype(dtype, copy=False)

    def get_config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MSE(Loss):
    """C = mean((A - Y)^2) over every element;  dA = 2 (A - Y) / n."""

    name = "mse"

    def value_from(self, A, Y):
        return F.mse(A, Y)

    def gradient_from(self, A, Y):
        return F.mse_grad(A, Y)


class Huber(Loss):
    """C = mean(0.5 d^2 if |d| <= delta else delta (|d| - 0.5 delta)), d = A - Y;
    dA = clip(d, -delta, delta) / n."""

    name = "huber"

    def __init__(self, delta=1.0):
        self.delta = check_positive(delta, "delta", "Huber")

    def value_from(self, A, Y):
        return F.huber(A, Y, self.delta)

    def gradient_from(self, A, Y):
        return F.huber_grad(A, Y, self.delta)

    def get_config(self):
        return {"delta": self.delta}


class BinaryCrossEntropy(Loss):
    """C = -mean(Y log sigma(Z) + (1 - Y) log(1 - sigma(Z))) over every element.

    With ``from_logits=True`` (the default) A is the raw score Z and
    dZ = (sigma(Z) - Y) / n, stable at any Z. With ``from_logits=False`` A is a
    probability (after a Sigmoid layer); logs are clamped at -100 as in PyTorch.
    """

    name = "bce"
    task = "binary"

    def __init__(self, from_logits=True):
        self.from_logits = check_bool(from_logits, "from_logits", "BinaryCrossEntropy")

    def targets(self, y, out_shape, dtype):
        Y = super().targets(y, out_shape, dtype)
        if Y.size and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(f"BinaryCrossEntropy: targets must lie in [0, 1]; "
                             f"received values from {Y.min()} to {Y.max()}")
        return Y

    def value_from(self, A, Y):
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(A, Y)
        return F.binary_cross_entropy(A, Y)

    def gradient_from(self, A, Y):
        if self.from_logits:
            return F.binary_cross_entropy_with_logits_grad(A, Y)
        return F.binary_cross_entropy_grad(A, Y)

    def get_config(self):
        return {"from_logits": self.from_logits}


class CrossEntropy(Loss):
    """C = -(1/m) sum_i sum_j Y_ij log P_ij, P = softmax(Z) row by row.

    With ``from_logits=True`` (the default) A is the logits Z, and the softmax
    is fused into the cost: dZ = (P * s - Y) / m, s_i = sum_j Y_ij the row sums
    of the targets, which is (P - Y) / m for labels and one-hot rows. With
    ``from_logits=False`` A is already P (after a Softmax layer) and dP = -Y / (P m).
    Targets: integer labels in [0, k) of shape (m,), or one-hot / soft rows of
    shape (m, k), which need not sum to 1 (as in PyTorch).
    """

    name = "cross_entropy"
    task = "multiclass"

    def __init__(self, from_logits=True):
        self.from_logits = check_bool(from_logits, "from_logits", "CrossEntropy")

    def targets(self, y, out_shape, dtype):
        y = np.asarray(y)
        m, k = out_shape[0], out_shape[-1]
        if y.ndim == 2 and y.shape == tuple(out_shape):
            return super().targets(y, out_shape, dtype)
        if y.ndim != 1:
            raise ValueError(f"CrossEntropy: targets must be integer labels of shape ({m},) or one-hot "
                             f"rows of shape {tuple(out_shape)}; received shape {y.shape}")
        if len(y) != m:
            raise ValueError(f"CrossEntropy: {len(y)} labels for {m} rows of output")
        labels = as_labels(y, k, "CrossEntropy")
        return F.one_hot(labels, k, dtype)

    def prepare(self, A):
        """From logits: (log P, P), log P once and P = e^(log P) from it, so that the
        gradient does not compute the softmax again. From probabilities: A = P."""
        if not self.from_logits:
            return A
        log_P = F.log_softmax(A)
        return log_P, np.exp(log_P)

    def value_from(self, prepared, Y):
        if self.from_logits:
            return F.cross_entropy_from_log_probs(prepared[0], Y)
        return F.cross_entropy(prepared, Y)

    def gradient_from(self, prepared, Y):
        if self.from_logits:
            return F.softmax_cross_entropy_grad(prepared[1], Y)
        return F.cross_entropy_grad(prepared, Y)

    def get_config(self):
        return {"from_logits": self.from_logits}


def as_labels(y, num_classes, owner="labels"):
    """Check that y holds whole-number class labels in [0, num_classes); return them as int64."""
    y = np.asarray(y)
    if y.dtype.kind not in "iuf":
        raise TypeError(f"{owner}: class labels must be integers; received dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{owner}: class labels must be whole numbers; received {int(np.sum(~np.isfinite(y)))} "
                         "NaN or inf values")
    labels = y.astype(np.int64)
    if y.dtype.kind == "f" and np.any(labels != y):
        raise TypeError(f"{owner}: class labels must be whole numbers; received values such as "
                        f"{y[labels != y][0]!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{owner}: labels must lie in [0, {num_classes - 1}] for {num_classes} outputs; "
                         f"received labels from {labels.min()} to {labels.max()}")
    return labels


LOSSES = {"mse": MSE, "huber": Huber, "bce": BinaryCrossEntropy, "binary_cross_entropy": BinaryCrossEntropy,
          "cross_entropy": CrossEntropy, "crossentropy": CrossEntropy, "categorical_cross_entropy": CrossEntropy}

BY_CLASS_NAME = {cls.__name__: cls for cls in (MSE, Huber, BinaryCrossEntropy, CrossEntropy)}


def get(loss):
    """A loss from a Loss object or a name ("mse", "bce", "cross_entropy", "huber")."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss.lower() in LOSSES:
        return LOSSES[loss.lower()]()
    raise ValueError(f"unknown loss {loss!r}; expected a chainrule Loss or one of {sorted(LOSSES)}")
