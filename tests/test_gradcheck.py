"""Backprop against central differences, through one shared harness.

``assert_gradients_ok`` runs ``cr.gradient_report`` (float64, h = 1e-6) and
asserts that the relative error of every parameter's gradient and of dC/dX is
below 1e-6. It is applied to every layer alone, every loss, models of random
architecture, and, to show that the check can fail, to deliberately broken layers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses as L

TOL = 1e-6


def assert_gradients_ok(model, X, y, loss, training=False, tol=TOL):
    """Every entry of the gradient report (each parameter and X) has relative error < tol."""
    params_before = model.params_.copy()
    state_before = {k: v.copy() for k, v in model.state_arrays().items()}
    report = cr.gradient_report(model, X, y, loss, training=training)
    expected = {label for label, _, _ in model.parameter_names()} | {"X"}
    assert set(report) == expected, f"the report misses {expected - set(report)}"
    bad = {k: v for k, v in report.items() if not v < tol}
    assert not bad, f"gradients off by more than {tol}: {bad} (full report {report})"
    # a vacuous pass (every gradient exactly zero) proves nothing
    assert np.any(model.grads_ != 0) or model.num_params == 0, "every parameter gradient is zero"
    # the check leaves the model as it found it
    np.testing.assert_array_equal(model.params_, params_before)
    for name, value in model.state_arrays().items():
        np.testing.assert_array_equal(value, state_before[name], err_msg=name)
    return report


def _rng(seed):
    return np.random.default_rng(seed)


# --- every layer alone ---------------------------------------------------------------

M, N_IN, N_OUT = 6, 4, 3


def _dense_then(layer, n=N_IN):
    """A parameterless layer checked behind a Dense, so that its dA reaches a parameter."""
    return [cr.Dense(N_IN, n, init="glorot_normal", bias_init="normal"), layer]


LAYER_CASES = {
    "Dense": lambda: [cr.Dense(N_IN, N_OUT, bias_init="normal")],
    "Dense-l2": lambda: [cr.Dense(N_IN, N_OUT, bias_init="normal", l2=0.3)],
    "Dense-l1": lambda: [cr.Dense(N_IN, N_OUT, bias_init="normal", l1=0.2)],
    "Dense-l1-l2": lambda: [cr.Dense(N_IN, N_OUT, bias_init="normal", l1=0.1, l2=0.05)],
    "Sigmoid": lambda: [cr.Sigmoid()],
    "Sigmoid-after-Dense": lambda: _dense_then(cr.Sigmoid()),
    "Tanh": lambda: [cr.Tanh()],
    "Tanh-after-Dense": lambda: _dense_then(cr.Tanh()),
    "ReLU": lambda: [cr.ReLU()],
    "ReLU-after-Dense": lambda: _dense_then(cr.ReLU()),
    "LeakyReLU": lambda: [cr.LeakyReLU()],
    "LeakyReLU(0.2)-after-Dense": lambda: _dense_then(cr.LeakyReLU(0.2)),
    "ELU": lambda: [cr.ELU()],
    "ELU(0.7)-after-Dense": lambda: _dense_then(cr.ELU(0.7)),
    "GELU": lambda: [cr.GELU()],
    "GELU-after-Dense": lambda: _dense_then(cr.GELU()),
    "GELU-tanh": lambda: [cr.GELU(approximate="tanh")],
    "GELU-tanh-after-Dense": lambda: _dense_then(cr.GELU(approximate="tanh")),
    "Softmax": lambda: [cr.Softmax()],
    "Softmax-after-Dense": lambda: _dense_then(cr.Softmax()),
    "Identity": lambda: [cr.Identity()],
    "Identity-after-Dense": lambda: _dense_then(cr.Identity()),
    "BatchNorm": lambda: [cr.BatchNorm(N_IN)],
    "BatchNorm-after-Dense": lambda: _dense_then(cr.BatchNorm(N_IN)),
}


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_layer_gradients(case):
    model = cr.Sequential(LAYER_CASES[case](), rng=1, dtype="float64")
    rng = _rng(2)
    X = rng.normal(size=(M, N_IN))
    Y = rng.normal(size=(M, model.n_outputs or N_IN))
    training = "BatchNorm" in case  # BatchNorm alone in training mode here; eval mode below
    assert_gradients_ok(model, X, Y, L.MSE(), training=training)


def _randomise_batchnorm(model, seed):
    rng = _rng(seed)
    for layer in model.layers:
        if isinstance(layer, cr.BatchNorm):
            layer.gamma = rng.uniform(0.5, 2.0, layer.features)
            layer.beta = rng.normal(size=layer.features)
            layer.running_mean = rng.normal(size=layer.features)
            layer.running_var = rng.uniform(0.5, 2.0, layer.features)


@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@pytest.mark.parametrize("after_dense", [False, True], ids=["alone", "after-Dense"])
def test_batchnorm_gradients_with_random_affine_and_statistics(training, after_dense):
    layers = _dense_then(cr.BatchNorm(N_IN)) if after_dense else [cr.BatchNorm(N_IN)]
    model = cr.Sequential(layers, rng=3, dtype="float64")
    _randomise_batchnorm(model, 4)
    rng = _rng(5)
    X = rng.normal(1.0, 2.0, size=(M, N_IN))
    Y = rng.normal(size=(M, N_IN))
    assert_gradients_ok(model, X, Y, L.MSE(), training=training)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_gradients_in_training(p):
    """The harness replays the dropout rng, so every evaluation sees the same mask."""
    model = cr.Sequential(_dense_then(cr.Dropout(p)) + [cr.Dense(N_IN, N_OUT)], rng=6, dtype="float64")
    rng = _rng(7)
    X = rng.normal(size=(M, N_IN))
    Y = rng.normal(size=(M, N_OUT))
    assert_gradients_ok(model, X, Y, L.MSE(), training=True)
    model.forward(X, training=True)
    mask = model.layers[1].mask
    assert np.any(mask == 0) and np.any(mask != 0), "the mask should drop some units and keep others"


def test_dropout_gradients_in_eval_are_the_identity():
    model = cr.Sequential(_dense_then(cr.Dropout(0.5)), rng=8, dtype="float64")
    rng = _rng(9)
    assert_gradients_ok(model, rng.normal(size=(M, N_IN)), rng.normal(size=(M, N_IN)), L.MSE(), training=False)


def test_flatten_gradients_on_3d_input():
    model = cr.Sequential([cr.Flatten(), cr.Dense(12, N_OUT, bias_init="normal"), cr.Tanh()], rng=10, dtype="float64")
    rng = _rng(11)
    X = rng.normal(size=(M, 3, 4))
    Y = rng.normal(size=(M, N_OUT))
    report = assert_gradients_ok(model, X, Y, L.MSE())
    assert set(report) == {"W[1]", "b[1]", "X"}


def test_flatten_alone_on_3d_input():
    model = cr.Sequential([cr.Flatten()], dtype="float64")
    rng = _rng(12)
    assert_gradients_ok(model, rng.normal(size=(M, 2, 3)), rng.normal(size=(M, 6)), L.MSE())


# --- every loss ------------------------------------------------------------------------

K = 3


def _labels(rng):
    return rng.integers(0, K, size=M)


LOSS_CASES = {
    # name: (head layers after a Dense(N_IN, K), loss, target maker)
    "MSE": ([], L.MSE(), lambda rng: rng.normal(size=(M, K))),
    "Huber": ([], L.Huber(), lambda rng: rng.normal(0.0, 2.0, size=(M, K))),
    "Huber(0.3)": ([], L.Huber(0.3), lambda rng: rng.normal(size=(M, K))),
    "BCE-logits": ([], L.BinaryCrossEntropy(from_logits=True), lambda rng: rng.integers(0, 2, size=(M, K))),
    "BCE-logits-soft": ([], L.BinaryCrossEntropy(from_logits=True), lambda rng: rng.uniform(size=(M, K))),
    "BCE-probs": ([cr.Sigmoid()], L.BinaryCrossEntropy(from_logits=False),
                  lambda rng: rng.integers(0, 2, size=(M, K)).astype(float)),
    "CE-logits-int-labels": ([], L.CrossEntropy(from_logits=True), _labels),
    "CE-logits-one-hot": ([], L.CrossEntropy(from_logits=True), lambda rng: np.eye(K)[_labels(rng)]),
    "CE-logits-soft": ([], L.CrossEntropy(from_logits=True),
                       lambda rng: cr.functional.softmax(rng.normal(size=(M, K)))),
    "CE-probs-int-labels": ([cr.Softmax()], L.CrossEntropy(from_logits=False), _labels),
    "CE-probs-one-hot": ([cr.Softmax()], L.CrossEntropy(from_logits=False), lambda rng: np.eye(K)[_labels(rng)]),
    # soft rows that do not sum to 1: dZ = (P * rowsum(Y) - Y) / m, fused or through Softmax
    "CE-logits-soft-unnormalised": ([], L.CrossEntropy(from_logits=True), lambda rng: rng.uniform(0, 2, size=(M, K))),
    "CE-probs-soft-unnormalised": ([cr.Softmax()], L.CrossEntropy(from_logits=False),
                                   lambda rng: rng.uniform(0, 2, size=(M, K))),
    "string-mse": ([], "mse", lambda rng: rng.normal(size=(M, K))),
    "string-cross_entropy": ([], "cross_entropy", _labels),
    "string-bce": ([], "bce", lambda rng: rng.integers(0, 2, size=(M, K))),
}


@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_loss_gradients(case):
    head, loss, make_y = LOSS_CASES[case]
    model = cr.Sequential([cr.Dense(N_IN, K, init="glorot_normal", bias_init="normal"), *head],
                          rng=13, dtype="float64")
    rng = _rng(14)
    assert_gradients_ok(model, rng.normal(size=(M, N_IN)), make_y(rng), loss)


def test_binary_loss_with_one_output_and_1d_targets():
    model = cr.Sequential([cr.Dense(N_IN, 1, bias_init="normal")], rng=15, dtype="float64")
    rng = _rng(16)
    X, y = rng.normal(size=(M, N_IN)), rng.integers(0, 2, size=M)
    assert_gradients_ok(model, X, y, L.BinaryCrossEntropy())
    assert_gradients_ok(model, X, rng.normal(size=M), L.MSE())


# --- models of random architecture ----------------------------------------------------------

ACTIVATIONS = [
    cr.Sigmoid, cr.Tanh, cr.ReLU, cr.LeakyReLU, lambda: cr.LeakyReLU(0.2), cr.ELU, lambda: cr.ELU(0.5),
    cr.GELU, lambda: cr.GELU(approximate="tanh"), cr.Identity, cr.Softmax,
]
HEADS = ["mse", "huber", "bce_logits", "bce_probs", "ce_logits_labels", "ce_logits_one_hot", "ce_probs"]
INITS = ["glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal"]


def random_model(seed):
    """Depth 1-4 (Dense layers), widths 1-8, random activations, optional BatchNorm and Dropout, random loss."""
    rng = _rng(seed)
    depth = int(rng.integers(1, 5))
    head = HEADS[int(rng.integers(len(HEADS)))]
    n_in = int(rng.integers(1, 9))
    out = int(rng.integers(2, 9)) if head.startswith("ce") else int(rng.integers(1, 9))
    widths = [n_in, *rng.integers(1, 9, size=depth - 1).tolist(), out]
    training = bool(rng.integers(2))
    layers = []
    for i in range(depth):
        layers.append(cr.Dense(widths[i], widths[i + 1], init=INITS[int(rng.integers(len(INITS)))],
                               bias_init="normal", l2=float(rng.choice([0.0, 0.01]))))
        if i < depth - 1:
            if rng.random() < 0.25:
                layers.append(cr.BatchNorm(widths[i + 1]))
            layers.append(ACTIVATIONS[int(rng.integers(len(ACTIVATIONS)))]())
            if rng.random() < 0.2:
                layers.append(cr.Dropout(0.3))
    m = int(rng.integers(3, 9))
    X = rng.normal(size=(m, n_in))
    if head == "mse":
        loss, y = L.MSE(), rng.normal(size=(m, out))
    elif head == "huber":
        loss, y = L.Huber(float(rng.uniform(0.2, 2.0))), rng.normal(size=(m, out))
    elif head == "bce_logits":
        loss, y = L.BinaryCrossEntropy(), rng.integers(0, 2, size=(m, out))
    elif head == "bce_probs":
        layers.append(cr.Sigmoid())
        loss, y = L.BinaryCrossEntropy(from_logits=False), rng.integers(0, 2, size=(m, out)).astype(float)
    elif head == "ce_logits_labels":
        loss, y = L.CrossEntropy(), rng.integers(0, out, size=m)
    elif head == "ce_logits_one_hot":
        loss, y = L.CrossEntropy(), np.eye(out)[rng.integers(0, out, size=m)]
    else:
        layers.append(cr.Softmax())
        loss, y = L.CrossEntropy(from_logits=False), rng.integers(0, out, size=m)
    model = cr.Sequential(layers, rng=seed, dtype="float64")
    if any(isinstance(layer, cr.BatchNorm) for layer in layers):
        _randomise_batchnorm(model, seed + 1000)
    return model, X, y, loss, training


N_RANDOM_MODELS = 24


@pytest.mark.parametrize("seed", range(N_RANDOM_MODELS))
def test_random_architecture_gradients(seed):
    model, X, y, loss, training = random_model(seed)
    assert_gradients_ok(model, X, y, loss, training=training)


def test_random_architectures_cover_the_menu():
    """The seeds above exercise every activation kind, every head, depths 1 to 4, and both modes."""
    kinds, losses, depths, modes = set(), set(), set(), set()
    for seed in range(N_RANDOM_MODELS):
        model, _, y, loss, training = random_model(seed)
        kinds |= {repr(layer) for layer in model.layers}
        losses.add((repr(loss).split("(")[0], getattr(loss, "from_logits", None), np.asarray(y).ndim))
        depths.add(sum(isinstance(layer, cr.Dense) for layer in model.layers))
        modes.add(training)
    assert depths == {1, 2, 3, 4}
    assert modes == {True, False}
    for name in ("Sigmoid()", "Tanh()", "ReLU()", "LeakyReLU()", "ELU()", "GELU()", "GELU(approximate='tanh')",
                 "Identity()", "Softmax()"):
        assert name in kinds, name
    assert any(k.startswith("BatchNorm") for k in kinds) and any(k.startswith("Dropout") for k in kinds)
    assert {name for name, *_ in losses} == {"MSE", "Huber", "BinaryCrossEntropy", "CrossEntropy"}


# --- gradcheck itself -------------------------------------------------------------------------


class WrongSignDense(cr.Dense):
    """A Dense whose dW has the wrong sign: the checker must flag W (error 1) and nothing else."""

    def backward(self, dZ, need_input_grad=True):
        out = super().backward(dZ, need_input_grad)
        self.dW *= -1
        return out


class ForgetfulTanh(cr.Tanh):
    """A Tanh that forgets to multiply by its derivative: dZ = dA."""

    def backward(self, dA, need_input_grad=True):
        return dA


class SignFlippedSigmoid(cr.Sigmoid):
    def backward(self, dA, need_input_grad=True):
        return -super().backward(dA, need_input_grad)


def _broken_case(layers, seed=17):
    model = cr.Sequential(layers, rng=seed, dtype="float64")
    rng = _rng(seed)
    return model, rng.normal(size=(M, N_IN)), rng.normal(size=(M, model.n_outputs))


def test_gradcheck_catches_a_wrong_sign_in_dW():
    model, X, Y = _broken_case([WrongSignDense(N_IN, N_OUT, bias_init="normal")])
    report = cr.gradient_report(model, X, Y, "mse")
    assert report["W[1]"] == pytest.approx(1.0, abs=1e-6)
    assert report["b[1]"] < TOL and report["X"] < TOL
    assert cr.gradcheck(model, X, Y, "mse") == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(AssertionError, match=re.escape("W[1]")):
        assert_gradients_ok(model, X, Y, L.MSE())


def test_gradcheck_catches_a_sign_flipped_activation():
    model, X, Y = _broken_case([cr.Dense(N_IN, N_OUT), SignFlippedSigmoid()])
    report = cr.gradient_report(model, X, Y, "mse")
    assert min(report.values()) == pytest.approx(1.0, abs=1e-6)  # everything upstream is reversed


def test_gradcheck_catches_a_missing_derivative():
    model, X, Y = _broken_case([cr.Dense(N_IN, N_OUT, init="glorot_normal"), ForgetfulTanh(),
                                cr.Dense(N_OUT, 2)])
    X = 3 * X  # saturate the tanh, so that forgetting its derivative shows
    report = cr.gradient_report(model, X, Y[:, :2], "mse")
    assert report["W[2]"] < TOL  # downstream of the bug: right
    assert report["W[1]"] > 0.1 and report["X"] > 0.1
    with pytest.raises(AssertionError):
        assert_gradients_ok(model, X, Y[:, :2], L.MSE())


class HalfL2Dense(cr.Dense):
    """A subtle bug: the L2 term of dW is l2 W instead of 2 l2 W."""

    def backward(self, dZ, need_input_grad=True):
        out = super().backward(dZ, need_input_grad)
        self.dW -= self.l2 * self.W
        return out


def test_gradcheck_catches_a_subtle_penalty_bug():
    model, X, Y = _broken_case([HalfL2Dense(N_IN, N_OUT, l2=0.01), cr.Tanh()])
    report = cr.gradient_report(model, X, Y, "mse")
    assert report["W[1]"] > 1e-4
    assert report["b[1]"] < TOL and report["X"] < TOL


def test_a_gradient_that_is_zero_in_theory_passes():
    """A Dense bias just before a training-mode BatchNorm has gradient exactly 0 in theory (the batch
    mean absorbs it): backprop gives rounding noise ~1e-17 and central differences noise ~1e-10, and
    their plain relative error is near 1. The report must not call that an error."""
    model = cr.Sequential([cr.Dense(N_IN, 3, bias_init="normal"), cr.BatchNorm(3), cr.Tanh()], rng=24, dtype="float64")
    rng = _rng(25)
    X, Y = rng.normal(size=(M, N_IN)), rng.normal(size=(M, 3))
    report = assert_gradients_ok(model, X, Y, L.MSE(), training=True)
    assert np.max(np.abs(model.layers[0].db)) < 1e-12
    assert report["b[1]"] < TOL
    # the same bias made to matter (eval mode: fixed statistics) is checked in full
    assert_gradients_ok(model, X, Y, L.MSE(), training=False)
    assert np.max(np.abs(model.layers[0].db)) > 1e-3


def test_gradcheck_on_a_float32_model_checks_a_float64_copy():
    model = cr.Sequential([cr.Dense(N_IN, 5), cr.Tanh(), cr.Dense(5, N_OUT)], rng=18)
    assert model.dtype == np.float32
    params = model.params_.copy()
    rng = _rng(19)
    X, y = rng.normal(size=(M, N_IN)).astype(np.float32), rng.integers(0, N_OUT, size=M)
    error = cr.gradcheck(model, X, y, "cross_entropy")
    assert error < TOL
    assert model.dtype == np.float32 and model.params_.dtype == np.float32
    np.testing.assert_array_equal(model.params_, params)
    with pytest.raises(ValueError, match="float64"):
        cr.gradient_report(model, X, y, "cross_entropy")


def test_gradcheck_float32_model_with_dropout_and_batchnorm_in_training():
    model = cr.Sequential([cr.Dense(N_IN, 5), cr.BatchNorm(5), cr.ELU(), cr.Dropout(0.3), cr.Dense(5, 2)], rng=20)
    rng = _rng(21)
    X, y = rng.normal(size=(M, N_IN)).astype(np.float32), rng.normal(size=(M, 2))
    state = {k: v.copy() for k, v in model.state_arrays().items()}
    assert cr.gradcheck(model, X, y, "mse", training=True) < TOL
    for name, value in model.state_arrays().items():
        np.testing.assert_array_equal(value, state[name], err_msg=name)


def test_gradient_report_restores_batchnorm_running_statistics():
    model = cr.Sequential([cr.Dense(N_IN, 3), cr.BatchNorm(3)], rng=22, dtype="float64")
    before = {k: v.copy() for k, v in model.state_arrays().items()}
    rng = _rng(23)
    cr.gradient_report(model, rng.normal(size=(M, N_IN)), rng.normal(size=(M, 3)), "mse", training=True)
    for name, value in model.state_arrays().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_relative_error_definition():
    from chainrule.gradcheck import relative_error

    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([-1.0, 0.0])) == 1.0
    assert relative_error(np.array([2.0]), np.array([1.0])) == pytest.approx(1 / 3)
    assert relative_error(np.array([1.0]), np.array([0.0])) == 1.0
    # the floor only matters where both gradients are smaller than it
    assert relative_error(np.array([1e-17]), np.array([1e-10]), floor=1e-3) == pytest.approx(1e-7)
    assert relative_error(np.array([2.0]), np.array([1.0]), floor=1e-3) == pytest.approx(1 / 3)
