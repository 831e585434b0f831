"""Pictures for the tutorial path: the perceptron's line moving as it learns,
the cost surface of one neuron with the gradient-descent path, and a network diagram.

Like plots.py, matplotlib is imported lazily (the ``plot`` extra), each picture is its
own Figure (no pyplot, nothing global changes), and each function writes one PNG and
returns its path, or returns the Figure when ``path`` is None.
"""

from __future__ import annotations

import numpy as np

from .plots import colormap, figure, finish


def plot_perceptron_lines(X, y, history, path=None, title="the perceptron learning"):
    """The data and the decision line w . x + b = 0 after each epoch (light: early, dark: late).

    ``history`` is a Perceptron's ``history_`` (``{"w": ..., "b": ..., "mistakes": ...}``) or a
    list of (w, b) pairs, one per epoch. Epochs that left the line where it was share one
    legend entry, lines outside the plotted area are marked so, and the side of the last
    line where the perceptron says class 1 (w . x + b > 0) is shaded.
    """
    X, y = np.asarray(X), np.asarray(y)
    mistakes = None
    if isinstance(history, dict):
        mistakes = history.get("mistakes")
        history = list(zip(history["w"], history["b"]))
    history = [(np.asarray(w, dtype=float), float(b)) for w, b in history]
    fig = figure(figsize=(7.5, 5.5))
    ax = fig.subplots()
    pad = 0.5
    x_low, x_high = X[:, 0].min() - pad, X[:, 0].max() + pad
    y_low, y_high = X[:, 1].min() - pad, X[:, 1].max() + pad
    xs = np.linspace(x_low, x_high, 50)
    if history:
        w, b = history[-1]
        gx, gy = np.meshgrid(np.linspace(x_low, x_high, 200), np.linspace(y_low, y_high, 200))
        ax.contourf(gx, gy, (w[0] * gx + w[1] * gy + b > 0).astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=["white", "#ffd9b3"], alpha=0.6, zorder=0)
    colors = colormap("viridis")(np.linspace(0.15, 0.95, max(len(history), 1)))
    epoch = 0
    while epoch < len(history):
        w, b = history[epoch]
        last = epoch  # the epochs after this one that did not move the line share its entry
        while last + 1 < len(history) and np.array_equal(history[last + 1][0], w) and history[last + 1][1] == b:
            last += 1
        label = f"epoch {epoch + 1}" if last == epoch else f"epochs {epoch + 1}-{last + 1}"
        if mistakes is not None:
            counts = [int(mistakes[e]) for e in range(epoch, last + 1)]
            label += ": " + ", ".join(map(str, counts)) + (" mistake" if counts == [1] else " mistakes")
        final = last == len(history) - 1
        style = dict(color=colors[last], lw=3 if final else 1.5, ls="-" if final else "--")
        corners = np.array([[x_low, y_low], [x_low, y_high], [x_high, y_low], [x_high, y_high]])
        scores = corners @ w + b
        if not (scores.min() < 0 < scores.max()) and np.any(w):
            label += " (outside the view)"
        if abs(w[1]) > 1e-12:
            ax.plot(xs, -(w[0] * xs + b) / w[1], label=label, **style)
        elif abs(w[0]) > 1e-12:
            ax.axvline(-b / w[0], label=label, **style)
        else:
            ax.plot([], [], label=label + " (w = 0: no line)", **style)
        epoch = last + 1
    for label, marker in ((0, "o"), (1, "s")):
        pts = X[y == label]
        ax.scatter(pts[:, 0], pts[:, 1], marker=marker, s=80, edgecolors="k", label=f"class {label}", zorder=3)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(y_low, y_high)
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if history:
        from matplotlib.patches import Rectangle  # matplotlib is there: figure() needed it

        handles.append(Rectangle((0, 0), 1, 1, color="#ffd9b3", alpha=0.6))
        labels.append("last line says class 1")
    ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return finish(fig, path)


def plot_cost_surface(cost, path_wb, path=None, span=None, title="cost surface of one neuron"):
    """Contours of cost(w, b) with the gradient-descent path (w, b) drawn on top.

    ``cost(w, b)`` returns the cost for scalar w and b; ``path_wb`` is the list of
    (w, b) pairs visited.
    """
    path_wb = np.asarray(path_wb, dtype=float)
    low, high = path_wb.min(axis=0), path_wb.max(axis=0)
    margin = np.maximum((high - low) * 0.3, 1.0) if span is None else np.asarray(span)
    ws = np.linspace(low[0] - margin[0], high[0] + margin[0], 120)
    bs = np.linspace(low[1] - margin[1], high[1] + margin[1], 120)
    C = np.array([[cost(w, b) for w in ws] for b in bs])
    fig = figure(figsize=(6.5, 5.5))
    ax = fig.subplots()
    levels = np.quantile(C, np.linspace(0, 1, 25))
    contour = ax.contourf(ws, bs, C, levels=np.unique(levels), cmap="viridis")
    fig.colorbar(contour, ax=ax, label="cost")
    ax.plot(path_wb[:, 0], path_wb[:, 1], "w.-", ms=3, lw=1, label="gradient descent")
    ax.plot(*path_wb[0], "wo", ms=8, label="start")
    ax.plot(*path_wb[-1], "r*", ms=14, label="end")
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    ax.set_title(title)
    ax.legend(loc="upper right")
    return finish(fig, path)


def plot_network(sizes, path=None, activations=None, title=None, max_drawn=10):
    """A diagram of a layered network: circles for neurons, lines for the weights W[l].

    Layers wider than ``max_drawn`` are drawn with their first and last
    neurons and a gap; each column is labelled n[l] and, below, W[l] with its shape.
    """
    L = len(sizes) - 1
    fig = figure(figsize=(2.2 * (L + 1) + 1, 5))
    ax = fig.subplots()
    columns = []
    for l, n in enumerate(sizes):
        drawn = min(n, max_drawn)
        slots = np.linspace(1, -1, drawn + (n > max_drawn)) * min(1.0, drawn / 8 + 0.2)
        gap = slots[drawn // 2] if n > max_drawn else None
        ys = np.delete(slots, drawn // 2) if n > max_drawn else slots  # a gap in the middle of a wide layer
        columns.append(ys)
        color = "#8ecae6" if l == 0 else ("#ffb703" if l == L else "#90be6d")
        ax.scatter(np.full(len(ys), l), ys, s=260, c=color, edgecolors="k", zorder=3)
        if gap is not None:
            ax.text(l, gap, "...", ha="center", va="center", fontsize=14, rotation=90, zorder=4)
        name = "input" if l == 0 else ("output" if l == L else "hidden")
        label = f"A[{l}]\n{name}\nn[{l}] = {n}"
        if l and activations:
            label += f"\ng[{l}] = {activations[l - 1]}"
        ax.text(l, 2.0, label, ha="center", va="top", fontsize=9)  # tops aligned: labels differ in lines
    for l in range(L):
        for y0 in columns[l]:
            for y1 in columns[l + 1]:
                ax.plot([l, l + 1], [y0, y1], color="gray", lw=0.4, alpha=0.6, zorder=1)
        ax.text(l + 0.5, -1.45, f"W[{l + 1}]: ({sizes[l]}, {sizes[l + 1]})\nb[{l + 1}]: ({sizes[l + 1]},)",
                ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.6, L + 0.6)
    ax.set_ylim(-2.0, 2.1)
    ax.axis("off")
    ax.set_title(title or "network " + "-".join(map(str, sizes)))
    return finish(fig, path)
