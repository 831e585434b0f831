"""Plots: training curves, decision boundaries, confusion matrices, first-layer
weights and misclassified examples.

matplotlib (the ``plot`` extra) is imported here only, lazily. Every picture is
its own ``matplotlib.figure.Figure``: no pyplot, no ``matplotlib.use``, so
nothing global changes and a notebook's inline backend keeps working.

Every function takes plain arrays and a ``path``: given a path, it writes one
PNG there (making the folders) and returns the path; with ``path=None`` it
returns the Figure instead, which a notebook displays and ``fig.savefig`` saves.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

MISSING = 'plots need matplotlib: pip install "chainrule[plot]"'


def require_matplotlib():
    """The matplotlib module, or an ImportError that names the extra to install."""
    try:
        import matplotlib
        import matplotlib.figure
        import matplotlib.lines
        import matplotlib.ticker
    except ImportError:
        raise ImportError(MISSING) from None
    return matplotlib


def figure(**kwargs):
    """A new Figure, outside pyplot's registry (kwargs: figsize, ...)."""
    return require_matplotlib().figure.Figure(**kwargs)


def colormap(name, n=None):
    """The registered colormap ``name``, resampled to ``n`` colours if given."""
    cmap = require_matplotlib().colormaps[name]
    return cmap if n is None else cmap.resampled(n)


def finish(fig, path):
    """The Figure itself when path is None, else the PNG written at path (Agg renders it, no screen needed)."""
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def plot_history(history, path=None, title="training"):
    """Loss (left) and the first metric (right) per epoch, training and validation."""
    metric = next((k for k in history if k not in ("loss", "lr", "time") and not k.startswith("val_")), None)
    panels = ["loss"] + ([metric] if metric else [])
    fig = figure(figsize=(5.5 * len(panels), 4))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, key in zip(axes[0], panels):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], "o-", ms=3, label=f"training {key}")
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], "s-", ms=3, label=f"validation {key}")
        ax.xaxis.set_major_locator(require_matplotlib().ticker.MaxNLocator(integer=True))  # no epoch 2.5
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
        if key == "loss" and min(history[key]) > 0:
            ax.set_yscale("log")
    fig.suptitle(title)
    return finish(fig, path)


def plot_decision_boundary(predict, X, y, path=None, title="decision boundary", resolution=300, class_names=None):
    """The class that ``predict`` gives at every point of the plane, with the data points on top
    and a legend naming each class's colour (``class_names``, else "class 0", "class 1", ...)."""
    X, y = np.asarray(X), np.asarray(y).reshape(-1)
    pad = 0.1 * (X.max(axis=0) - X.min(axis=0)) + 1e-3
    low, high = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(X.dtype if X.dtype.kind == "f" else np.float64)
    regions = np.asarray(predict(grid)).reshape(gx.shape)
    k = int(max(y.max(), regions.max())) + 1
    cmap = colormap("tab10", max(k, 2))
    fig = figure(figsize=(6, 6))
    ax = fig.subplots()
    ax.contourf(gx, gy, regions, levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=max(k, 2) - 0.5, s=12, edgecolors="k",
               linewidths=0.3)
    names = class_names or [f"class {c}" for c in range(k)]
    marker = require_matplotlib().lines.Line2D
    handles = [marker([], [], marker="o", linestyle="", color=cmap(c), markeredgecolor="k", markeredgewidth=0.3,
                      label=names[c]) for c in range(k)]
    ax.legend(handles=handles, loc="best", framealpha=0.8, fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return finish(fig, path)


def plot_confusion_matrix(C, path=None, class_names=None, title="confusion matrix"):
    """C[i, j] = samples of true class i predicted as j, with the counts written in the cells."""
    C = np.asarray(C)
    k = C.shape[0]
    names = class_names or [str(i) for i in range(k)]
    fig = figure(figsize=(1.0 + 0.6 * k, 0.8 + 0.6 * k))
    ax = fig.subplots()
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
    return finish(fig, path)


def plot_weight_tiles(W, image_shape, path=None, max_tiles=64, title="first-layer weights"):
    """Each column of W (one hidden unit's input weights) shown as an image of ``image_shape``, every
    tile on one colour scale (red positive, blue negative) read off the colour bar."""
    W = np.asarray(W)
    n = min(W.shape[1], max_tiles)
    limit = float(np.abs(W[:, :n]).max()) or 1.0  # one scale for all tiles, so tiles compare
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    fig = figure(figsize=(cols * 1.1, rows * 1.1 + 0.4))
    axes = fig.subplots(rows, cols, squeeze=False)
    for idx, ax in enumerate(axes.flat):
        ax.axis("off")
        if idx < n:
            image = ax.imshow(W[:, idx].reshape(image_shape), cmap="seismic", vmin=-limit, vmax=limit)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, pad=0.03)
    bar.set_label("weight")
    fig.suptitle(title)
    return finish(fig, path)


def plot_misclassified(images, y_true, y_pred, path=None, class_names=None, max_images=25, title="misclassified"):
    """A grid of the images whose prediction was wrong, each captioned 'true -> predicted' (the title says so)."""
    images, y_true, y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    names = class_names or [str(i) for i in range(int(max(y_true.max(), y_pred.max())) + 1)]
    n = max(len(wrong), 1)
    cols = min(5, n)
    rows = math.ceil(n / cols)
    fig = figure(figsize=(cols * 1.6, rows * 1.8 + 0.4), layout="constrained")  # room for two-line captions
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i], cmap="gray_r")
        caption = f"{names[y_true[i]]} -> {names[y_pred[i]]}"
        if len(caption) > 18:  # a long pair on two lines, so neighbouring captions do not run together
            caption = f"{names[y_true[i]]} ->\n{names[y_pred[i]]}"
        ax.set_title(caption, fontsize=8)
    if not len(wrong):
        axes[0, 0].text(0.5, 0.5, "none", ha="center", va="center")
    key = "\neach caption: true class -> predicted class" if len(wrong) else ""
    fig.suptitle(f"{title} ({int(np.sum(y_true != y_pred))} of {len(y_true)}){key}", fontsize=10)
    return finish(fig, path)
