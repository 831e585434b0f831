"""Explain one forward and backward pass, number by number, in the tutorial's notation.

``explain(model, X, y, loss)`` runs the network on a tiny batch and records
every intermediate matrix: Z[l] and A[l] going forward, the cost (with the
softmax probabilities P when the loss takes logits), then dA[l],
dZ[l], dW[l], db[l] going backward, and the update W[l] := W[l] - alpha dW[l].
Each gradient is shown beside its finite-difference estimate. The numbers
are the ones the layers themselves compute (the trace calls their own
forward and backward), so what a learner reads is what the network does.

Layer l of the tutorial is a Dense layer followed by its activation g[l]
(the identity if none follows). The model itself is never changed.
Matrices over WHOLE rows or columns are printed summarised (their first
rows, shape, min and max), and the trace says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from . import functional as F
from . import losses as losses_module
from .gradcheck import numeric_gradient, relative_error
from .layers import Activation, Dense, Dropout, Identity

WHOLE = 8       # matrices up to WHOLE x WHOLE are printed whole
SHOWN_ROWS = 4  # ... larger ones show this many rows (and WHOLE columns), then their shape and range

@dataclass
class Step:
    """One numbered line of the trace: an equation, its shapes, and its matrix (maybe with a check)."""

    name: str            # "Z[1]", "dW[2]", ...
    equation: str        # "Z[1] = A[0] @ W[1] + b[1]"
    shapes: str          # "(2, 3) @ (3, 4) + (4,) -> (2, 4)"
    value: np.ndarray
    numeric: np.ndarray | None = None  # the finite-difference estimate, for gradients
    error: float | None = None         # their relative error


@dataclass
class Explanation:
    notation: list = field(default_factory=list)  # (name, shape, description)
    parameters: list = field(default_factory=list)  # W[l], b[l] and the targets Y before the pass
    forward: list = field(default_factory=list)
    cost_steps: list = field(default_factory=list)  # P = softmax(A[L]) when the loss takes logits
    cost: float = 0.0
    cost_equation: str = ""
    backward: list = field(default_factory=list)
    update: list = field(default_factory=list)
    decimals: int = 4

    def step(self, name):
        """The recorded matrix of a step by name: ``explanation.step("dW[1]").value``."""
        for s in self.parameters + self.forward + self.cost_steps + self.backward + self.update:
            if s.name == name:
                return s
        raise KeyError(f"no step named {name!r}")

    def __str__(self):
        return self.text()

    def summarised(self):
        """A one-line note when some matrix is too big to print whole, else ""."""
        steps = self.parameters + self.forward + self.cost_steps + self.backward + self.update
        if not any(max(np.atleast_2d(s.value).shape) > WHOLE for s in steps):
            return ""
        return (f"Note: matrices over {WHOLE} rows or columns are summarised: their first {SHOWN_ROWS} rows "
                f"and {WHOLE} columns, then their shape, min and max.")

    def text(self, decimals=None):
        """The trace for a terminal: aligned, rounded matrices."""
        d = self.decimals if decimals is None else decimals
        out = ["THE NETWORK"]
        out += [f"  {name:<7} {shape:<10} {desc}" for name, shape, desc in self.notation]
        if self.summarised():
            out += ["", self.summarised(), ""]
        for s in self.parameters:
            out.append(f"  {s.equation}    {s.shapes}")
            out += _matrix_lines(s, d)
        number = 0
        for title, steps in (("FORWARD PASS", self.forward), ("COST", self.cost_steps),
                             ("BACKWARD PASS", self.backward)):
            out += ["", title]
            for s in steps:
                number += 1
                out.append(f"{number:>3}. {s.equation}    {s.shapes}")
                out += _matrix_lines(s, d)
            if title == "COST":
                number += 1
                out.append(f"{number:>3}. {self.cost_equation} = {self.cost:.{d}f}")
        out += ["", "UPDATE (gradient descent)"]
        for s in self.update:
            number += 1
            out.append(f"{number:>3}. {s.equation}    {s.shapes}")
            out += _matrix_lines(s, d)
        return "\n".join(out)

    def markdown(self, decimals=None):
        """The same trace as Markdown: a section per pass, each matrix in a code block."""
        d = self.decimals if decimals is None else decimals
        out = ["## The network", "", "| symbol | shape | meaning |", "| --- | --- | --- |"]
        out += [f"| `{name}` | `{shape}` | {desc} |" for name, shape, desc in self.notation]
        if self.summarised():
            out += ["", self.summarised()]
        sections = [("## The numbers before the pass", self.parameters), ("## Forward pass", self.forward),
                    ("## Cost", self.cost_steps), ("## Backward pass", self.backward),
                    ("## Update (gradient descent)", self.update)]
        for title, steps in sections:
            out += ["", title, ""]
            for s in steps:
                out += [f"**`{s.equation}`** — shapes `{s.shapes}`", "", "```"]
                out += [line.strip("\n") for line in _matrix_lines(s, d)]
                out += ["```", ""]
            if title == "## Cost":
                out += [f"`{self.cost_equation} = {self.cost:.{d}f}`"]
        return "\n".join(out)


def format_matrix(M, d):
    """A matrix as aligned rows; one over WHOLE rows or columns as its corner, then its shape and range."""
    shape = np.shape(M)
    M = np.atleast_2d(M)
    rows, cols = M.shape
    big = max(rows, cols) > WHOLE
    shown = M[:SHOWN_ROWS, :WHOLE] if big else M
    cells = [[f"{v:.{d}f}" for v in row] for row in shown]
    width = max(len(c) for row in cells for c in row)
    more = " ..." if cols > shown.shape[1] else ""
    lines = ["[" + " ".join(c.rjust(width) for c in row) + more + "]" for row in cells]
    if big:
        hidden = rows - shown.shape[0]
        if hidden:
            lines.append(f"... {_count(hidden, 'more row')}")
        lines.append(f"(shape {shape}: min {M.min():.{d}f}, max {M.max():.{d}f})")
    return lines


def _matrix_lines(step, d):
    left = format_matrix(step.value, d)
    if step.numeric is None:
        return ["     " + line for line in left]
    right = format_matrix(step.numeric, d)
    pad = max(len(line) for line in left)
    lines = [f"     {'backprop'.ljust(pad)}   finite differences (relative error {step.error:.1e})"]
    lines += [f"     {a.ljust(pad)}   {b}" for a, b in zip(left, right)]
    return lines


def _blocks(model):
    """Group the layers as tutorial layers: (Dense, its activation or Identity)."""
    blocks, i = [], 0
    layers = [layer for layer in model.layers if not isinstance(layer, Dropout)]  # the identity when not training
    while i < len(layers):
        layer = layers[i]
        if not isinstance(layer, (Dense, Activation)):
            raise ValueError(f"explain shows Dense and activation layers; layer {i} is {type(layer).__name__}")
        if not isinstance(layer, Dense):
            raise ValueError(f"explain expects each activation to follow a Dense layer; layer {i} is "
                             f"{type(layer).__name__} after {type(layers[i - 1]).__name__ if i else 'nothing'}")
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if nxt is not None and not isinstance(nxt, Dense):
            if not isinstance(nxt, Activation):
                raise ValueError(f"explain shows Dense and activation layers; layer {i + 1} is {type(nxt).__name__}")
            blocks.append((layer, nxt))
            i += 2
        else:
            blocks.append((layer, Identity()))
            i += 1
    return blocks


def numbered(equation, l):
    """An equation of a layer in the tutorial's numbering: "dZ = dA * g'(Z)" -> "dZ[2] = dA[2] * g'(Z[2])"."""
    return re.sub(r"\b(dZ|dA|Z|A)\b(?!\[)", rf"\1[{l}]", equation)


def _cost_formula(loss, L):
    """The cost written out, as the tutorial writes it."""
    A = f"A[{L}]"
    if isinstance(loss, losses_module.CrossEntropy):
        return f"-(1/m) sum(Y * log {'P' if loss.from_logits else A})"
    if isinstance(loss, losses_module.BinaryCrossEntropy):
        p = f"sigmoid({A})" if loss.from_logits else A
        return f"-(1/(m n)) sum(Y * log {p} + (1 - Y) * log(1 - {p}))"
    if isinstance(loss, losses_module.MSE):
        return f"(1/(m n)) sum(({A} - Y)^2)"
    return f"mean over the entries of {type(loss).__name__.lower()}({A} - Y)"


def _count(n, word):
    """ "1 sample", "2 samples": the trace reads as English."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def explain(model, X, y, loss="cross_entropy", lr=0.1, decimals=4, h=1e-6):
    """Trace one forward and backward pass of ``model`` on (X, y); return an Explanation.

    Works on a float64 copy of the model, so the model is never changed.
    """
    loss = losses_module.get(loss)
    model = model.copy("float64")
    X = np.array(X, dtype=np.float64)
    if X.ndim != 2 or len(X) > 16:
        raise ValueError(f"explain wants a tiny batch: X of shape (m, n) with m <= 16; received shape {X.shape}")
    blocks = _blocks(model)
    L = len(blocks)
    ex = Explanation(decimals=decimals)
    ex.notation.append(("A[0]", str(X.shape), f"the input X: {_count(X.shape[0], 'sample')} (one per row) of "
                        f"{_count(X.shape[1], 'feature')}"))
    for l, (dense, g) in enumerate(blocks, start=1):
        ex.notation.append((f"W[{l}]", str(dense.W.shape), f"weights of layer {l}: n[{l - 1}] = "
                            f"{_count(dense.n_in, 'input')} to n[{l}] = {_count(dense.n_out, 'neuron')}"))
        ex.notation.append((f"b[{l}]", str(dense.b.shape), f"biases of layer {l}"))
        ex.notation.append((f"g[{l}]", type(g).__name__.lower(), f"the activation of layer {l}"))

    ex.parameters.append(Step("A[0]", "A[0] = X =", str(X.shape), X.copy()))
    for l, (dense, _) in enumerate(blocks, start=1):
        ex.parameters.append(Step(f"W[{l}]", f"W[{l}] =", str(dense.W.shape), dense.W.copy()))
        ex.parameters.append(Step(f"b[{l}]", f"b[{l}] =", str(dense.b.shape), dense.b.copy()))

    # forward, through the layers' own code
    A = {0: X}
    Z = {}
    for l, (dense, g) in enumerate(blocks, start=1):
        Z[l] = dense.forward(A[l - 1])
        m, n_prev, n = A[l - 1].shape[0], dense.n_in, dense.n_out
        ex.forward.append(Step(f"Z[{l}]", f"Z[{l}] = A[{l - 1}] @ W[{l}] + b[{l}]",
                               f"({m}, {n_prev}) @ ({n_prev}, {n}) + ({n},) -> ({m}, {n})", Z[l].copy()))
        A[l] = g.forward(Z[l])
        ex.forward.append(Step(f"A[{l}]", f"A[{l}] = {type(g).__name__.lower()}(Z[{l}])", f"({m}, {n})", A[l].copy()))
    ex.cost = loss.forward(A[L], y) + model.penalty()
    fused = isinstance(loss, losses_module.CrossEntropy) and loss.from_logits
    ex.parameters.append(Step("Y", "Y = the targets" + (" (one-hot)" if fused else ""), str(loss.Y.shape), loss.Y.copy()))
    if fused:  # the probabilities the cost and dA[L] are made of
        m, k = A[L].shape
        ex.cost_steps.append(Step("P", f"P = softmax(A[{L}])  (each row: the probabilities of the classes)",
                                  f"({m}, {k})", F.softmax(A[L])))
    ex.cost_equation = f"C = {type(loss).__name__}(A[{L}], Y) = {_cost_formula(loss, L)}"
    if model.penalty():
        ex.cost_equation += " + the weight penalty"

    def cost():
        out = X
        for dense, g in blocks:
            out = g.forward(dense.forward(out))
        return loss.forward(out, y) + model.penalty()

    # backward, through the layers' own code
    dA = loss.backward()
    for l in range(L, 0, -1):
        dense, g = blocks[l - 1]
        m, n = dA.shape
        how = {"CrossEntropy": "(P - Y) / m" if fused else "-Y / (A m)",
               "MSE": "2 (A - Y) / (m n)", "BinaryCrossEntropy": "(sigmoid(A) - Y) / (m n)" if
               getattr(loss, "from_logits", False) else "(A - Y) / (A (1 - A) m n)", "Huber": "clip(A - Y) / (m n)"}
        if l == L:
            ex.backward.append(Step(f"dA[{l}]", f"dA[{l}] = dC/dA[{l}] = {numbered(how.get(type(loss).__name__, 'dC/dA'), l)}",
                                    f"({m}, {n})", dA.copy()))
        dZ = g.backward(dA)
        ex.backward.append(Step(f"dZ[{l}]", numbered(g.backward_equation, l),
                                f"({m}, {n}) * ({m}, {n})", dZ.copy()))
        dA_prev = dense.backward(dZ)
        for name, eq, shapes in (
            ("W", f"dW[{l}] = A[{l - 1}].T @ dZ[{l}]", f"({dense.n_in}, {m}) @ ({m}, {n}) -> ({dense.n_in}, {n})"),
            ("b", f"db[{l}] = sum over the rows of dZ[{l}]", f"({m}, {n}) -> ({n},)"),
        ):
            analytic = getattr(dense, "d" + name).copy()
            ex.backward.append(Step(f"d{name}[{l}]", eq, shapes, analytic))
        if l > 1:
            ex.backward.append(Step(f"dA[{l - 1}]", f"dA[{l - 1}] = dZ[{l}] @ W[{l}].T",
                                    f"({m}, {n}) @ ({n}, {dense.n_in}) -> ({m}, {dense.n_in})", dA_prev.copy()))
        dA = dA_prev

    # finite differences for every dW, db (after the backward pass, which they would disturb)
    for l, (dense, _) in enumerate(blocks, start=1):
        for name in ("W", "b"):
            step = ex.step(f"d{name}[{l}]")
            step.numeric = numeric_gradient(cost, getattr(dense, name), h)
            step.error = relative_error(step.value, step.numeric)

    for l, (dense, _) in enumerate(blocks, start=1):
        for name in ("W", "b"):
            new = getattr(dense, name) - lr * ex.step(f"d{name}[{l}]").value
            shape = getattr(dense, name).shape
            ex.update.append(Step(f"{name}[{l}] new", f"{name}[{l}] := {name}[{l}] - alpha d{name}[{l}],  alpha = {lr:g}",
                                  f"{shape}", new))
    return ex
