"""All the numerics of chainrule, written once and written stably.

Every activation comes with its derivative beside it, in the form that the
backward pass needs. Each formula avoids overflow at any finite input: the
sigmoid is split by sign, softmax and log_softmax subtract the row maximum,
the binary cross-entropy uses ``log1p(exp(-|x|))``. Nothing here
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


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Beyond |z| = 1e4, tanh(inner) is +-1 and the normal density is 0 in any dtype;
# clipping z there keeps z^3 and z^2 from overflowing at huge finite inputs.
_GELU_CLIP = 1e4


def gelu_cdf(z, approximate="none"):
    """Phi(z) = (1 + erf(z / sqrt 2)) / 2, the standard normal CDF; with ``approximate="tanh"``,
    PyTorch's (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2."""
    if approximate == "tanh":
        zc = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
        return 0.5 * (1.0 + np.tanh(_SQRT_2_OVER_PI * (zc + 0.044715 * (zc * zc * zc))))
    return 0.5 * (1.0 + erf(z * _INV_SQRT_2))


def gelu(z, approximate="none", cdf=None):
    """GELU(z) = z Phi(z), Phi the standard normal CDF (or its tanh approximation);
    ``cdf``, if given, is Phi(z), which the GELU layer keeps for the backward pass."""
    return z * (gelu_cdf(z, approximate) if cdf is None else cdf)


def gelu_grad(z, approximate="none", cdf=None):
    """GELU'(z) = Phi(z) + z Phi'(z); ``cdf``, if given, is Phi(z) from the forward pass.

    Phi'(z) = e^(-z^2/2) / sqrt(2 pi); for the tanh form, with Phi = (1 + t) / 2, it is
    (1 - t^2) / 2 * d inner/dz = 2 Phi (1 - Phi) sqrt(2/pi) (1 + 3 * 0.044715 z^2).
    """
    if cdf is None:
        cdf = gelu_cdf(z, approximate)
    zc = np.clip(z, -_GELU_CLIP, _GELU_CLIP)
    if approximate == "tanh":
        d_cdf = 2.0 * cdf * (1.0 - cdf) * (_SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * (zc * zc)))
    else:
        d_cdf = _INV_SQRT_2PI * np.exp(-0.5 * (zc * zc))
    return cdf + z * d_cdf


# --- the error function ------------------------------------------------------------
# float32: its own rational approximation, evaluated in float32 (below). Other dtypes:
# SciPy's erf when SciPy is installed (chosen at the first call, so that importing
# chainrule never imports SciPy), else W. J. Cody's rational approximations (Math.
# Comp. 23, 1969), evaluated elementwise in float64: within 4e-16 of math.erf.

_erf_impl = None


def erf(x):
    """The error function, elementwise, in x's dtype."""
    global _erf_impl
    if x.dtype == np.float32:
        return erf_float32(x)
    if _erf_impl is None:
        try:
            from scipy.special import erf as scipy_erf
        except ImportError:
            _erf_impl = erf_rational
        else:
            _erf_impl = scipy_erf
    return _erf_impl(x).astype(x.dtype, copy=False)


# erf(x) = x P(x^2) / Q(x^2) on x clipped to [-4, 4] (erf(4) rounds to 1 in float32), the
# float32 approximation of XLA and Eigen; P and Q highest degree first. No exp: 23 float32
# passes, about a third of the time of erf computed in float64. Within 6.5e-8 of erf in exact
# arithmetic, and 4.2e-7 as float32 evaluates it (about 3.5 float32 ulps near erf = 1).
_ERF32_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
            -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
_ERF32_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
            -1.42647390514189e-02)


def erf_float32(x):
    """erf(x) for a float32 array x, in float32; NaN stays NaN."""
    x = np.clip(x, -4.0, 4.0)
    t = x * x
    ratio = np.divide(_horner(_ERF32_P, t), _horner(_ERF32_Q, t))
    ratio *= x  # last, so that a tiny x is not first scaled into the subnormal numbers
    return ratio


# erf(x) = x R(x^2) for |x| <= 0.46875; erfc(y) = e^(-y^2) R(y) for y in (0.46875, 4];
# erfc(y) = e^(-y^2) / y (1/sqrt(pi) - R(1/y^2) / y^2) beyond. Each R is a ratio of
# polynomials (numerator, denominator), highest degree first.
_ERF_SMALL = ((1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
               3.77485237685302021e02, 3.20937758913846947e03),
              (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
               2.84423683343917062e03))
_ERFC_MIDDLE = ((2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
                 6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
                 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03),
                (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
                 1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
                 3.43936767414372164e03, 1.23033935480374942e03))
_ERFC_TAIL = ((1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
               1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4),
              (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
               6.05183413124413191e-2, 2.33520497626869185e-3))
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _ratio(coefficients, x):
    num, den = (_horner(c, x) for c in coefficients)
    return np.divide(num, den, out=num)


def _horner(coefficients, x):
    out = x * coefficients[0]
    out += coefficients[1]
    for c in coefficients[2:]:  # in place: one pass per operation, no temporaries
        out *= x
        out += c
    return out


def _exp_minus_square(y):
    """e^(-y^2), with y^2 split as u^2 + (y - u)(y + u), u = y rounded down to 1/16,
    so that no digits are lost in forming y^2."""
    u = np.trunc(y * 16.0) / 16.0
    return np.exp(-u * u) * np.exp(-(y - u) * (y + u))


def erf_rational(x):
    """erf(x) by Cody's rational approximations, in float64, returned in x's dtype.

    Each approximation is evaluated on the whole array, its argument clipped to its
    own interval, and the right one picked at the end: cheaper than indexing by masks.
    """
    x64 = np.asarray(x, dtype=np.float64)
    y = np.abs(x64)
    xs = np.clip(x64, -0.46875, 0.46875)
    small = xs * _ratio(_ERF_SMALL, xs * xs)
    ym = np.clip(y, 0.46875, 4.0)
    erfc = _exp_minus_square(ym) * _ratio(_ERFC_MIDDLE, ym)
    if np.any(y > 4.0):
        yt = np.clip(y, 4.0, 6.0)  # erfc(6) < 1e-16: from there on erf is +-1
        w = 1.0 / (yt * yt)
        tail = _exp_minus_square(yt) / yt * (_INV_SQRT_PI - w * _ratio(_ERFC_TAIL, w))
        erfc = np.where(y > 4.0, tail, erfc)
    out = np.where(y <= 0.46875, small, np.copysign(1.0 - erfc, x64))
    return out.astype(np.asarray(x).dtype, copy=False)


# --- the softmax family (along the last axis) -------------------------------


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


def cross_entropy_from_log_probs(log_p, Y):
    """L = -(1/m) sum_i sum_j Y_ij log p_ij; with log p = log_softmax(z), the cross-entropy
    of the logits z."""
    return -np.sum(Y * log_p) / log_p.shape[0]


def softmax_cross_entropy_grad(p, Y):
    """The fused softmax + cross-entropy gradient dL/dz = (P * s - Y) / m, given P = softmax(z),
    where s_i = sum_j Y_ij: from log p_ij = z_ij - logsumexp(z_i), dL/dz_ik = (s_i p_ik - Y_ik) / m.

    When every row of Y sums to 1 (labels, one-hot rows) this is (P - Y) / m, to the bit: a
    one-hot row sums to exactly 1.0, and p * 1.0 is p exactly.
    """
    s = np.add.reduce(Y, axis=-1, keepdims=True)
    return (p * s - Y) / p.shape[0]


def cross_entropy(p, Y):
    """L = -(1/m) sum Y log p on probabilities, p floored at the dtype's tiny."""
    return -np.sum(Y * np.log(np.maximum(p, np.finfo(p.dtype).tiny))) / p.shape[0]


def cross_entropy_grad(p, Y):
    """dL/dp = -Y / (p m), for any Y; through the softmax's backward this is the fused
    (P * s - Y) / m."""
    return -Y / np.maximum(p, np.finfo(p.dtype).tiny) / p.shape[0]


def one_hot(labels, num_classes, dtype=np.float32):
    """Rows of the identity: one_hot([2, 0], 3) = [[0, 0, 1], [1, 0, 0]]."""
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out
