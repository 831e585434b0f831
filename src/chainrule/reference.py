"""The network with loops: one sample i at a time, one neuron j, k at a time.

This is backpropagation as it is first derived, with indices and no
matrices. Only Python floats and the ``math`` module are used. For one sample
with input a[0] = x, forward through each layer::

    Dense:       z_k = b_k + sum_j a_j W[j][k]
    activation:  a_k = g(z_k)

and backward, from da = dC_i/da[L] (sample i's share of the cost)::

    activation:  dz_k = da_k g'(z_k)
    Dense:       dW[j][k] += a_j dz_k      (summed over the samples i)
                 db_k     += dz_k
                 da_j      = sum_k W[j][k] dz_k

Stack the samples as rows and each line becomes one matrix expression:
the sum over i of a_j dz_k is (A_prev.T @ dZ)[j, k], the sum over k of
W[j][k] dz_k is (dZ @ W.T)[i, j]. ``loop_gradients`` gives the same numbers
as ``model.backward``, to rounding; ``vectorization_speedup`` shows what the
matrices buy.

Supported: a ``Sequential`` of Dense, Tanh, ReLU, Sigmoid and Identity layers,
with the losses MSE, CrossEntropy and BinaryCrossEntropy (logits or
probabilities). L1/L2 penalties of Dense layers are included, as in
``model.backward``.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from . import losses as losses_module
from .layers import Dense, Identity, ReLU, Sigmoid, Tanh, layer_numbers
from .validation import is_whole

SUPPORTED_LAYERS = (Dense, Tanh, ReLU, Sigmoid, Identity)
SUPPORTED_LOSSES = (losses_module.MSE, losses_module.CrossEntropy, losses_module.BinaryCrossEntropy)
TINY = sys.float_info.min  # float64's smallest normal number: the floor of p in log p


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^-z), split by sign so that exp never overflows."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _layers(model):
    """The layers as plain Python data: ("dense", W, b, l1, l2) with W, b nested lists of floats, or (name,)."""
    specs = []
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Dense):
            specs.append(("dense", layer.W.tolist(), layer.b.tolist(), layer.l1, layer.l2))
        elif isinstance(layer, SUPPORTED_LAYERS):
            specs.append((type(layer).__name__.lower(),))
        else:
            raise TypeError(f"the loop reference supports the layers {[c.__name__ for c in SUPPORTED_LAYERS]}; "
                            f"model.layers[{i}] is {type(layer).__name__}")
    return specs


def _rows(model, X):
    return model.check_input(X).astype(np.float64).tolist()


def forward_one(specs, x):
    """One sample through the network. Returns its output a[L] and, per layer, what backward needs:
    the input a for a Dense layer, z for ReLU, the output a for Tanh and Sigmoid."""
    a, cache = list(x), []
    for spec in specs:
        kind = spec[0]
        if kind == "dense":
            W, b = spec[1], spec[2]
            cache.append(a)
            z = []
            for k in range(len(b)):
                s = b[k]
                for j in range(len(a)):
                    s += a[j] * W[j][k]
                z.append(s)
            a = z
        elif kind == "tanh":
            a = [math.tanh(z) for z in a]
            cache.append(a)
        elif kind == "sigmoid":
            a = [sigmoid(z) for z in a]
            cache.append(a)
        elif kind == "relu":
            cache.append(a)
            a = [z if z > 0 else 0.0 for z in a]
        else:  # identity
            cache.append(None)
    return a, cache


def loop_forward(model, X):
    """The network's output for every row of X, computed with loops: an array (m, n_outputs)."""
    specs = _layers(model)
    return np.array([forward_one(specs, x)[0] for x in _rows(model, X)], dtype=np.float64)


def loss_one(loss, a, y, m, k):
    """Sample i's share of the cost, C_i, and da = dC_i/da[L], for output a and target row y.

    The cost is a mean: over the m samples for the cross-entropy, over all
    n = m k outputs for MSE and the binary cross-entropy.
    """
    n = m * k
    if isinstance(loss, losses_module.MSE):  # C_i = sum_k (a_k - y_k)^2 / n
        cost = sum((a[j] - y[j]) ** 2 for j in range(k)) / n
        return cost, [2.0 * (a[j] - y[j]) / n for j in range(k)]
    if isinstance(loss, losses_module.CrossEntropy):
        if loss.from_logits:  # log p_j = z_j - logsumexp(z);  dz_j = (p_j - y_j) / m
            c = max(a)
            lse = c + math.log(sum(math.exp(z - c) for z in a))
            cost = -sum(y[j] * (a[j] - lse) for j in range(k)) / m
            return cost, [(math.exp(a[j] - lse) - y[j]) / m for j in range(k)]
        cost = -sum(y[j] * math.log(max(a[j], TINY)) for j in range(k)) / m  # on probabilities
        return cost, [-y[j] / max(a[j], TINY) / m for j in range(k)]
    if loss.from_logits:  # BCE: C_i = sum_k [max(z, 0) - z y + log(1 + e^-|z|)] / n;  dz = (sigma(z) - y) / n
        cost = sum(max(a[j], 0.0) - a[j] * y[j] + math.log1p(math.exp(-abs(a[j]))) for j in range(k)) / n
        return cost, [(sigmoid(a[j]) - y[j]) / n for j in range(k)]
    cost, da = 0.0, []  # BCE on probabilities, logs clamped at -100 as PyTorch
    for j in range(k):
        p = a[j]
        log_p = max(math.log(p), -100.0) if p > 0 else -100.0
        log_1mp = max(math.log1p(-p), -100.0) if p < 1 else -100.0
        cost -= (y[j] * log_p + (1.0 - y[j]) * log_1mp) / n
        da.append((p - y[j]) / max(p * (1.0 - p), 1e-12) / n)
    return cost, da


def backward_one(specs, cache, da, dW, db, need_input_grad=False):
    """Backpropagate sample i's da through the layers, adding its share to dW and db (nested lists)."""
    for l in range(len(specs) - 1, -1, -1):
        kind = specs[l][0]
        if kind == "dense":
            W, a_prev, dz = specs[l][1], cache[l], da
            for j in range(len(a_prev)):
                for k in range(len(dz)):
                    dW[l][j][k] += a_prev[j] * dz[k]
            for k in range(len(dz)):
                db[l][k] += dz[k]
            if l == 0 and not need_input_grad:
                return None
            da = []
            for j in range(len(a_prev)):
                s = 0.0
                for k in range(len(dz)):
                    s += W[j][k] * dz[k]
                da.append(s)
        elif kind == "tanh":  # g'(z) = 1 - a^2
            da = [da[j] * (1.0 - a * a) for j, a in enumerate(cache[l])]
        elif kind == "sigmoid":  # g'(z) = a (1 - a)
            da = [da[j] * a * (1.0 - a) for j, a in enumerate(cache[l])]
        elif kind == "relu":  # g'(z) = [z > 0]
            da = [da[j] if z > 0 else 0.0 for j, z in enumerate(cache[l])]
    return da


def loop_gradients(model, X, y, loss):
    """The cost and every parameter's gradient, with loops over samples and neurons.

    Returns ``(cost, {"layer0.W": dW, "layer0.b": db, ...})``, the arrays
    shaped like W (n_in, n_out) and b (n_out,) and in float64: the same as
    ``loss.forward`` + ``model.penalty()`` and the dW, db that ``model.backward``
    fills, to rounding. The model is not changed.
    """
    loss = losses_module.get(loss)
    if not isinstance(loss, SUPPORTED_LOSSES):
        raise TypeError(f"the loop reference supports the losses {[c.__name__ for c in SUPPORTED_LOSSES]}; "
                        f"received {type(loss).__name__}")
    specs = _layers(model)
    rows = _rows(model, X)
    m, k = len(rows), model.n_outputs
    Y = loss.targets(y, (m, k), np.float64).tolist()
    dW = {l: [[0.0] * len(s[1][0]) for _ in s[1]] for l, s in enumerate(specs) if s[0] == "dense"}
    db = {l: [0.0] * len(s[2]) for l, s in enumerate(specs) if s[0] == "dense"}
    cost = 0.0
    for i in range(m):
        a, cache = forward_one(specs, rows[i])
        cost_i, da = loss_one(loss, a, Y[i], m, k)
        cost += cost_i
        backward_one(specs, cache, da, dW, db)
    grads = {}
    for l, spec in enumerate(specs):
        if spec[0] != "dense":
            continue
        W, l1, l2 = spec[1], spec[3], spec[4]
        for j in range(len(W)):
            for k_ in range(len(W[j])):
                w = W[j][k_]
                if l2:  # C += l2 w^2;  dW += 2 l2 w
                    cost += l2 * w * w
                    dW[l][j][k_] += 2.0 * l2 * w
                if l1:  # C += l1 |w|;  dW += l1 sign(w)
                    cost += l1 * abs(w)
                    dW[l][j][k_] += l1 * ((w > 0) - (w < 0))
        number = layer_numbers(model.layers)[l]
        grads[f"W[{number}]"] = np.array(dW[l], dtype=np.float64).reshape(model.layers[l].W.shape)
        grads[f"b[{number}]"] = np.array(db[l], dtype=np.float64)
    return cost, grads


def vectorised_gradients(model, X, y, loss):
    """The same as ``loop_gradients`` with the model's own matrix passes (forward, loss, backward)."""
    loss = losses_module.get(loss)
    cost = loss.forward(model.forward(X), y) + model.penalty()
    model.backward(loss.backward(), need_input_grad=False)
    grads = {label: getattr(layer, "d" + name).astype(np.float64)  # a copy
             for label, layer, name in model.parameter_names()}
    return cost, grads


def vectorization_speedup(sizes=(64, 32, 10), m=64, repeats=3, rng=0):
    """Time the loops against the matrices on one batch; the same gradients, how much faster.

    Builds Dense(sizes[0], sizes[1]), Tanh(), ..., Dense(sizes[-2], sizes[-1])
    in float64 with a cross-entropy on random labels and m random rows, and
    returns ``{"loop_seconds", "vectorised_seconds", "speedup",
    "max_abs_difference"}``: the best of ``repeats`` timings of one full
    gradient computation each way, their ratio, and the largest difference
    between the two costs and gradients.
    """
    from .init import as_generator
    from .model import Sequential

    sizes = tuple(sizes)
    if len(sizes) < 2 or not all(is_whole(s, 1) for s in sizes):
        raise ValueError(f"vectorization_speedup: sizes must be two or more positive integers (n_in, ..., n_out); "
                         f"received {sizes!r}")
    for name, value in (("m", m), ("repeats", repeats)):
        if not is_whole(value, 1):
            raise ValueError(f"vectorization_speedup: {name} must be a positive integer; received {value!r}")
    gen = as_generator(rng)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(n_in, n_out, init="glorot_uniform"), Tanh()]
    model = Sequential(layers[:-1], rng=gen, dtype="float64")
    X = gen.normal(size=(m, sizes[0]))
    y = gen.integers(0, sizes[-1], size=m)
    loss = losses_module.CrossEntropy()

    def best_time(f, calls):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                result = f()
            times.append((time.perf_counter() - start) / calls)
        return min(times), result

    loop_seconds, (loop_cost, loop_grads) = best_time(lambda: loop_gradients(model, X, y, loss), 1)
    vec_seconds, (vec_cost, vec_grads) = best_time(lambda: vectorised_gradients(model, X, y, loss), 10)
    difference = max([abs(loop_cost - vec_cost)] +
                     [float(np.max(np.abs(loop_grads[name] - vec_grads[name]))) for name in vec_grads])
    return {"loop_seconds": loop_seconds, "vectorised_seconds": vec_seconds,
            "speedup": loop_seconds / max(vec_seconds, 1e-12), "max_abs_difference": difference}


__all__ = ["loop_forward", "loop_gradients", "vectorised_gradients", "vectorization_speedup"]
