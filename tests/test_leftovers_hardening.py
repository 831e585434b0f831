"""Leftovers of the hardening and newcomer issues: the divergence hint, backward before forward,
an empty .npy given to predict, and CSV files in another encoding."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data.preprocessing import Standardizer
from chainrule.training.loop import TrainingDiverged

HINT = "standardise them"


def diverge(model, X):
    y = np.ones(len(X))
    with pytest.raises(TrainingDiverged) as caught:
        model.fit(X, y, loss="mse", optimizer=cr.optim.SGD(lr=1e6), epochs=50, batch_size=len(X), verbose=0)
    return str(caught.value)


def heavy_tailed(rows=200):
    rng = np.random.default_rng(0)
    return rng.standard_t(1, size=(rows, 3)) * 1000  # far beyond 10 in size


def test_the_hint_suggests_standardising_raw_inputs():
    assert HINT in diverge(cr.Sequential([cr.Dense(3, 1)], rng=0), heavy_tailed())


def test_no_hint_when_the_inputs_are_standardised_already():
    X = heavy_tailed()
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # mean 0, std 1, and still outliers beyond 10
    assert np.abs(X).max() > 10
    message = diverge(cr.Sequential([cr.Dense(3, 1)], rng=0), X)
    assert "lr=" in message and HINT not in message


def test_no_hint_when_the_model_standardises_its_inputs():
    X = heavy_tailed()
    model = cr.Sequential([cr.Dense(3, 1)], rng=0)
    model.preprocessor = Standardizer().fit(X)
    message = diverge(model, X)
    assert "lr=" in message and HINT not in message
