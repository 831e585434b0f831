"""Numerics of chainrule.functional: limits, dtypes, reference values, NaN, properties.

Every function is tested in float32 and float64, under warnings-as-errors
(the pytest config already turns RuntimeWarning into errors; ``strict()``
makes it independent of that config and of numpy's global error state).
References come from scipy.special and math, computed in float64.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import chainrule.functional as F
from chainrule.losses import CrossEntropy

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]


@contextlib.contextmanager
def strict():
    """Every floating-point warning (overflow, divide by zero, invalid) is an error; underflow is fine."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
            yield


def eps(dtype):
    return float(np.finfo(dtype).eps)


def arr(values, dtype):
    return np.array(values, dtype=dtype)


# --- references in float64 ------------------------------------------------------

SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _vec(f):
    return lambda z: np.vectorize(f, otypes=[np.float64])(np.asarray(z, dtype=np.float64))


def ref_gelu(z):
    return 0.5 * z * (1.0 + math.erf(z / SQRT2))


def ref_gelu_grad(z):
    return 0.5 * (1.0 + math.erf(z / SQRT2)) + z * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def ref_gelu_tanh(z):
    return 0.5 * z * (1.0 + math.tanh(SQRT_2_OVER_PI * (z + 0.044715 * z**3)))


def ref_gelu_tanh_grad(z):
    u = SQRT_2_OVER_PI * (z + 0.044715 * z**3)
    du = SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
    t = math.tanh(u)
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du


def ref_elu(alpha):
    return lambda z: z if z > 0 else alpha * math.expm1(z)


def ref_elu_grad(alpha):
    return lambda z: 1.0 if z > 0 else alpha * math.exp(z)


# name -> (f(z) in the dtype under test, reference(z) in float64)
# The *_grad_from_output functions take the activation's output, so they are
# tested through it: sigmoid_grad_from_output(sigmoid(z)) against sigma'(z).
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, sp.expit),
    "sigmoid_grad_from_output": (lambda z: F.sigmoid_grad_from_output(F.sigmoid(z)),
                                 lambda z: sp.expit(z) * sp.expit(-z)),
    "tanh": (F.tanh, _vec(math.tanh)),
    "tanh_grad_from_output": (lambda z: F.tanh_grad_from_output(F.tanh(z)),
                              _vec(lambda z: 1.0 / math.cosh(z) ** 2 if abs(z) < 700 else 0.0)),
    "relu": (F.relu, _vec(lambda z: max(z, 0.0))),
    "relu_grad_from_output": (lambda z: F.relu_grad_from_output(F.relu(z)), _vec(lambda z: 1.0 if z > 0 else 0.0)),
    "leaky_relu": (F.leaky_relu, _vec(lambda z: z if z > 0 else 0.01 * z)),
    "leaky_relu(0.2)": (lambda z: F.leaky_relu(z, 0.2), _vec(lambda z: z if z > 0 else 0.2 * z)),
    "leaky_relu_grad": (F.leaky_relu_grad, _vec(lambda z: 1.0 if z > 0 else 0.01)),
    "leaky_relu_grad(0.2)": (lambda z: F.leaky_relu_grad(z, 0.2), _vec(lambda z: 1.0 if z > 0 else 0.2)),
    "elu": (F.elu, _vec(ref_elu(1.0))),
    "elu(0.5)": (lambda z: F.elu(z, 0.5), _vec(ref_elu(0.5))),
    "elu_grad": (F.elu_grad, _vec(ref_elu_grad(1.0))),
    "elu_grad(0.5)": (lambda z: F.elu_grad(z, 0.5), _vec(ref_elu_grad(0.5))),
    "gelu": (F.gelu, _vec(ref_gelu)),
    "gelu_grad": (F.gelu_grad, _vec(ref_gelu_grad)),
    "gelu_tanh": (lambda z: F.gelu(z, approximate="tanh"), _vec(ref_gelu_tanh)),
    "gelu_tanh_grad": (lambda z: F.gelu_grad(z, approximate="tanh"), _vec(ref_gelu_tanh_grad)),
}

# the function and its derivative, for a finite-difference cross-check
DERIVATIVES = {
    "sigmoid": ("sigmoid", "sigmoid_grad_from_output"),
    "tanh": ("tanh", "tanh_grad_from_output"),
    "relu": ("relu", "relu_grad_from_output"),
    "leaky_relu": ("leaky_relu", "leaky_relu_grad"),
    "leaky_relu(0.2)": ("leaky_relu(0.2)", "leaky_relu_grad(0.2)"),
    "elu": ("elu", "elu_grad"),
    "elu(0.5)": ("elu(0.5)", "elu_grad(0.5)"),
    "gelu": ("gelu", "gelu_grad"),
    "gelu_tanh": ("gelu_tanh", "gelu_tanh_grad"),
}

TINY_INPUTS = [1e-30, -1e-30, 1e-300, -1e-300, 5e-324]  # rounded to the dtype (5e-324 -> 0 in float32)
EXTREME_INPUTS = [1000.0, -1000.0, 100.0, -100.0, 0.0, -0.0, *TINY_INPUTS]
MODERATE = np.concatenate([np.linspace(-3.0, 3.0, 61), np.random.default_rng(0).normal(0.0, 1.5, 50)])
MODERATE = MODERATE[np.abs(MODERATE) > 1e-3]  # away from the kinks at 0


# --- elementwise activations -------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_extreme_inputs_finite_and_right(name, dtype):
    f, ref = ELEMENTWISE[name]
    z = arr(EXTREME_INPUTS, dtype)
    with strict():
        out = f(z)
    assert out.dtype == dtype
    assert out.shape == z.shape
    assert np.all(np.isfinite(out)), out
    expected = ref(z.astype(np.float64))
    # values of order 1 within a few eps; values of order 1000 within a few eps relative
    np.testing.assert_allclose(out.astype(np.float64), expected, rtol=8 * eps(dtype), atol=2 * eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_huge_finite_inputs(name, dtype):
    """The module promises no overflow at any finite input, up to the dtype's max."""
    f, _ = ELEMENTWISE[name]
    big = np.finfo(dtype).max
    z = arr([big, -big, big / 2, -big / 2, 1e20, -1e20], dtype)
    with strict():
        out = f(z)
    assert out.dtype == dtype
    assert not np.any(np.isnan(out)), out


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_activation_limits(dtype):
    big = arr([1000.0, -1000.0], dtype)
    with strict():
        assert F.sigmoid(big).tolist() == [1.0, 0.0]
        assert F.sigmoid(arr([0.0, 1e-30, -1e-30], dtype)).tolist() == [0.5, 0.5, 0.5]
        assert F.sigmoid_grad_from_output(F.sigmoid(big)).tolist() == [0.0, 0.0]
        assert F.tanh(big).tolist() == [1.0, -1.0]
        assert F.tanh_grad_from_output(F.tanh(big)).tolist() == [0.0, 0.0]
        assert F.relu(big).tolist() == [1000.0, 0.0]
        assert F.relu_grad_from_output(F.relu(big)).tolist() == [1.0, 0.0]
        # 0 at the kink, as PyTorch
        assert F.relu_grad_from_output(F.relu(arr([0.0, -0.0], dtype))).tolist() == [0.0, 0.0]
        assert F.leaky_relu(big).tolist() == pytest.approx([1000.0, -10.0], rel=eps(dtype))
        assert F.elu(big).tolist() == [1000.0, -1.0]
        assert F.elu_grad(big).tolist() == [1.0, 0.0]
        for approximate in ("none", "tanh"):
            assert F.gelu(big, approximate).tolist() == [1000.0, 0.0]
            assert F.gelu_grad(big, approximate).tolist() == [1.0, 0.0]
            assert F.gelu(arr([0.0], dtype), approximate)[0] == 0.0
            assert F.gelu_grad(arr([0.0], dtype), approximate)[0] == 0.5


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_dtype_preserved_on_2d_batches(name, dtype):
    f, _ = ELEMENTWISE[name]
    z = np.random.default_rng(1).normal(size=(4, 5)).astype(dtype)
    with strict():
        out = f(z)
    assert out.dtype == dtype and out.shape == (4, 5)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_matches_reference_float64(name):
    f, ref = ELEMENTWISE[name]
    with strict():
        out = f(MODERATE.copy())
    np.testing.assert_allclose(out, ref(MODERATE), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_float32_close_to_float64_reference(name):
    f, ref = ELEMENTWISE[name]
    z = MODERATE.astype(np.float32)
    with strict():
        out = f(z)
    # exact GELU in float32 runs on erf_float32, within 4.3e-7 of erf (as close as PyTorch's float32 GELU:
    # tests/test_torch_parity.py), which 1 + erf carries into Phi(z) at negative z
    atol = 4e-7 if name.startswith("gelu") and "tanh" not in name else 2e-7
    np.testing.assert_allclose(out, ref(z.astype(np.float64)), rtol=2e-6, atol=atol)


@pytest.mark.parametrize("name", list(DERIVATIVES))
def test_derivative_matches_central_differences(name):
    f = ELEMENTWISE[DERIVATIVES[name][0]][0]
    g = ELEMENTWISE[DERIVATIVES[name][1]][0]
    z, h = MODERATE.copy(), 1e-6
    with strict():
        numeric = (f(z + h) - f(z - h)) / (2 * h)
        analytic = g(z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_nan_in_nan_out(name, dtype):
    f, _ = ELEMENTWISE[name]
    z = arr([1.0, np.nan, -1.0, np.nan], dtype)
    with strict():
        out = f(z)
    assert out.dtype == dtype
    assert np.isnan(out[[1, 3]]).all(), out
    assert np.isfinite(out[[0, 2]]).all(), out


def test_gelu_tanh_is_close_to_exact_gelu():
    z = np.linspace(-6.0, 6.0, 241)
    with strict():
        assert np.max(np.abs(F.gelu(z, "tanh") - F.gelu(z))) < 1e-3
        assert np.max(np.abs(F.gelu_grad(z, "tanh") - F.gelu_grad(z))) < 1e-2


@pytest.fixture
def own_erf(monkeypatch):
    """erf as it is without SciPy: the first call finds no scipy.special and picks erf_rational."""
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # import now raises ImportError
    monkeypatch.setattr(F, "_erf_impl", None)
    F.erf(np.zeros(1))
    assert F._erf_impl is F.erf_rational
    monkeypatch.undo()  # SciPy back for the references; erf_rational stays chosen till the test ends
    monkeypatch.setattr(F, "_erf_impl", F.erf_rational)


@pytest.mark.parametrize("backend", ["scipy", "own"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_erf_exact_and_dtype_preserving(dtype, backend, request):
    if backend == "own":
        request.getfixturevalue("own_erf")
    z = arr([*np.linspace(-7.0, 7.0, 57), 0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30, np.finfo(dtype).max,
             -np.finfo(dtype).max, np.inf, -np.inf], dtype)
    with strict():
        out = F.erf(z)
    assert out.dtype == dtype
    tol = ERF32_ERROR if dtype == np.float32 else eps(dtype)  # float32 takes erf_float32 on either backend
    np.testing.assert_allclose(out, sp.erf(z.astype(np.float64)), rtol=tol, atol=tol)
    assert np.isnan(F.erf(arr([np.nan], dtype)))[0]


ERF32_ERROR = 4.5e-7  # erf_float32's promise, absolute and (for normal numbers) relative


def test_erf_float32_is_float32_accurate_everywhere():
    """The float32 rational against math.erf on a dense grid, at tiny and huge arguments, at the
    clip (+-4) and beyond it; no warning, signs kept, NaN kept."""
    x = np.concatenate([np.linspace(-8.0, 8.0, 400_001), np.geomspace(np.finfo(np.float32).tiny, 8.0, 100_001),
                        [4.0, np.nextafter(np.float32(4.0), np.float32(5.0)), 1e30, np.finfo(np.float32).max]])
    x = np.concatenate([x, -x]).astype(np.float32)
    expected = np.array([math.erf(v) for v in x.astype(np.float64)])
    with strict():
        out = F.erf_float32(x)
    assert out.dtype == np.float32
    error = np.abs(out.astype(np.float64) - expected)
    assert error.max() < ERF32_ERROR
    assert np.max(error / np.abs(np.where(x == 0, 1.0, expected))) < ERF32_ERROR  # relative, down to the tiniest normal
    assert np.all(np.signbit(out) == np.signbit(x))
    with strict():
        limits = F.erf_float32(np.array([np.inf, -np.inf, 1e30, -1e30, np.nan], np.float32))
    assert limits[:4].tolist() == [1.0, -1.0, 1.0, -1.0] and np.isnan(limits[4])


def test_own_erf_is_float64_accurate_everywhere():
    """Cody's approximations against math.erf on a dense grid, across the three intervals
    (|x| <= 0.46875, up to 4, beyond), their edges, and tiny and huge arguments."""
    x = np.concatenate([np.linspace(-8.0, 8.0, 160_001), np.geomspace(1e-300, 30.0, 20_001),
                        [0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5), 6.0, 1e300]])
    x = np.concatenate([x, -x])
    expected = np.array([math.erf(v) for v in x])
    with strict():
        out = F.erf_rational(x)
    error = np.abs(out - expected)
    assert error.max() < 1e-15
    assert np.max(error / np.maximum(np.abs(expected), 1e-300)) < 2e-15  # relative, down to x = 1e-300
    assert np.all(np.signbit(out) == np.signbit(x))


def test_gelu_with_own_erf_matches_reference_float64(own_erf):
    with strict():
        out, grad = F.gelu(MODERATE), F.gelu_grad(MODERATE)
        extreme = F.gelu(arr(EXTREME_INPUTS, np.float64))
    np.testing.assert_allclose(out, _vec(ref_gelu)(MODERATE), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, _vec(ref_gelu_grad)(MODERATE), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(extreme, _vec(ref_gelu)(EXTREME_INPUTS), rtol=8 * eps(np.float64), atol=2e-16)


def test_the_core_imports_without_scipy():
    """SciPy is imported at the first erf, never by import chainrule."""
    code = ("import sys; import chainrule, chainrule.cli, chainrule.training; "
            "assert 'scipy' not in sys.modules, 'scipy imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the softmax family -------------------------------------------------------------

SOFTMAX_FAMILY = {
    "softmax": (F.softmax, lambda z: sp.softmax(z, axis=-1)),
    "log_softmax": (F.log_softmax, lambda z: sp.log_softmax(z, axis=-1)),
}

EXTREME_ROWS = [
    [1000.0, 0.0], [0.0, 1000.0], [-1000.0, 0.0], [1000.0, 1000.0], [-1000.0, -1000.0],
    [1000.0, -1000.0], [100.0, -100.0], [0.0, 0.0], [1e-30, -1e-30], [-100.0, -100.0],
]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(SOFTMAX_FAMILY))
def test_softmax_family_extreme_rows(name, dtype):
    f, ref = SOFTMAX_FAMILY[name]
    z = arr(EXTREME_ROWS, dtype)
    with strict():
        out = f(z)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out)), out
    np.testing.assert_allclose(out.astype(np.float64), ref(z.astype(np.float64)),
                               rtol=4 * eps(dtype), atol=2 * eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_softmax_family_limits(dtype):
    z = arr([[1000.0, 0.0], [1000.0, 1000.0], [-1000.0, -1000.0]], dtype)
    with strict():
        p, logp = F.softmax(z), F.log_softmax(z)
    assert p.tolist() == [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]]
    assert logp[0].tolist() == [0.0, -1000.0]
    np.testing.assert_allclose(logp[1:], -math.log(2.0), rtol=eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_softmax_with_minus_inf_logits(dtype):
    """A masked-out class (logit -inf) gets probability exactly 0."""
    z = arr([[-np.inf, 0.0, 0.0], [-np.inf, 1000.0, -1000.0]], dtype)
    with strict():
        p = F.softmax(z)
        logp = F.log_softmax(z)
    assert p.tolist() == [[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]]
    assert logp[:, 0].tolist() == [-np.inf, -np.inf]
    assert logp[1, 1] == 0.0


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_softmax_at_huge_finite_spread(dtype):
    big = np.finfo(dtype).max
    z = arr([[big, -big], [-big, -big], [big, big / 2]], dtype)
    with strict():
        p = F.softmax(z)
    assert p.tolist() == [[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]]


@pytest.mark.parametrize("name", list(SOFTMAX_FAMILY))
def test_softmax_family_matches_scipy_float64(name):
    f, ref = SOFTMAX_FAMILY[name]
    z = np.random.default_rng(2).normal(0.0, 3.0, size=(7, 5))
    with strict():
        out = f(z)
    np.testing.assert_allclose(out, ref(z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(SOFTMAX_FAMILY))
def test_softmax_family_float32_close_to_reference(name):
    f, ref = SOFTMAX_FAMILY[name]
    z = np.random.default_rng(3).normal(0.0, 3.0, size=(7, 5)).astype(np.float32)
    with strict():
        out = f(z)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref(z.astype(np.float64)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(SOFTMAX_FAMILY))
def test_softmax_family_nan_in_nan_out(name, dtype):
    f, _ = SOFTMAX_FAMILY[name]
    z = arr([[1.0, np.nan, 0.0], [1.0, 2.0, 3.0]], dtype)
    with strict():
        out = f(z)
    assert out.dtype == dtype
    assert np.isnan(out[0]).all(), out
    assert np.isfinite(out[1]).all(), out


def ref_softmax_backward(p, dp):
    """dz = J^T dp with the full Jacobian J = diag(p) - p p^T, row by row."""
    return np.stack([(np.diag(pi) - np.outer(pi, pi)).T @ dpi for pi, dpi in zip(p, dp)])


def test_softmax_backward_matches_jacobian_float64():
    rng = np.random.default_rng(5)
    p = sp.softmax(rng.normal(size=(6, 4)), axis=-1)
    dp = rng.normal(size=(6, 4))
    with strict():
        out = F.softmax_backward(p, dp)
    np.testing.assert_allclose(out, ref_softmax_backward(p, dp), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_softmax_backward_extreme_dtype_and_nan(dtype):
    z = arr(EXTREME_ROWS, dtype)
    with strict():
        p = F.softmax(z)
        dp = np.ones_like(p) * dtype(1000.0)
        dz = F.softmax_backward(p, dp)
    assert dz.dtype == dtype
    assert np.all(np.isfinite(dz))
    np.testing.assert_allclose(dz, 0.0, atol=1000 * 4 * eps(dtype))  # a constant dp moves nothing
    np.testing.assert_allclose(dz.astype(np.float64),
                               ref_softmax_backward(p.astype(np.float64), dp.astype(np.float64)),
                               atol=1000 * 4 * eps(dtype))
    with strict():
        bad = F.softmax_backward(arr([[0.5, np.nan], [0.5, 0.5]], dtype), arr([[1.0, 2.0], [1.0, 2.0]], dtype))
        bad_dp = F.softmax_backward(arr([[0.5, 0.5], [0.5, 0.5]], dtype), arr([[np.nan, 2.0], [1.0, 2.0]], dtype))
    assert np.isnan(bad[0]).all() and np.isfinite(bad[1]).all()
    assert np.isnan(bad_dp[0]).all() and np.isfinite(bad_dp[1]).all()


def test_softmax_backward_equals_finite_differences_of_softmax():
    rng = np.random.default_rng(6)
    z, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    h = 1e-6
    numeric = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        numeric[idx] = (np.sum(v * F.softmax(zp)) - np.sum(v * F.softmax(zm))) / (2 * h)
    np.testing.assert_allclose(F.softmax_backward(F.softmax(z), v), numeric, rtol=1e-7, atol=1e-9)


# --- losses -----------------------------------------------------------------------------


def _targets_binary(rng, shape):
    return rng.integers(0, 2, size=shape).astype(np.float64)


def _targets_onehot(rng, shape):
    return np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])]


def _huber_ref(a, y, delta):
    return np.mean(sp.huber(delta, a - y))


def _bce_logits_ref(z, y):
    return -np.mean(y * sp.log_expit(z) + (1 - y) * sp.log_expit(-z))


def _bce_ref(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))


# the fused softmax + cross-entropy, through the loss that uses it: (log P, P) made once
CE_LOGITS = CrossEntropy(from_logits=True)

# name -> (value, gradient, prediction maker, target maker, reference value, reference gradient)
LOSSES = {
    "mse": (F.mse, F.mse_grad,
            lambda rng, s: rng.normal(size=s), lambda rng, s: rng.normal(size=s),
            lambda a, y: np.mean((a - y) ** 2), lambda a, y: 2 * (a - y) / a.size),
    "huber": (F.huber, F.huber_grad,
              lambda rng, s: rng.normal(0, 2, size=s), lambda rng, s: rng.normal(size=s),
              lambda a, y: _huber_ref(a, y, 1.0), lambda a, y: np.clip(a - y, -1, 1) / a.size),
    "huber(0.5)": (lambda a, y: F.huber(a, y, 0.5), lambda a, y: F.huber_grad(a, y, 0.5),
                   lambda rng, s: rng.normal(0, 2, size=s), lambda rng, s: rng.normal(size=s),
                   lambda a, y: _huber_ref(a, y, 0.5), lambda a, y: np.clip(a - y, -0.5, 0.5) / a.size),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits_grad,
                        lambda rng, s: rng.normal(0, 3, size=s), _targets_binary,
                        _bce_logits_ref, lambda z, y: (sp.expit(z) - y) / z.size),
    "bce_with_logits_soft": (F.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits_grad,
                             lambda rng, s: rng.normal(0, 3, size=s), lambda rng, s: rng.uniform(size=s),
                             _bce_logits_ref, lambda z, y: (sp.expit(z) - y) / z.size),
    "bce": (F.binary_cross_entropy, F.binary_cross_entropy_grad,
            lambda rng, s: rng.uniform(0.02, 0.98, size=s), _targets_binary,
            _bce_ref, lambda p, y: (p - y) / (p * (1 - p)) / p.size),
    "cross_entropy_with_logits": (CE_LOGITS.value, CE_LOGITS.gradient,
                                  lambda rng, s: rng.normal(0, 3, size=s), _targets_onehot,
                                  lambda z, y: -np.sum(y * sp.log_softmax(z, axis=-1)) / z.shape[0],
                                  lambda z, y: (sp.softmax(z, axis=-1) - y) / z.shape[0]),
    "cross_entropy_with_logits_soft": (CE_LOGITS.value, CE_LOGITS.gradient,
                                       lambda rng, s: rng.normal(0, 3, size=s),
                                       lambda rng, s: sp.softmax(rng.normal(size=s), axis=-1),
                                       lambda z, y: -np.sum(y * sp.log_softmax(z, axis=-1)) / z.shape[0],
                                       lambda z, y: (sp.softmax(z, axis=-1) - y) / z.shape[0]),
    # soft rows that do not sum to 1: dz = (P * rowsum(Y) - Y) / m
    "cross_entropy_with_logits_unnormalised": (CE_LOGITS.value, CE_LOGITS.gradient,
                                               lambda rng, s: rng.normal(0, 3, size=s),
                                               lambda rng, s: rng.uniform(0, 1, size=s),
                                               lambda z, y: -np.sum(y * sp.log_softmax(z, axis=-1)) / z.shape[0],
                                               lambda z, y: (sp.softmax(z, axis=-1) * y.sum(axis=-1, keepdims=True)
                                                             - y) / z.shape[0]),
    "cross_entropy": (F.cross_entropy, F.cross_entropy_grad,
                      lambda rng, s: sp.softmax(rng.normal(size=s), axis=-1), _targets_onehot,
                      lambda p, y: -np.sum(y * np.log(p)) / p.shape[0], lambda p, y: -y / p / p.shape[0]),
}


def _loss_inputs(name, dtype, seed=7, shape=(6, 4)):
    rng = np.random.default_rng(seed)
    *_, make_pred, make_target, _, _ = LOSSES[name]
    return make_pred(rng, shape).astype(dtype), make_target(rng, shape).astype(dtype)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_reference_float64(name):
    value, grad, _, _, ref_value, ref_grad = LOSSES[name]
    a, y = _loss_inputs(name, np.float64)
    with strict():
        v, g = value(a, y), grad(a, y)
    assert float(v) == pytest.approx(ref_value(a, y), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(g, ref_grad(a, y), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_matches_central_differences(name):
    value, grad, *_ = LOSSES[name]
    a, y = _loss_inputs(name, np.float64, shape=(3, 4))
    h = 1e-6
    numeric = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += h
        am[idx] -= h
        numeric[idx] = (value(ap, y) - value(am, y)) / (2 * h)
    np.testing.assert_allclose(grad(a, y), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_dtype_preserved(name, dtype):
    value, grad, *_ = LOSSES[name]
    a, y = _loss_inputs(name, dtype)
    with strict():
        v, g = value(a, y), grad(a, y)
    assert np.asarray(v).dtype == dtype, type(v)
    assert g.dtype == dtype and g.shape == a.shape
    assert np.isfinite(v) and np.all(np.isfinite(g))


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_float32_close_to_float64(name):
    value, grad, *_ = LOSSES[name]
    a, y = _loss_inputs(name, np.float64)
    with strict():
        v32, g32 = value(a.astype(np.float32), y.astype(np.float32)), grad(a.astype(np.float32), y.astype(np.float32))
    assert float(v32) == pytest.approx(float(value(a, y)), rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(g32, grad(a, y), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("where", ["pred", "target"])
def test_loss_nan_in_nan_out(name, dtype, where):
    value, grad, *_ = LOSSES[name]
    a, y = _loss_inputs(name, dtype)
    (a if where == "pred" else y)[2, 1] = np.nan
    with strict():
        v, g = value(a, y), grad(a, y)
    assert np.isnan(v), v
    assert np.isnan(g[2, 1]), g
    if where == "pred" and not name.startswith("cross_entropy_with_logits"):
        assert np.isfinite(np.delete(g.ravel(), 2 * a.shape[1] + 1)).all()  # elementwise: only that entry


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_mse_and_huber_at_large_values(dtype):
    a, y = arr([[1000.0], [-1000.0], [100.0]], dtype), arr([[-1000.0], [1000.0], [100.0]], dtype)
    with strict():
        assert float(F.mse(a, y)) == pytest.approx(2 * 4e6 / 3, rel=4 * eps(dtype))
        np.testing.assert_allclose(F.mse_grad(a, y), [[4000 / 3], [-4000 / 3], [0.0]], rtol=4 * eps(dtype))
        assert float(F.huber(a, y)) == pytest.approx(2 * 1999.5 / 3, rel=4 * eps(dtype))
        np.testing.assert_allclose(F.huber_grad(a, y), [[1 / 3], [-1 / 3], [0.0]], rtol=4 * eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_bce_with_logits_at_extreme_logits(dtype):
    z = arr([1000.0, -1000.0, 1000.0, -1000.0, 100.0, -100.0, 0.0], dtype)
    y = arr([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0], dtype)
    per_element = [0.0, 0.0, 1000.0, 1000.0, 0.0, 0.0, math.log(2.0)]
    with strict():
        for i in range(len(z)):
            assert float(F.binary_cross_entropy_with_logits(z[i:i + 1], y[i:i + 1])) == pytest.approx(
                per_element[i], rel=4 * eps(dtype), abs=4 * eps(dtype)), i
        v = F.binary_cross_entropy_with_logits(z, y)
        g = F.binary_cross_entropy_with_logits_grad(z, y)
    assert float(v) == pytest.approx(sum(per_element) / 7, rel=4 * eps(dtype))
    np.testing.assert_allclose(g * 7, [0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -0.5], atol=2 * eps(dtype))
    assert v.dtype == dtype and g.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_cross_entropy_with_logits_at_extreme_logits(dtype):
    z = arr([[1000.0, 0.0]], dtype)
    with strict():
        right = CE_LOGITS.value(z, arr([[1.0, 0.0]], dtype))
        wrong = CE_LOGITS.value(z, arr([[0.0, 1.0]], dtype))
        tie = CE_LOGITS.value(arr([[1000.0, 1000.0]], dtype), arr([[0.0, 1.0]], dtype))
        neg = CE_LOGITS.value(arr([[-1000.0, 0.0, -1000.0]], dtype), arr([[1.0, 0.0, 0.0]], dtype))
        g_right = CE_LOGITS.gradient(z, arr([[1.0, 0.0]], dtype))
        g_wrong = CE_LOGITS.gradient(z, arr([[0.0, 1.0]], dtype))
    assert float(right) == 0.0
    assert float(wrong) == 1000.0
    assert float(tie) == pytest.approx(math.log(2.0), rel=4 * eps(dtype))
    assert float(neg) == 1000.0
    assert g_right.tolist() == [[0.0, 0.0]]
    assert g_wrong.tolist() == [[1.0, -1.0]]
    assert right.dtype == dtype and g_wrong.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_cross_entropy_forward_backward_are_value_and_gradient(dtype):
    """Training's forward/backward (P kept between them) give the very numbers of evaluation's
    value/gradient, and the softmax formula's, at ordinary and extreme logits, for labels and soft rows."""
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 3, (6, 4)), [[1000.0, 0.0, -1000.0, 5.0], [-1000.0] * 4]]).astype(dtype)
    soft = rng.dirichlet(np.ones(4), len(z)).astype(dtype)
    unnormalised = rng.uniform(0, 1, (len(z), 4)).astype(dtype)
    for y in (np.array([0, 1, 2, 3, 1, 2, 2, 0]), soft, unnormalised):
        loss = CrossEntropy()
        with strict():
            value = loss.forward(z, y)
            grad = loss.backward()
            Y = loss.targets(y, z.shape, z.dtype)
            P = F.softmax(z)
        assert value == float(loss.value(z, Y))
        np.testing.assert_array_equal(grad, loss.gradient(z, Y))
        s = Y.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(grad, (P * s - Y) / len(z), rtol=8 * eps(dtype), atol=eps(dtype) / len(z))
        assert grad.dtype == dtype and np.all(np.isfinite(grad))
        np.testing.assert_allclose(grad.sum(axis=1), (s[:, 0] - Y.sum(axis=1)) / len(z), atol=4 * eps(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_fused_gradient_is_p_minus_y_bit_for_bit_for_one_hot_rows(dtype):
    """Rows summing to 1 exactly (labels, one-hot) give (P - Y) / m to the last bit; others
    (P * rowsum(Y) - Y) / m, which differs from it."""
    rng = np.random.default_rng(1)
    P = F.softmax(rng.normal(0, 3, (5, 3)).astype(dtype))
    Y = F.one_hot(np.array([0, 2, 1, 1, 0]), 3, dtype)
    with strict():
        np.testing.assert_array_equal(F.softmax_cross_entropy_grad(P, Y), (P - Y) / 5)
        Y[1] = [0.2, 0.3, 0.9]  # sums to 1.4: P - Y would be off by 0.4 P in that row
        g = F.softmax_cross_entropy_grad(P, Y)
    np.testing.assert_allclose(g, (P * Y.sum(axis=1, keepdims=True) - Y) / 5, rtol=4 * eps(dtype))
    assert not np.allclose(g[1], (P[1] - Y[1]) / 5)


def test_cross_entropy_on_probabilities_agrees_with_the_fused_gradient():
    """Softmax layer + CrossEntropy(from_logits=False) reaches dZ = (P * rowsum(Y) - Y) / m too."""
    rng = np.random.default_rng(2)
    Z, Y = rng.normal(size=(6, 4)), rng.uniform(0, 2, size=(6, 4))
    P = F.softmax(Z)
    through_softmax = F.softmax_backward(P, F.cross_entropy_grad(P, Y))
    np.testing.assert_allclose(through_softmax, CE_LOGITS.gradient(Z, Y), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_probability_losses_at_saturated_probabilities(dtype):
    """p exactly 0 or 1 (a saturated sigmoid or softmax) gives a finite, clamped cost and gradient."""
    with strict():
        p = F.sigmoid(arr([1000.0, -1000.0, 1000.0, -1000.0], dtype))
        assert p.tolist() == [1.0, 0.0, 1.0, 0.0]
        y = arr([1.0, 0.0, 0.0, 1.0], dtype)
        v, g = F.binary_cross_entropy(p, y), F.binary_cross_entropy_grad(p, y)
    assert float(v) == pytest.approx(50.0, rel=4 * eps(dtype))  # logs clamped at -100, as PyTorch
    assert v.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(g)) and g[0] == 0.0 and g[1] == 0.0 and g[2] > 0 > g[3]

    with strict():
        P = F.softmax(arr([[1000.0, 0.0], [0.0, 1000.0]], dtype))
        Y = arr([[1.0, 0.0], [1.0, 0.0]], dtype)
        v, g = F.cross_entropy(P, Y), F.cross_entropy_grad(P, Y)
    assert float(v) == pytest.approx(-math.log(np.finfo(dtype).tiny) / 2, rel=4 * eps(dtype))
    assert v.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(g)) and g[1, 0] < 0


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_one_hot(dtype):
    out = F.one_hot(np.array([2, 0, 1]), 3, dtype=dtype)
    assert out.dtype == dtype
    assert out.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


# --- properties -----------------------------------------------------------------------

finite_rows = arrays(
    np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(z=finite_rows, use_float32=st.booleans())
def test_softmax_rows_are_distributions(z, use_float32):
    dtype = np.float32 if use_float32 else np.float64
    z = z.astype(dtype)
    with strict():
        p = F.softmax(z)
        logp = F.log_softmax(z)
    assert p.dtype == logp.dtype == dtype
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=z.shape[1] * 2 * eps(dtype))
    assert np.all(logp <= 0)
    # log p of the largest logit is -log sum_k e^(z_k - max z), in [-log k, 0]
    assert np.all(logp.max(axis=-1) >= -math.log(z.shape[1]) * (1 + 4 * eps(dtype)))
    # the argmax has the largest probability and log-probability
    rows = np.arange(len(z))
    assert np.all(p[rows, z.argmax(axis=-1)] == p.max(axis=-1))


@settings(max_examples=60, deadline=None)
@given(z=arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e4, 1e4, allow_nan=False)),
       use_float32=st.booleans())
def test_activations_bounded_and_monotone_where_promised(z, use_float32):
    dtype = np.float32 if use_float32 else np.float64
    z = np.sort(z.astype(dtype))
    with strict():
        s, t, e = F.sigmoid(z), F.tanh(z), F.elu(z)
        ds = F.sigmoid_grad_from_output(s)
        gelu = F.gelu(z)
    assert np.all((s >= 0) & (s <= 1)) and np.all(np.diff(s) >= 0)
    assert np.all((t >= -1) & (t <= 1)) and np.all(np.diff(t) >= 0)
    assert np.all(e >= -1) and np.all(np.diff(e) >= 0)
    assert np.all((ds >= 0) & (ds <= 0.25))
    assert np.all(gelu >= -0.17) and np.all(gelu <= np.maximum(z, 0))


@settings(max_examples=60, deadline=None)
@given(z=arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e4, 1e4, allow_nan=False)),
       y=st.floats(0.0, 1.0))
def test_bce_with_logits_nonnegative_and_matches_probability_form(z, y):
    Y = np.full_like(z, y)
    with strict():
        v = F.binary_cross_entropy_with_logits(z, Y)
    assert np.isfinite(v)
    ref = _bce_logits_ref(z, Y)
    assert v == pytest.approx(ref, rel=1e-12, abs=1e-12)
    # the entropy of the target is the floor of the cost
    entropy = -(sp.xlogy(y, y) + sp.xlogy(1 - y, 1 - y))
    assert v >= entropy - 1e-9


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_relu_grad_from_output_at_the_kink_and_nan(dtype):
    z = np.array([-1000.0, -1.0, -0.0, 0.0, 1e-30, 1.0, 1000.0, np.nan], dtype=dtype)
    with strict():
        from_output = F.relu_grad_from_output(F.relu(z))
    assert from_output.dtype == dtype
    # 0 at the kink, as PyTorch; NaN in place of NaN
    np.testing.assert_array_equal(from_output, [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, np.nan])
