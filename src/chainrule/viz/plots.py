"""Plots written as PNG files: training curves, decision boundaries, confusion
matrices, first-layer weights and misclassified examples.

matplotlib is imported here only, lazily, with the Agg backend (no screen needed).
Every function takes plain arrays and a path, writes one PNG and returns the path.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib.pyplot on the Agg backend, or an ImportError that names the extra to install."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError('plots need matplotlib: pip install "chainrule[plot]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)
    return path


def plot_history(history, path, title="training"):
    """Loss (left) and the first metric (right) per epoch, training and validation."""
    plt = pyplot()
    metric = next((k for k in history if k not in ("loss", "lr", "time") and not k.startswith("val_")), None)
    panels = ["loss"] + ([metric] if metric else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, key in zip(axes[0], panels):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], "o-", ms=3, label=f"training {key}")
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], "s-", ms=3, label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
        if key == "loss" and min(history[key]) > 0:
            ax.set_yscale("log")
    fig.suptitle(title)
    return _save(fig, path)


def plot_decision_boundary(predict, X, y, path, title="decision boundary", resolution=300):
    """The class that ``predict`` gives at every point of the plane, with the data points on top."""
    plt = pyplot()
    X, y = np.asarray(X), np.asarray(y).reshape(-1)
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-3
    low, high = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(X.dtype if X.dtype.kind == "f" else np.float64)
    regions = np.asarray(predict(grid)).reshape(gx.shape)
    k = int(max(y.max(), regions.max())) + 1
    cmap = plt.get_cmap("tab10", max(k, 2))
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.contourf(gx, gy, regions, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=max(k, 2) - 0.5, s=12, edgecolors="k",
               linewidths=0.3)
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return _save(fig, path)


def plot_confusion_matrix(C, path, class_names=None, title="confusion matrix"):
    """C[i, j] = samples of true class i predicted as j, with the counts written in the cells."""
    plt = pyplot()
    C = np.asarray(C)
    k = C.shape[0]
    names = class_names or [str(i) for i in range(k)]
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * k, 0.8 + 0.6 * k))
    ax.imshow(C, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if C[i, j] > C.max() / 2 else "black")
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title} (accuracy {np.trace(C) / max(C.sum(), 1):.2%})")
    return _save(fig, path)


def plot_weight_tiles(W, image_shape, path, max_tiles=64, title="first-layer weights"):
    """Each column of W (one hidden unit's input weights) shown as an image of ``image_shape``."""
    plt = pyplot()
    W = np.asarray(W)
    n = min(W.shape[1], max_tiles)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.1 + 0.4), squeeze=False)
    for idx, ax in enumerate(axes.flat):
        ax.axis("off")
        if idx < n:
            tile = W[:, idx].reshape(image_shape)
            limit = np.abs(tile).max() or 1.0
            ax.imshow(tile, cmap="seismic", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    return _save(fig, path)


def plot_misclassified(images, y_true, y_pred, path, class_names=None, max_images=25, title="misclassified"):
    """A grid of the images whose prediction was wrong, labelled 'true -> predicted'."""
    plt = pyplot()
    images, y_true, y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    names = class_names or [str(i) for i in range(int(max(y_true.max(), y_pred.max())) + 1)]
    n = max(len(wrong), 1)
    cols = min(5, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.8 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"{names[y_true[i]]} -> {names[y_pred[i]]}", fontsize=8)
    if not len(wrong):
        axes[0, 0].text(0.5, 0.5, "none", ha="center", va="center")
    fig.suptitle(f"{title} ({int(np.sum(y_true != y_pred))} of {len(y_true)})")
    return _save(fig, path)
