"""Edge cases found in review: each one a promise of the README that must hold at the margins."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.main import main
from chainrule.training.config import TrainConfig
from chainrule.training.run import train_run


@pytest.fixture
def digits():
    X, y = cr.data.load_digits()
    return X[:200] / 16, y[:200]


def test_every_generated_dataset_trains_through_a_recipe(tmp_path):
    for name in ("xor", "spirals", "moons", "circles", "blobs", "sine"):
        config = TrainConfig.from_dict({"data": {"dataset": name, "n_samples": 60, "validation_split": 0.0},
                                        "train": {"epochs": 2}})
        card = train_run(config, tmp_path / name, verbose=0)
        assert card["epochs_run"] == 2


def test_split_of_real_valued_targets_is_not_stratified_and_never_empty():
    X = np.arange(100.0).reshape(-1, 1)
    X_train, X_test, _, _ = cr.data.train_test_split(X, X[:, 0] * 0.5, test_size=0.2, rng=0)
    assert len(X_test) == 20 and len(X_train) == 80
    with pytest.raises(ValueError, match="leaves 4 training and 0 test rows"):
        cr.data.train_test_split(X[:4], np.array([0, 1, 2, 3]), test_size=0.2, rng=0)


def test_batchnorm_with_a_one_row_last_batch_is_refused_before_training(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 8), cr.BatchNorm(8), cr.ReLU(), cr.Dense(8, 10)], rng=0)
    before = model.params_.copy()
    with pytest.raises(ValueError, match="last batch of 1 row"):
        model.fit(X[:33], y[:33], loss="cross_entropy", batch_size=32, verbose=0)
    assert np.array_equal(model.params_, before)


@pytest.mark.parametrize("last,loss", [(cr.Softmax, "cross_entropy"), (cr.Sigmoid, "bce")])
def test_a_probability_output_with_a_from_logits_loss_is_refused(digits, last, loss):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 10 if last is cr.Softmax else 1), last()], rng=0)
    with pytest.raises(ValueError, match="already probabilities"):
        model.fit(X, y if last is cr.Softmax else (y > 4).astype(float), loss=loss, verbose=0)
    model.fit(X, y if last is cr.Softmax else (y > 4).astype(float), epochs=1, verbose=0,
              loss=cr.losses.get(loss).__class__(from_logits=False))


def test_several_binary_outputs_are_predicted_one_by_one(digits):
    X, y = digits
    Y = np.stack([y > 4, y % 2 == 0], axis=1).astype(float)
    model = cr.Sequential([cr.Dense(64, 16), cr.ReLU(), cr.Dense(16, 2)], rng=0)
    model.fit(X, Y, loss="bce", epochs=30, verbose=0)
    p = model.predict_proba(X)
    assert p.shape == (200, 2) and not np.allclose(p.sum(axis=1), 1)
    assert np.array_equal(model.predict(X), (p > 0.5).astype(int))
    assert np.mean(model.predict(X) == Y) > 0.8


def test_top_k_needs_a_score_per_class():
    with pytest.raises(ValueError, match="score per class"):
        cr.metrics.top_k_accuracy([0, 1], np.array([[0.2], [0.9]]), k=5)


def test_divergence_restores_batchnorm_statistics_and_the_optimizer(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 8), cr.BatchNorm(8), cr.ReLU(), cr.Dense(8, 10)], rng=0)
    opt = cr.optim.Adam(lr=1e-3)
    model.fit(X, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=40, verbose=0)
    arrays = {k: v.copy() for k, v in model.state_arrays().items()}
    state, steps = {k: v.copy() for k, v in opt.state.items()}, opt.iterations
    opt.lr = 1e30
    with pytest.raises(cr.TrainingDiverged):
        model.fit(X * 1e30, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=40, verbose=0)
    for name, value in model.state_arrays().items():
        assert np.array_equal(value, arrays[name]), name
    assert opt.iterations == steps and all(np.array_equal(opt.state[k], state[k]) for k in state)


def test_gradcheck_leaves_the_dropout_generators_as_they_were(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 8), cr.Dropout(0.5), cr.Dense(8, 10)], rng=0, dtype="float64")
    before = model.layers[1].rng.bit_generator.state
    cr.gradient_report(model, X[:3], y[:3], "cross_entropy", training=True)
    assert model.layers[1].rng.bit_generator.state == before


def test_a_model_with_an_initializer_function_says_why_it_cannot_be_saved(tmp_path):
    model = cr.Sequential([cr.Dense(2, 3, init=cr.init.constant(0.1))])
    with pytest.raises(ValueError, match="initializers by name"):
        model.save(tmp_path / "m.chainrule")
    assert not list(tmp_path.iterdir())


def test_explain_passes_over_dropout(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 4), cr.ReLU(), cr.Dropout(0.3), cr.Dense(4, 10)], rng=0)
    ex = model.explain(X[:2], y[:2], show=False)
    assert ex.step("dW[2]").error < 1e-6


def test_resume_refuses_recipe_flags(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", str(run), "--quiet", "--no-plots"]) == 0
    assert main(["train", "--resume", str(run), "--lr", "0.5"]) == 1
    assert "does not take --lr" in capsys.readouterr().err


def test_resuming_a_run_that_stopped_early_changes_nothing(tmp_path):
    config = TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40, "validation_split": 0.25},
                                    "train": {"epochs": 200, "patience": 1, "lr": 0.5}})
    card = train_run(config, tmp_path, verbose=0)
    assert card["epochs_run"] < 200
    model_bytes = (tmp_path / "model.chainrule").read_bytes()
    again = train_run(None, tmp_path, resume=True, verbose=0, log=lambda *a: None)
    assert again == card and (tmp_path / "model.chainrule").read_bytes() == model_bytes
