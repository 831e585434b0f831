"""All the numerics of chainrule, written once and written stably.

Every activation comes with its derivative beside it, in the form that the
backward pass needs. Each formula avoids overflow at any finite input: the
sigmoid is split by sign, softmax and logsumexp subtract the row maximum,
softplus and the binary cross-entropy use ``log1p(exp(-|x|))``. Nothing here
hides a NaN; a NaN in means a NaN out.

Shapes: activations work elementwise on any shape; the softmax family works
along the last axis, on ``(m, k)`` batches of ``m`` rows with ``k`` classes.
"""

from __future__ import annotations

import math

import numpy as np

# --- activations: g(z) and g'(z) -------------------------------------------


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^-z), split by sign so that exp never overflows."""
    e = np.exp(-np.abs(z))  # in (0, 1]
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_grad_from_output(s):
    """sigma'(z) = sigma(z) (1 - sigma(z)), from the output s = sigma(z)."""
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def tanh_grad_from_output(t):
    """tanh'(z) = 1 - tanh(z)^2, from the output t = tanh(z)."""
    return 1.0 - t * t


def relu(z):
    return np.maximum(z, 0)


def relu_grad(z):
    """relu'(z) = 1 where z > 0, else 0 (0 at the kink, as PyTorch does)."""
    g = (z > 0).astype(z.dtype)
    np.copyto(g, z, where=np.isnan(z))  # a NaN in stays a NaN out
    return g


def relu_grad_from_output(a):
    """relu'(z) from the output a = relu(z): sign(a) is 1 where z > 0, 0 elsewhere, NaN for NaN (one pass)."""
    return np.sign(a)


def leaky_relu(z, negative_slope=0.01):
    return np.where(z > 0, z, negative_slope * z).astype(z.dtype, copy=False)


def leaky_relu_grad(z, negative_slope=0.01):
    g = np.where(z > 0, 1.0, negative_slope).astype(z.dtype, copy=False)
    np.copyto(g, z, where=np.isnan(z))  # a NaN in stays a NaN out
    return g


def elu(z, alpha=1.0):
    """z for z > 0, alpha (e^z - 1) otherwise; exp only sees z <= 0."""
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)


def elu_grad(z, alpha=1.0):
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False)


def softplus(z):
    """log(1 + e^z) = max(z, 0) + log1p(e^-|z|)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Beyond |z| = 1e4, tanh(inner) is +-1 and the normal density is 0 in any dtype;
# clipping z there keeps z^3 and z^2 from overflowing at huge finite inputs.
_GELU_CLIP = 1e4
_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """The error function, exact to float64 (math.erf applied elementwise).

    NumPy has no vectorised erf; this is exact but slower than a ufunc, so
    the tanh approximation of GELU is offered for speed.
    """
    return _erf(x).astype(x.dtype, copy=False)


def gelu(z, approximate="none"):
    """GELU(z) = z Phi(z), Phi the standard normal CDF.

    ``approximate="tanh"`` uses 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))),
    as PyTorch does with the same option.
    """
    if approximate == "tanh":
        zc = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
        inner = _SQRT_2_OVER_PI * (zc + 0.044715 * zc**3)
        return 0.5 * z * (1.0 + np.tanh(inner))
    return 0.5 * z * (1.0 + erf(z * _INV_SQRT_2))


def gelu_grad(z, approximate="none"):
    zc = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (zc + 0.044715 * zc**3)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * zc * zc)
        return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * d_inner
    cdf = 0.5 * (1.0 + erf(z * _INV_SQRT_2))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * zc * zc)
    return cdf + z * pdf


# --- the softmax family (along the last axis) -------------------------------


def logsumexp(z, axis=-1, keepdims=False):
    """log sum_j e^{z_j} = c + log sum_j e^{z_j - c}, c = max_j z_j."""
    c = np.max(z, axis=axis, keepdims=True)
    c = np.where(np.isfinite(c), c, 0)  # a row of all -inf stays -inf, not NaN
    with np.errstate(over="ignore", divide="ignore"):  # z - c <= 0 may only overflow to -inf; log(0) = -inf
        out = c + np.log(np.sum(np.exp(z - c), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z):
    """log p_j = z_j - logsumexp(z), computed as (z_j - c) - log sum_k e^{z_k - c}, c the row
    maximum: adding c back and taking it away again would round away digits at |z| ~ 1000."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z):
    """p_j = e^{z_j - c} / sum_k e^{z_k - c}, c the row maximum."""
    with np.errstate(over="ignore"):  # z - max <= 0 may only overflow to -inf, whose exp is 0
        e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_backward(p, dp):
    """Vector-Jacobian product of softmax: dz = p * (dp - sum_j dp_j p_j)."""
    return p * (dp - np.sum(dp * p, axis=-1, keepdims=True))


# --- losses: value and gradient w.r.t. the prediction -----------------------
# Every loss is a mean: over the m rows for the cross-entropies, and over every
# element for MSE, BCE and Huber (PyTorch's reduction="mean").


def mse(pred, target):
    """L = mean((A - Y)^2)."""
    d = pred - target
    return np.mean(d * d)


def mse_grad(pred, target):
    """dL/dA = 2 (A - Y) / n, n the number of elements."""
    return 2.0 * (pred - target) / pred.size


def huber(pred, target, delta=1.0):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta); d = A - Y."""
    d = pred - target
    a = np.abs(d)
    return np.mean(np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)))


def huber_grad(pred, target, delta=1.0):
    d = pred - target
    return np.clip(d, -delta, delta) / pred.size


def binary_cross_entropy_with_logits(z, y):
    """L = mean(max(z, 0) - z y + log(1 + e^-|z|)), stable for any z."""
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def binary_cross_entropy_with_logits_grad(z, y):
    """dL/dz = (sigma(z) - y) / n."""
    return (sigmoid(z) - y) / z.size


_LOG_FLOOR = -100.0  # PyTorch's BCELoss clamps log(p) at -100 so that p = 0 stays finite


def binary_cross_entropy(p, y):
    """L = -mean(y log p + (1 - y) log(1 - p)) on probabilities, logs clamped at -100."""
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), _LOG_FLOOR)
        log_1mp = np.maximum(np.log1p(-p), _LOG_FLOOR)
    return -np.mean(y * log_p + (1.0 - y) * log_1mp)


def binary_cross_entropy_grad(p, y):
    """dL/dp = (p - y) / (p (1 - p)) / n, the denominator floored at 1e-12 (as PyTorch)."""
    return (p - y) / np.maximum(p * (1.0 - p), 1e-12) / p.size


def cross_entropy_with_logits(z, Y):
    """L = -(1/m) sum_i sum_j Y_ij log softmax(z_i)_j, for one-hot or soft Y."""
    return cross_entropy_from_log_probs(log_softmax(z), Y)


def cross_entropy_from_log_probs(log_p, Y):
    """L = -(1/m) sum_i sum_j Y_ij log p_ij."""
    return -np.sum(Y * log_p) / log_p.shape[0]


def cross_entropy_with_logits_grad(z, Y):
    """The fused softmax + cross-entropy gradient: dL/dz = (P - Y) / m."""
    return softmax_cross_entropy_grad(softmax(z), Y)


def softmax_cross_entropy_grad(p, Y):
    """dL/dz = (P - Y) / m, given P = softmax(z)."""
    return (p - Y) / p.shape[0]


def cross_entropy(p, Y):
    """L = -(1/m) sum Y log p on probabilities, p floored at the dtype's tiny."""
    return -np.sum(Y * np.log(np.maximum(p, np.finfo(p.dtype).tiny))) / p.shape[0]


def cross_entropy_grad(p, Y):
    return -Y / np.maximum(p, np.finfo(p.dtype).tiny) / p.shape[0]


def one_hot(labels, num_classes, dtype=np.float32):
    """Rows of the identity: one_hot([2, 0], 3) = [[0, 0, 1], [1, 0, 0]]."""
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out
