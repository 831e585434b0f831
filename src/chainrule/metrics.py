"""Metrics: numbers that say how good predictions are (they are not differentiated).

Classification metrics take true labels (m,) or one-hot rows (m, k) and either
predicted labels or the network's output scores (m, k) (the argmax is taken),
or, for one output column, scores thresholded at 0 for logits.
"""

from __future__ import annotations

import numpy as np

from .validation import check_int, check_one_of


def as_label_vector(y):
    """Labels (m,) from labels, one-hot rows or scores (m, k) (the argmax)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return y.reshape(-1).astype(np.int64)


def predicted_labels(out, from_logits=True):
    """Labels from scores: argmax over k columns, or a threshold for one column."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.argmax(out, axis=1)
    threshold = 0.0 if from_logits else 0.5
    return (out.reshape(-1) > threshold).astype(np.int64)


def accuracy(y_true, y_pred):
    """The fraction of samples whose predicted label is the true label."""
    t, p = as_label_vector(y_true), as_label_vector(y_pred)
    return float(np.mean(t == p))


def top_k_accuracy(y_true, scores, k=5):
    """The fraction of samples whose true label is among the k highest scores."""
    check_int(k, "k", "top_k_accuracy", low=1)
    t = as_label_vector(y_true)
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise ValueError(f"top_k_accuracy needs a score per class, shape (m, k) with k >= 2; received {scores.shape}")
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == t[:, None], axis=1)))


def confusion_matrix(y_true, y_pred, num_classes=None):
    """C[i, j] = the number of samples of true class i predicted as class j."""
    t, p = as_label_vector(y_true), as_label_vector(y_pred)
    if num_classes is not None:
        check_int(num_classes, "num_classes", "confusion_matrix", low=1)
    k = num_classes or int(max(t.max(initial=0), p.max(initial=0)) + 1)
    C = np.zeros((k, k), dtype=np.int64)
    np.add.at(C, (t, p), 1)
    return C


def precision_recall_f1(y_true, y_pred, num_classes=None):
    """Macro-averaged precision, recall and F1 (classes never predicted count as precision 0)."""
    C = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(C).astype(np.float64)
    predicted, actual = C.sum(axis=0), C.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (actual > 0) | (predicted > 0)  # as scikit-learn: every class seen in y_true or y_pred
    return float(precision[present].mean()), float(recall[present].mean()), float(f1[present].mean())


def mse(y_true, y_pred):
    d = np.asarray(y_pred, np.float64).reshape(np.shape(y_true)) - np.asarray(y_true, np.float64)
    return float(np.mean(d * d))


def mae(y_true, y_pred):
    d = np.asarray(y_pred, np.float64).reshape(np.shape(y_true)) - np.asarray(y_true, np.float64)
    return float(np.mean(np.abs(d)))


def r2(y_true, y_pred):
    """R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean y)^2 (1 is perfect, 0 is the mean's score)."""
    t = np.asarray(y_true, np.float64)
    p = np.asarray(y_pred, np.float64).reshape(t.shape)
    ss_res = np.sum((t - p) ** 2)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2)
    return float(1 - ss_res / ss_tot) if ss_tot > 0 else float("nan")


CLASSIFICATION = ("accuracy", "top5_accuracy", "precision", "recall", "f1")
REGRESSION = ("mse", "mae", "r2")


def resolve(metrics, loss):
    """The metric names to report: the given ones, or accuracy for classifiers and mae for regression."""
    if metrics is None:
        return ["accuracy"] if loss.task in ("multiclass", "binary") else ["mae"]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for name in metrics:
        if name not in CLASSIFICATION + REGRESSION:
            check_one_of(name, "metrics", "fit", CLASSIFICATION + REGRESSION)
    return metrics


def compute(name, y, out, loss):
    """Metric ``name`` of the network output ``out`` against the targets ``y``."""
    if name in REGRESSION:
        return {"mse": mse, "mae": mae, "r2": r2}[name](y, out)
    pred = predicted_labels(out, getattr(loss, "from_logits", True))
    if name == "accuracy":
        return accuracy(y, pred)
    if name == "top5_accuracy":
        return top_k_accuracy(y, out, k=5)
    p, r, f = precision_recall_f1(y, pred, num_classes=max(out.shape[1], 2))
    return {"precision": p, "recall": r, "f1": f}[name]
