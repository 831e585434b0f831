"""Predictions from a trained network, with NumPy alone: python predict.py rows.csv

Written by chainrule's to_python beside weights.npz, which holds every number of the network.
The network is a stack of layers l = 1 .. L. Layer l takes the activations A[l-1] of the layer
before it (A[0] = X, the input rows, m rows of n features) and computes

    Z[l] = A[l-1] @ W[l] + b[l]        (m, n[l-1]) @ (n[l-1], n[l]) + (n[l],)
    A[l] = g[l](Z[l])                  the activation function, elementwise

and A[L], the last layer's output, is the prediction. That is all of it; the rest is reading
the rows and printing the answers as `chainrule predict` prints them.
"""

import csv
import math
import sys
from pathlib import Path

import numpy as np

WEIGHTS = np.load(Path(__file__).with_name("weights.npz"), allow_pickle=False)


def sigmoid(Z):
    e = np.exp(-np.abs(Z))  # split by sign: exp never overflows
    return np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(Z.dtype, copy=False)


def softmax(Z):
    e = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def erf(x):
    """The error function; in float32 as chainrule computes it: x P(x^2) / Q(x^2), x clipped to [-4, 4]."""
    if x.dtype != np.float32:
        return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)
    x = np.clip(x, -4.0, 4.0)
    t, (p, q) = x * x, ERF32
    P, Q = t * p[0] + p[1], t * q[0] + q[1]
    for c in p[2:]:
        P = P * t + c
    for c in q[2:]:
        Q = Q * t + c
    return P / Q * x


ERF32 = ((-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
          -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02),
         (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
          -1.42647390514189e-02))


def gelu(Z, approximate):
    """Z Phi(Z), Phi the standard normal CDF (or its tanh approximation)."""
    if approximate == "tanh":
        Zc = np.clip(Z, -1e4, 1e4)
        return Z * (0.5 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (Zc + 0.044715 * (Zc * Zc * Zc)))))
    return Z * (0.5 * (1.0 + erf(Z * (1.0 / math.sqrt(2.0)))))


# g(Z), elementwise; k is LeakyReLU's slope or ELU's alpha, stored as k{i} for layer i of the stack
G = {"ReLU": lambda Z, k: np.maximum(Z, 0), "Tanh": lambda Z, k: np.tanh(Z),
     "Sigmoid": lambda Z, k: sigmoid(Z), "Softmax": lambda Z, k: softmax(Z),
     "LeakyReLU": lambda Z, k: np.where(Z > 0, Z, k * Z).astype(Z.dtype, copy=False),
     "ELU": lambda Z, k: np.where(Z > 0, Z, k * np.expm1(np.minimum(Z, 0))).astype(Z.dtype, copy=False),
     "GELU": lambda Z, k: gelu(Z, "none"), "GELU-tanh": lambda Z, k: gelu(Z, "tanh")}


def forward(X):
    """A[0] = X;  Z[l] = A[l-1] @ W[l] + b[l] at each Dense layer;  A[l] = g(Z[l]) after it."""
    A = X
    for i, (kind, l) in enumerate(zip(WEIGHTS["layers"].tolist(), WEIGHTS["numbers"])):
        if kind == "Dense":  # the l-th Dense layer
            A = A @ WEIGHTS[f"W[{l}]"]
            A += WEIGHTS[f"b[{l}]"]
        elif kind == "BatchNorm":  # gamma (Z - mean) / sqrt(var + eps) + beta, the training's statistics at i
            inv_std = 1.0 / np.sqrt(WEIGHTS[f"var{i}"] + float(WEIGHTS[f"eps{i}"]))
            A = WEIGHTS[f"gamma{i}"] * ((A - WEIGHTS[f"mean{i}"]) * inv_std) + WEIGHTS[f"beta{i}"]
        elif kind in G:  # not in G, A stays: Identity, Flatten, Dropout (off when predicting)
            A = G[kind](A, float(WEIGHTS[f"k{i}"]) if f"k{i}" in WEIGHTS else None)
    return A


def read_rows(path):
    """The CSV's rows as floats (a first row with any non-number is a header, and skipped)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if any(cell.strip() for cell in row)]
    try:
        [float(cell) for cell in rows[0]]
    except ValueError:
        rows = rows[1:]
    return np.array([[float(cell) for cell in row] for row in rows]).astype(np.float32)


def main(path):
    X = read_rows(path)
    if "offset" in WEIGHTS:  # the scaler fitted on the training data: x' = (x - offset) / scale
        X = (X - WEIGHTS["offset"].astype(X.dtype)) / WEIGHTS["scale"].astype(X.dtype)
    out = np.concatenate([forward(X[i:i + 1024].astype(str(WEIGHTS["dtype"]))) for i in range(0, len(X), 1024)])
    task, writer = str(WEIGHTS["task"]), csv.writer(sys.stdout, lineterminator="\n")
    ids = range(1, len(X) + 1)  # the row numbers, as the id column
    if task == "regression":
        names = ["prediction"] if out.shape[1] == 1 else [f"prediction{j}" for j in range(out.shape[1])]
        writer.writerow(["id", *names])
        writer.writerows([i, *(f"{v:.6g}" for v in row)] for i, row in zip(ids, out))
        return
    P = out if not WEIGHTS["from_logits"] else softmax(out) if task == "multiclass" else sigmoid(out)
    if task == "binary" and P.shape[1] == 1:
        P = np.concatenate([1 - P, P], axis=1)  # [p(class 0), p(class 1)]
    classes = WEIGHTS["classes"] if "classes" in WEIGHTS else np.arange(P.shape[1])
    yes_no = task == "binary" and out.shape[1] > 1  # independent yes/no outputs: a 0/1 per output
    labels = (P > 0.5).astype(int).tolist() if yes_no else classes[P.argmax(axis=1)].tolist()
    writer.writerow(["id", "label", *(str(c) for c in classes)])
    writer.writerows([i, label, *(f"{p:.6f}" for p in row)] for i, label, row in zip(ids, labels, P))


if __name__ == "__main__":
    main(sys.argv[1])
