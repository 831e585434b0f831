"""The task a target column asks for, and labels of any kind mapped to class indices."""

from __future__ import annotations

import numpy as np

from ..validation import check_one_of

#: whole-number targets with at most this many distinct values are read as classes
MAX_CLASSES = 50

TASKS = ("auto", "classification", "regression")


def whole_numbers(y):
    """Are all the numbers of y whole (and finite)? Then, as labels, they are classes, kept as int64."""
    return bool(np.all(np.isfinite(y) & (y == np.round(y))))


def decide_task(y, task="auto"):
    """("classification" | "regression", the reason in words) for targets ``y``.

    auto: text labels, or whole numbers with at most 50 distinct values, are
    classes; anything else (real numbers, many whole numbers, several columns)
    is regression. An explicit ``task`` is checked against the targets.
    """
    check_one_of(task, "task", "decide_task", TASKS)
    y = np.asarray(y)
    text = y.dtype.kind in "USO"
    if task == "regression":
        if text:
            raise ValueError(f"task='regression' needs numeric targets; received text labels such as {y.flat[0]!r}")
        return task, "asked for (--task regression)"
    if y.ndim != 1:
        if task == "classification":
            raise ValueError(f"task='classification' needs one label column; received targets of shape {y.shape}")
        return "regression", f"the targets have {y.shape[1]} columns"
    if text:
        return "classification", f"the labels are text ({len(np.unique(y))} distinct)"
    whole = whole_numbers(y)
    if task == "classification":
        if not whole:
            raise ValueError("task='classification' needs whole-number or text labels; "
                             f"received {y[y != np.round(y)][0]!r}")
        return task, "asked for (--task classification)"
    distinct = len(np.unique(y))
    if not whole:
        return "regression", "the targets are real numbers"
    if distinct > MAX_CLASSES:
        return "regression", (f"the targets are whole numbers with {distinct} distinct values "
                              f"(more than {MAX_CLASSES}); pass --task classification to treat them as classes")
    return "classification", (f"the targets are whole numbers with {distinct} distinct values "
                              f"(at most {MAX_CLASSES}); pass --task regression to predict numbers")


def encode_labels(y):
    """(indices, classes): labels of any kind (text, -1/+1, {3, 7, 9}) as class indices 0..k-1
    in sorted order of the labels, so that ``classes[indices] == y``."""
    y = np.asarray(y)
    if y.dtype.kind in "f":
        y = y.astype(np.int64)
    classes, indices = np.unique(y, return_inverse=True)
    return indices.astype(np.int64), classes
