"""Rosenblatt's perceptron and the single sigmoid neuron on the logic gates."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.perceptron import ConvergenceWarning, Perceptron, SigmoidNeuron, step

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
GATES = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1])}
XOR = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("gate", sorted(GATES))
@pytest.mark.parametrize("shuffle", [True, False])
def test_the_perceptron_learns_and_and_or(gate, shuffle):
    y = GATES[gate]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a converging fit does not warn
        p = Perceptron(rng=0, shuffle=shuffle).fit(X, y)
    assert p.converged_
    np.testing.assert_array_equal(p.predict(X), y)
    assert p.w_.shape == (2,) and isinstance(p.b_, float)
    assert "converged" in p.message_
    # the history: one entry per epoch, the last one mistake-free and equal to the result
    h = p.history_
    assert len(h["mistakes"]) == p.n_epochs_ == len(h["w"]) == len(h["b"])
    assert h["mistakes"][-1] == 0 and all(k > 0 for k in h["mistakes"][:-1])
    assert h["w"].shape == (p.n_epochs_, 2)
    np.testing.assert_array_equal(h["w"][-1], p.w_)
    assert h["b"][-1] == p.b_


def test_the_textbook_run_on_and():
    """Samples in order, w = 0, b = 0, lr = 1, step(0) = 0: the run worked by hand."""
    p = Perceptron(lr=1.0, shuffle=False).fit(X, GATES["AND"])
    # epoch 1: only (1, 1) is wrong (z = 0 -> 0): w = (1, 1), b = 1;
    # epoch 2: (0,0) z=1 wrong -> b=0; (0,1) z=1 wrong -> w=(1,0), b=-1; (1,0) z=0 ok; (1,1) z=0 wrong -> w=(2,1), b=0
    assert p.history_["mistakes"][:2] == [1, 3]
    np.testing.assert_array_equal(p.history_["w"][0], [1, 1])
    np.testing.assert_array_equal(p.history_["w"][1], [2, 1])
    assert p.history_["b"][:2].tolist() == [1.0, 0.0]
    assert p.converged_


def test_the_perceptron_is_reproducible_from_its_seed():
    a = Perceptron(rng=42).fit(X, GATES["OR"])
    b = Perceptron(rng=np.random.default_rng(42)).fit(X, GATES["OR"])
    np.testing.assert_array_equal(a.history_["w"], b.history_["w"])
    assert a.history_["mistakes"] == b.history_["mistakes"]


def test_the_perceptron_separates_any_separable_cloud():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(200, 3))
    score = pts @ np.array([1.0, -2.0, 0.5]) + 0.3
    keep = np.abs(score) > 0.1  # a margin, so convergence is quick
    pts, y = pts[keep], (score[keep] > 0).astype(int)
    p = Perceptron(max_epochs=1000, rng=1).fit(pts, y)
    assert p.converged_
    np.testing.assert_array_equal(p.predict(pts), y)
    np.testing.assert_array_equal(p.predict(pts), step(p.decision_function(pts)))


def test_xor_does_not_converge_and_says_why():
    with pytest.warns(ConvergenceWarning, match="not linearly separable") as record:
        p = Perceptron(max_epochs=25, rng=0).fit(X, XOR)
    assert not p.converged_
    assert p.n_epochs_ == 25
    assert all(k > 0 for k in p.history_["mistakes"])
    assert "XOR" in p.message_ and "two-layer network" in p.message_ and "hidden layer" in p.message_
    assert str(record[0].message).endswith(p.message_)
    assert np.any(p.predict(X) != XOR)


def test_xor_is_learnt_by_the_suggested_two_layer_network():
    model = cr.Sequential([cr.Dense(2, 4, init="glorot_uniform"), cr.Tanh(), cr.Dense(4, 1)], rng=0, dtype="float64")
    model.fit(X.astype(float), XOR, loss="bce", optimizer=cr.optim.Adam(0.05), epochs=300, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.predict(X.astype(float)).ravel(), XOR)


@pytest.mark.parametrize("gate", sorted(GATES))
def test_the_sigmoid_neuron_learns_and_and_or(gate):
    y = GATES[gate]
    neuron = SigmoidNeuron(rng=0).fit(X, y)
    np.testing.assert_array_equal(neuron.predict(X), y)
    proba = neuron.predict_proba(X)
    assert proba.shape == (4,) and np.all((proba > 0) & (proba < 1))
    assert neuron.cost_history_[-1] < 0.2 < neuron.cost_history_[0]
    assert neuron.cost(X, y) == pytest.approx(neuron.cost_history_[-1], rel=1e-12)


@pytest.mark.parametrize("gate", sorted(GATES))
def test_the_cost_falls_at_every_step_with_a_small_learning_rate(gate):
    neuron = SigmoidNeuron(lr=0.1, epochs=400, rng=1).fit(X, GATES[gate])
    assert np.all(np.diff(neuron.cost_history_) < 0)


def test_the_descent_path_is_recorded():
    neuron = SigmoidNeuron(lr=0.5, epochs=50, rng=2).fit(X, GATES["OR"])
    path = neuron.path_
    assert path["w"].shape == (51, 2) and path["b"].shape == (51,) and neuron.cost_history_.shape == (51,)
    assert path["b"][0] == 0.0 and np.all(np.abs(path["w"][0]) < 0.1)  # the start: b = 0, small random w
    np.testing.assert_array_equal(path["w"][-1], neuron.w_)
    assert path["b"][-1] == neuron.b_
    # each recorded cost is J at the recorded point
    for t in (0, 10, 50):
        assert neuron.cost_history_[t] == pytest.approx(SigmoidNeuron.cost_at(X, GATES["OR"], path["w"][t],
                                                                               path["b"][t]), rel=1e-12)
    # one step is w := w - lr X.T (a - y) / m
    a = 1 / (1 + np.exp(-(X @ path["w"][0] + path["b"][0])))
    np.testing.assert_allclose(path["w"][1], path["w"][0] - 0.5 * X.T @ (a - GATES["OR"]) / 4, rtol=1e-12)
    assert path["b"][1] == pytest.approx(path["b"][0] - 0.5 * np.mean(a - GATES["OR"]), rel=1e-12)


@pytest.mark.parametrize("model", [Perceptron(rng=0), SigmoidNeuron(rng=0)], ids=["perceptron", "sigmoid"])
def test_bad_inputs_get_clear_errors(model):
    with pytest.raises(ValueError, match=r"labels must be 0 or 1; received other values such as \[2\]"):
        model.fit(X, [0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"y > 0"):  # -1/+1 labels get a hint
        model.fit(X, [-1, 1, 1, -1])
    with pytest.raises(TypeError, match="labels must be the numbers 0 and 1"):
        model.fit(X, ["a", "b", "a", "b"])
    with pytest.raises(ValueError, match="X has 4 samples but y has 3"):
        model.fit(X, [0, 1, 1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        model.fit([0, 1, 1, 0], [0, 1, 1, 0])
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.array([[0, np.nan], [1, 1]]), [0, 1])
    with pytest.raises(RuntimeError, match="not fitted yet"):
        model.predict(X)
    model.fit(X, np.array([0.0, 1.0, 1.0, 1.0]))  # whole floats, and booleans, are fine labels
    model.fit(X, np.array([False, True, True, True]))
    with pytest.raises(ValueError, match=r"X must have 2 features \(as in fit\); received shape \(4, 3\)"):
        model.predict(np.zeros((4, 3)))


def test_bad_hyperparameters_get_clear_errors():
    with pytest.raises(ValueError, match="Perceptron: lr must be a finite number > 0; received -1"):
        Perceptron(lr=-1)
    with pytest.raises(ValueError, match="Perceptron: max_epochs must be an integer >= 1; received 0"):
        Perceptron(max_epochs=0)
    with pytest.raises(ValueError, match="SigmoidNeuron: lr must be a finite number > 0; received 0"):
        SigmoidNeuron(lr=0)
    with pytest.raises(TypeError, match="SigmoidNeuron: epochs must be an integer >= 0; received 2.5"):
        SigmoidNeuron(epochs=2.5)
