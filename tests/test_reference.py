"""The loop-per-sample, loop-per-neuron reference gives the same numbers as the matrices."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import losses as L
from networks import ACTIVATIONS, random_network
from chainrule.reference import loop_forward, loop_gradients, vectorised_gradients, vectorization_speedup

TOL = 1e-10


def assert_same(model, X, y, loss):
    params_before = model.params_.copy()
    cost, grads = loop_gradients(model, X, y, loss)
    np.testing.assert_array_equal(model.params_, params_before)  # the loops change nothing
    expected_cost, expected = vectorised_gradients(model, X, y, loss)
    assert set(grads) == set(expected)
    assert cost == pytest.approx(expected_cost, abs=TOL)
    for name, grad in expected.items():
        assert grads[name].shape == grad.shape and grads[name].dtype == np.float64, name
        np.testing.assert_allclose(grads[name], grad, rtol=0, atol=TOL, err_msg=name)
    assert any(np.any(g != 0) for g in expected.values())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), depth=st.integers(1, 3), data=st.data(),
       activation=st.sampled_from(sorted(ACTIVATIONS)), loss_name=st.sampled_from(["mse", "ce"]))
def test_loops_equal_matrices_on_random_networks(seed, depth, data, activation, loss_name):
    widths = data.draw(st.lists(st.integers(1, 5), min_size=depth, max_size=depth), label="widths")
    n_out = data.draw(st.integers(1 if loss_name == "mse" else 2, 5), label="n_out")
    m = data.draw(st.integers(1, 6), label="m")
    model = random_network(seed, widths, activation, n_out)
    rng = np.random.default_rng(seed + 2)
    X = rng.normal(size=(m, widths[0]))
    np.testing.assert_allclose(loop_forward(model, X), model.forward(X), rtol=0, atol=TOL)
    if loss_name == "mse":
        y, loss = rng.normal(size=(m, n_out)), L.MSE()
    else:
        y, loss = rng.integers(0, n_out, size=m), L.CrossEntropy(from_logits=True)
    assert_same(model, X, y, loss)


@pytest.mark.parametrize("loss", [L.CrossEntropy(from_logits=False), L.BinaryCrossEntropy(from_logits=True),
                                  L.BinaryCrossEntropy(from_logits=False), "mse"], ids=str)
def test_the_other_losses_and_the_penalties(loss):
    layers = [cr.Dense(4, 5, l2=0.03), cr.ReLU(), cr.Dense(5, 3, l1=0.01)]
    if isinstance(loss, (L.CrossEntropy, L.BinaryCrossEntropy)) and not loss.from_logits:
        layers.append(cr.Sigmoid())  # probabilities out
    model = cr.Sequential(layers, rng=11, dtype="float64")
    rng = np.random.default_rng(12)
    X = rng.normal(size=(7, 4))
    if isinstance(loss, L.CrossEntropy):
        y = np.eye(3)[rng.integers(0, 3, size=7)]  # one-hot targets work as well as labels
    elif isinstance(loss, L.BinaryCrossEntropy):
        y = rng.integers(0, 2, size=(7, 3))
    else:
        y = rng.normal(size=(7, 3))
    assert_same(model, X, y, loss)


def test_a_float32_model_is_computed_in_float64_by_the_loops():
    model = random_network(3, [3, 4], "tanh", 2, dtype="float32")
    X = np.random.default_rng(4).normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])
    cost, grads = loop_gradients(model, X, y, "cross_entropy")
    expected_cost, expected = vectorised_gradients(model.copy("float64"), X, y, "cross_entropy")
    assert cost == pytest.approx(expected_cost, abs=TOL)
    for name in expected:
        np.testing.assert_allclose(grads[name], expected[name], rtol=0, atol=TOL)


def test_vectorization_speedup_on_a_small_case():
    result = vectorization_speedup(sizes=(32, 16, 4), m=16, repeats=2, rng=0)
    assert set(result) == {"loop_seconds", "vectorised_seconds", "speedup", "max_abs_difference"}
    assert result["loop_seconds"] > 0 and result["vectorised_seconds"] > 0
    assert result["speedup"] == pytest.approx(result["loop_seconds"] / result["vectorised_seconds"])
    assert result["speedup"] > 1
    assert result["max_abs_difference"] < 1e-9


def test_clear_errors():
    with pytest.raises(TypeError, match=re.escape("model.layers[1] is Dropout")):
        loop_forward(cr.Sequential([cr.Dense(2, 2), cr.Dropout(0.5)], rng=0), np.zeros((1, 2)))
    model = cr.Sequential([cr.Dense(2, 1)], rng=0)
    with pytest.raises(TypeError, match="received Huber"):
        loop_gradients(model, np.zeros((1, 2)), np.zeros(1), L.Huber())
    with pytest.raises(ValueError, match="expects 2"):
        loop_forward(model, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="sizes must be two or more positive integers"):
        vectorization_speedup(sizes=(5,))
    with pytest.raises(ValueError, match="m must be a positive integer"):
        vectorization_speedup(m=0)
