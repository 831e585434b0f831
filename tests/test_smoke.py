"""The two learning promises: the bundled digits and XOR."""

from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.training.config import TrainConfig
from chainrule.training.run import train_run

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_digits_recipe_reaches_97_percent_on_a_stratified_80_20_split(tmp_path):
    card = train_run(TrainConfig.from_toml(CONFIGS / "digits.toml"), tmp_path, verbose=0)
    assert card["test"]["accuracy"] >= 0.97
    assert card["wall_time_seconds"] < 30


def test_xor_is_learnt_by_a_2_4_1_network():
    X, y = cr.data.make_xor()
    model = cr.Sequential([cr.Dense(2, 4, init="glorot_uniform"), cr.Tanh(), cr.Dense(4, 1, init="glorot_uniform")],
                          rng=0, dtype="float64")
    model.fit(X, y, loss="bce", optimizer=cr.optim.Adam(lr=0.05), epochs=500, batch_size=4, verbose=0)
    assert np.array_equal(model.predict(X), y)
