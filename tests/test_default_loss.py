"""One rule for the loss of a model that was never trained: predict, predict_proba, evaluate and
explain all read the outputs the same way (Sequential.default_loss)."""

import numpy as np
import pytest

import chainrule as cr


def model(*last, n_out=3):
    return cr.Sequential([cr.Dense(4, 5), cr.Tanh(), cr.Dense(5, n_out), *last], rng=0, dtype="float64")


@pytest.mark.parametrize("layers, n_out, expected, from_logits", [
    ((), 3, cr.losses.CrossEntropy, True),
    ((cr.Softmax(),), 3, cr.losses.CrossEntropy, False),
    ((cr.Sigmoid(),), 1, cr.losses.BinaryCrossEntropy, False),
    ((), 1, cr.losses.MSE, None),
])
def test_the_rule_by_last_layer(layers, n_out, expected, from_logits):
    loss = model(*layers, n_out=n_out).default_loss()
    assert type(loss) is expected
    assert getattr(loss, "from_logits", None) == from_logits


def test_a_models_own_loss_wins():
    m = model().compile(cr.losses.MSE())
    assert isinstance(m.default_loss(), cr.losses.MSE) and m.task == "regression"


def test_evaluate_predict_and_explain_agree_on_class_labels_without_a_loss():
    m = model()
    X = np.random.default_rng(0).normal(size=(6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    result = m.evaluate(X, y)  # read as classes, as predict reads them: no MSE shape error
    expected = cr.losses.CrossEntropy().forward(m.forward(X), y)
    assert result["loss"] == pytest.approx(expected, rel=1e-12)
    assert result["accuracy"] == np.mean(m.predict(X) == y)
    ex = m.explain(X[:2], y[:2], show=False)
    assert ex.cost == pytest.approx(cr.losses.CrossEntropy().forward(m.forward(X[:2]), y[:2]), rel=1e-12)


def test_one_raw_output_is_regression_everywhere():
    m = model(n_out=1)
    X = np.random.default_rng(1).normal(size=(5, 4))
    y = np.linspace(-1, 1, 5)
    assert m.task == "regression"
    assert m.predict(X).shape == (5, 1)
    assert m.evaluate(X, y)["loss"] == pytest.approx(np.mean((m.forward(X)[:, 0] - y) ** 2), rel=1e-12)
    assert m.explain(X[:2], y[:2], show=False).cost_equation.startswith("C = MSE")
