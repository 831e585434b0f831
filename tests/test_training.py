"""Training: dtypes, seeds, History, callbacks, schedules, evaluate/predict, metrics against scikit-learn,
initializers, L2, summary and the stratified split."""

import math
import warnings

import re

import numpy as np
import pytest
from sklearn import metrics as skm

import chainrule as cr
from chainrule.training.callbacks import (Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                                          ReduceLROnPlateau)


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X[:400] / 16.0, y[:400]


def mlp(rng=0, dtype="float32", dropout=0.0, hidden=32):
    layers = [cr.Dense(64, hidden), cr.ReLU()]
    if dropout:
        layers.append(cr.Dropout(dropout))
    layers += [cr.Dense(hidden, 10)]
    return cr.Sequential(layers, rng=rng, dtype=dtype)


def fit(model, X, y, **kwargs):
    kwargs.setdefault("loss", "cross_entropy")
    kwargs.setdefault("epochs", 2)
    kwargs.setdefault("verbose", 0)
    return model.fit(X, y, **kwargs)


class Recorder(Callback):
    """Keeps a copy of the parameters at the end of every epoch."""

    def on_train_begin(self, logs=None):
        self.params = []

    def on_epoch_end(self, epoch, logs=None):
        self.params.append(self.model.params_.copy())


# -- dtype --------------------------------------------------------------------------------------------


def test_float32_is_the_default(digits):
    model = mlp()
    assert model.dtype == np.float32
    assert model.params_.dtype == model.grads_.dtype == np.float32
    for layer in model.layers:
        for name, value in layer.params().items():
            assert value.dtype == np.float32, name
            assert layer.grads()[name].dtype == np.float32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_dtype_is_kept_through_forward_backward_optimizer_and_fit(digits, dtype):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 16), cr.BatchNorm(16), cr.Tanh(), cr.Dropout(0.2), cr.Dense(16, 10)],
                          rng=0, dtype=dtype)
    assert model.params_.dtype == model.grads_.dtype == dtype
    assert model.layers[1].running_mean.dtype == dtype
    for X_in in (X.astype(np.float32), X.astype(np.float64), (X * 16).astype(np.int64)):
        out = model.forward(X_in[:8], training=True)
        assert out.dtype == dtype
        dX = model.backward(np.ones_like(out))
        assert dX.dtype == dtype
        assert model.grads_.dtype == dtype and np.any(model.grads_ != 0)
    optimizer = cr.optim.Adam(1e-3)
    fit(model, X.astype(np.float64), y, optimizer=optimizer, epochs=1)
    assert model.params_.dtype == model.grads_.dtype == dtype
    assert all(state.dtype == dtype for state in optimizer.state.values())
    assert set(optimizer.state) == {"m_scaled", "v_scaled"}
    for layer in model.layers:
        for value in [*layer.params().values(), *layer.grads().values(), *layer.state().values()]:
            assert value.dtype == dtype
    assert model.predict_output(X).dtype == dtype
    assert model.predict_proba(X).dtype == dtype


@pytest.mark.parametrize("optimizer", [cr.optim.SGD(0.01, momentum=0.9), cr.optim.RMSProp(1e-3, momentum=0.5),
                                       cr.optim.Adagrad(0.01), cr.optim.AdamW(1e-3)])
def test_every_optimizer_keeps_float64_state(digits, optimizer):
    X, y = digits
    model = mlp(dtype="float64")
    fit(model, X, y, optimizer=optimizer, epochs=1)
    assert optimizer.state and all(state.dtype == np.float64 for state in optimizer.state.values())
    assert model.params_.dtype == np.float64


def test_float64_inputs_into_a_float32_model_give_float32_outputs(digits):
    X, _ = digits
    model = mlp()
    X64 = X.astype(np.float64)
    assert model.predict_output(X64).dtype == np.float32
    assert model.forward(X64).dtype == np.float32
    assert np.array_equal(model.predict_output(X64), model.predict_output(X64.astype(np.float32)))


def test_copy_to_float64(digits):
    X, _ = digits
    model = mlp()
    wide = model.copy("float64")
    assert wide.dtype == np.float64 and wide.params_.dtype == np.float64
    np.testing.assert_allclose(wide.predict_output(X), model.predict_output(X), rtol=1e-5, atol=1e-5)


# -- seeds --------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_initial_weights():
    assert np.array_equal(mlp(rng=7).params_, mlp(rng=7).params_)
    assert not np.array_equal(mlp(rng=7).params_, mlp(rng=8).params_)
    gen_a, gen_b = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(mlp(rng=gen_a).params_, mlp(rng=gen_b).params_)


def test_the_same_seed_gives_bit_identical_training_with_shuffle_and_dropout(digits):
    X, y = digits
    runs = []
    for seed in (11, 11, 12):
        model = mlp(rng=seed, dropout=0.3)
        history = fit(model, X, y, optimizer=cr.optim.Adam(1e-2), epochs=3, batch_size=16, shuffle=True)
        runs.append((model.params_.copy(), history.history["loss"]))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert not np.array_equal(runs[0][0], runs[2][0])
    assert runs[0][1] != runs[2][1]


def test_shuffle_and_dropout_masks_depend_on_the_seed_not_only_the_initial_weights(digits):
    X, y = digits
    a, b = mlp(rng=1, dropout=0.5), mlp(rng=2, dropout=0.5)
    b.params_[...] = a.params_  # the same start, a different seed for shuffling and masks
    fit(a, X, y, epochs=1)
    fit(b, X, y, epochs=1)
    assert not np.array_equal(a.params_, b.params_)


# -- History ------------------------------------------------------------------------------------------


def test_history_records_every_epoch(digits):
    X, y = digits
    history = fit(mlp(), X[:300], y[:300], epochs=4, validation_data=(X[300:], y[300:]))
    assert isinstance(history, cr.callbacks.History)
    assert history.epoch == [0, 1, 2, 3]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"):
        assert len(history.history[key]) == 4, key
    assert all(0 <= a <= 1 for a in history.history["accuracy"] + history.history["val_accuracy"])
    assert history.history["lr"] == [1e-3] * 4
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_epoch_metrics_and_final_val_loss_are_consistent(digits):
    X, y = digits
    model = mlp()
    history = fit(model, X[:300], y[:300], epochs=2, validation_data=(X[300:], y[300:]), metrics=["accuracy", "f1"])
    final = model.evaluate(X[300:], y[300:], metrics=["accuracy", "f1"])
    assert history.history["val_loss"][-1] == final["loss"]
    assert history.history["val_accuracy"][-1] == final["accuracy"]
    assert history.history["val_f1"][-1] == final["f1"]


def test_validation_split_holds_out_the_last_rows(digits):
    X, y = digits
    model = mlp()
    history = fit(model, X, y, epochs=2, validation_split=0.25, batch_size=50)
    assert "val_loss" in history.history and "val_accuracy" in history.history
    assert history.history["val_loss"][-1] == model.evaluate(X[300:], y[300:])["loss"]


def test_validation_data_takes_precedence_over_validation_split(digits):
    X, y = digits
    model = mlp()
    history = fit(model, X[:300], y[:300], epochs=1, validation_split=0.5, validation_data=(X[300:], y[300:]))
    assert history.history["val_loss"][-1] == model.evaluate(X[300:], y[300:])["loss"]


def test_fit_continues_from_where_it_stopped(digits):
    X, y = digits
    model = mlp()
    fit(model, X, y, epochs=1)
    before = model.evaluate(X, y)["loss"]
    fit(model, X, y, epochs=2)  # the loss is remembered from the first fit
    assert model.evaluate(X, y)["loss"] < before


# -- EarlyStopping ----------------------------------------------------------------------------------------


def overfit_setup(digits):
    """A big model, 20 training samples: the validation loss falls, then rises."""
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 128), cr.ReLU(), cr.Dense(128, 128), cr.ReLU(), cr.Dense(128, 10)], rng=0)
    return model, (X[:20], y[:20]), (X[300:], y[300:])


def test_early_stopping_stops_and_restores_the_best_weights(digits):
    model, (X, y), val = overfit_setup(digits)
    stop, recorder = EarlyStopping(monitor="val_loss", patience=2), Recorder()
    history = fit(model, X, y, epochs=200, batch_size=20, optimizer=cr.optim.Adam(1e-2), validation_data=val,
                  callbacks=[recorder, stop])
    val_loss = history.history["val_loss"]
    epochs_run = len(val_loss)
    assert epochs_run < 200
    best = int(np.argmin(val_loss))
    assert stop.best_epoch == best
    assert stop.stopped_epoch == epochs_run - 1 == best + 2  # patience 2: two epochs without improvement (Keras)
    assert val_loss[-1] > val_loss[best]
    assert np.array_equal(model.params_, recorder.params[best])
    assert not np.array_equal(model.params_, recorder.params[-1])
    assert model.evaluate(*val)["loss"] == val_loss[best]


def test_early_stopping_without_restoring_keeps_the_last_weights(digits):
    model, (X, y), val = overfit_setup(digits)
    stop, recorder = EarlyStopping(patience=1, restore_best_weights=False), Recorder()
    fit(model, X, y, epochs=200, batch_size=20, optimizer=cr.optim.Adam(1e-2), validation_data=val,
        callbacks=[recorder, stop])
    assert stop.stopped_epoch is not None
    assert np.array_equal(model.params_, recorder.params[-1])


def test_early_stopping_on_a_metric_to_maximise(digits):
    X, y = digits
    stop = EarlyStopping(monitor="accuracy", patience=0, min_delta=1.0)  # no epoch can beat the first by 1.0
    history = fit(mlp(), X, y, epochs=20, callbacks=[stop])
    assert stop.monitor.mode == "max"
    assert len(history.history["loss"]) == 2 and stop.stopped_epoch == 1 and stop.best_epoch == 0


def test_early_stopping_restores_batchnorm_statistics(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 16), cr.BatchNorm(16), cr.ReLU(), cr.Dense(16, 10)], rng=0)
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=1e9)  # only the first epoch counts as improvement
    snapshots = []

    class Snap(Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append({k: v.copy() for k, v in self.model.state_arrays().items()})

    fit(model, X, y, epochs=5, callbacks=[Snap(), stop])
    for name, value in model.state_arrays().items():
        assert np.array_equal(value, snapshots[0][name]), name


def test_early_stopping_monitoring_a_missing_key(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"EarlyStopping monitors 'val_loss' but the epoch logs hold \[.*'loss'.*\]; "
                                         "pass validation_data to fit"):
        fit(mlp(), X, y, epochs=1, callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match="ReduceLROnPlateau monitors 'val_acc'"):
        fit(mlp(), X, y, epochs=1, callbacks=[ReduceLROnPlateau(monitor="val_acc")])


def test_early_stopping_rejects_bad_arguments():
    with pytest.raises(ValueError, match="EarlyStopping: patience must be an integer >= 0; received -1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match=r"EarlyStopping: mode must be one of \['auto', 'min', 'max'\]; received 'up'"):
        EarlyStopping(mode="up")


# -- ModelCheckpoint --------------------------------------------------------------------------------------


def test_model_checkpoint_every_epoch(digits, tmp_path):
    X, y = digits
    model = mlp()
    fit(model, X, y, epochs=3, callbacks=[ModelCheckpoint(tmp_path / "m-{epoch}.chainrule")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1.chainrule", "m-2.chainrule", "m-3.chainrule"]
    loaded = [cr.load(tmp_path / f"m-{e}.chainrule") for e in (1, 2, 3)]
    assert not np.array_equal(loaded[0].params_, loaded[1].params_)
    assert np.array_equal(loaded[2].params_, model.params_)
    assert np.array_equal(loaded[2].predict(X), model.predict(X))


def test_model_checkpoint_one_path_is_overwritten(digits, tmp_path):
    X, y = digits
    model = mlp()
    fit(model, X, y, epochs=2, callbacks=[ModelCheckpoint(tmp_path / "last.chainrule")])
    assert [p.name for p in tmp_path.iterdir()] == ["last.chainrule"]
    assert np.array_equal(cr.load(tmp_path / "last.chainrule").params_, model.params_)


def test_model_checkpoint_only_on_improvement(digits, tmp_path):
    model, (X, y), val = overfit_setup(digits)
    recorder = Recorder()
    history = fit(model, X, y, epochs=15, batch_size=20, optimizer=cr.optim.Adam(1e-2), validation_data=val,
                  callbacks=[recorder, ModelCheckpoint(tmp_path / "best-{epoch}.chainrule", save_best_only=True)])
    val_loss = history.history["val_loss"]
    improved = [e for e in range(len(val_loss)) if val_loss[e] < min(val_loss[:e], default=math.inf)]
    assert len(improved) < len(val_loss)  # the setup overfits: some epochs do not improve
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"best-{e + 1}.chainrule" for e in improved)
    best = improved[-1]
    assert np.array_equal(cr.load(tmp_path / f"best-{best + 1}.chainrule").params_, recorder.params[best])


# -- learning-rate schedules ----------------------------------------------------------------------------


SCHEDULES = [
    (cr.schedules.StepDecay(step_size=2, gamma=0.5), lambda e, b: b * 0.5 ** (e // 2)),
    (cr.schedules.ExponentialDecay(gamma=0.8), lambda e, b: b * 0.8**e),
    (cr.schedules.CosineDecay(total_epochs=6), lambda e, b: b * 0.5 * (1 + math.cos(math.pi * e / 6))),
    (cr.schedules.CosineDecay(total_epochs=6, warmup_epochs=2, min_lr=1e-4),
     lambda e, b: b * (e + 1) / 2 if e < 2 else 1e-4 + (b - 1e-4) * 0.5 * (1 + math.cos(math.pi * (e - 2) / 4))),
]


@pytest.mark.parametrize("schedule, formula", SCHEDULES, ids=["step", "exponential", "cosine", "cosine-warmup"])
def test_learning_rate_scheduler_follows_the_formula(digits, schedule, formula):
    X, y = digits
    optimizer = cr.optim.SGD(0.1)
    history = fit(mlp(), X[:64], y[:64], epochs=6, optimizer=optimizer, callbacks=[LearningRateScheduler(schedule)])
    expected = [formula(e, 0.1) for e in range(6)]
    assert history.history["lr"] == pytest.approx(expected, rel=1e-12, abs=0)
    assert optimizer.lr == pytest.approx(expected[-1], rel=1e-12)


def test_schedule_values_by_hand():
    assert [cr.schedules.StepDecay(3, 0.1)(e, 1.0) for e in range(7)] == pytest.approx(
        [1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    assert cr.schedules.CosineDecay(10)(5, 2.0) == pytest.approx(1.0)
    assert cr.schedules.CosineDecay(10, min_lr=0.5)(100, 2.0) == pytest.approx(0.5)  # clamped past the end
    assert cr.schedules.CosineDecay(10, warmup_epochs=4)(0, 1.0) == pytest.approx(0.25)


def test_bad_schedules():
    with pytest.raises(ValueError, match="StepDecay: step_size must be an integer >= 1; received 0"):
        cr.schedules.StepDecay(0)
    with pytest.raises(ValueError, match=r"ExponentialDecay: gamma must be a finite number in \(0, 1\]; received 1.5"):
        cr.schedules.ExponentialDecay(1.5)
    with pytest.raises(ValueError, match="CosineDecay: warmup_epochs must be an integer from 0 to 4; received 5"):
        cr.schedules.CosineDecay(5, warmup_epochs=5)
    with pytest.raises(TypeError, match="LearningRateScheduler: schedule must be a callable"):
        LearningRateScheduler(0.1)


def test_a_plain_function_as_schedule(digits):
    X, y = digits
    history = fit(mlp(), X[:64], y[:64], epochs=3, optimizer=cr.optim.SGD(0.1),
                  callbacks=[LearningRateScheduler(lambda epoch, lr: lr / (epoch + 1))])
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_reduce_lr_on_plateau_lowers_the_learning_rate(digits):
    X, y = digits
    optimizer = cr.optim.SGD(0.1)
    # min_delta so large that only the first epoch counts as an improvement
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e9, min_lr=0.02)
    history = fit(mlp(), X[:64], y[:64], epochs=8, optimizer=optimizer, callbacks=[reduce])
    # epoch 0 improves; the lr is halved at the end of epochs 2, 4 and 6, never below min_lr
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    assert optimizer.lr == pytest.approx(0.02)


def test_reduce_lr_on_plateau_on_a_real_plateau(digits):
    model, (X, y), val = overfit_setup(digits)
    optimizer = cr.optim.Adam(1e-2)
    history = fit(model, X, y, epochs=15, batch_size=20, optimizer=optimizer, validation_data=val,
                  callbacks=[ReduceLROnPlateau(monitor="val_loss", factor=0.1, patience=2)])
    assert history.history["lr"][0] == pytest.approx(1e-2)
    assert optimizer.lr < 1e-2
    assert sorted(set(history.history["lr"]), reverse=True)[:2] == pytest.approx([1e-2, 1e-3])


def test_reduce_lr_on_plateau_rejects_a_bad_factor():
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: factor must be a finite number in \(0, 1\); received 1.5"):
        ReduceLROnPlateau(factor=1.5)


# -- evaluate and predict -------------------------------------------------------------------------------


def test_evaluate_returns_the_loss_and_metrics(digits):
    X, y = digits
    model = mlp()
    fit(model, X, y, epochs=3)
    result = model.evaluate(X, y)
    assert set(result) == {"loss", "accuracy"}
    assert result["accuracy"] == pytest.approx(np.mean(model.predict(X) == y))
    P = model.predict_proba(X).astype(np.float64)
    assert result["loss"] == pytest.approx(-np.mean(np.log(P[np.arange(len(y)), y])), rel=1e-4)
    everything = model.evaluate(X, y, metrics=["accuracy", "top5_accuracy", "precision", "recall", "f1"])
    assert set(everything) == {"loss", "accuracy", "top5_accuracy", "precision", "recall", "f1"}
    assert all(0 <= v <= 1 for k, v in everything.items() if k != "loss")
    assert everything["top5_accuracy"] >= everything["accuracy"]
    assert everything["f1"] == pytest.approx(skm.f1_score(y, model.predict(X), average="macro"))


def test_evaluate_includes_the_l2_penalty(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 10, l2=0.1)], rng=0).compile("cross_entropy")
    plain = cr.Sequential([cr.Dense(64, 10)], rng=0).compile("cross_entropy")
    penalty = 0.1 * float(np.sum(model.layers[0].W.astype(np.float64) ** 2))
    assert model.evaluate(X, y)["loss"] == pytest.approx(plain.evaluate(X, y)["loss"] + penalty, rel=1e-5)


def test_evaluate_a_regression_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    model = cr.Sequential([cr.Dense(3, 1)], rng=0)
    fit(model, X, y, loss="mse", epochs=2)
    result = model.evaluate(X, y, metrics=["mse", "mae", "r2"])
    pred = model.predict(X)
    assert pred.shape == (50, 1)
    assert result["mse"] == pytest.approx(skm.mean_squared_error(y, pred.ravel()))
    assert result["loss"] == pytest.approx(result["mse"], rel=1e-5)
    assert result["mae"] == pytest.approx(skm.mean_absolute_error(y, pred.ravel()))
    assert result["r2"] == pytest.approx(skm.r2_score(y, pred.ravel()))


def test_predict_shapes_for_a_multiclass_model(digits):
    X, y = digits
    model = mlp()
    fit(model, X, y, epochs=1)
    labels = model.predict(X[:37])
    assert labels.shape == (37,) and labels.dtype.kind == "i" and labels.min() >= 0 and labels.max() <= 9
    P = model.predict_proba(X[:37])
    assert P.shape == (37, 10) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(np.argmax(P, axis=1), labels)
    assert model.predict_output(X[:37]).shape == (37, 10)
    assert np.array_equal(model.predict(X[:37], batch_size=5), labels)  # batching changes nothing


def test_predict_of_a_softmax_model_trained_on_probabilities(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 10), cr.Softmax()], rng=0)
    fit(model, X, y, loss=cr.losses.CrossEntropy(from_logits=False), epochs=1)
    P = model.predict_proba(X[:10])
    np.testing.assert_allclose(P, model.predict_output(X[:10]))  # no second softmax
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_shapes_for_a_binary_model():
    X, y = cr.data.make_moons(100, rng=0)
    model = cr.Sequential([cr.Dense(2, 8), cr.Tanh(), cr.Dense(8, 1)], rng=0)
    history = fit(model, X, y, loss="bce", epochs=5)
    assert "accuracy" in history.history
    P = model.predict_proba(X)
    assert P.shape == (100, 2) and P.dtype == np.float32
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    labels = model.predict(X)
    assert labels.shape == (100,) and set(np.unique(labels)) <= {0, 1}
    assert np.array_equal(labels, (model.predict_output(X)[:, 0] > 0).astype(int))
    assert model.evaluate(X, y)["accuracy"] == pytest.approx(np.mean(labels == y))


def test_a_one_hot_target_trains_like_labels(digits):
    X, y = digits
    a, b = mlp(), mlp()
    fit(a, X, y, epochs=1, shuffle=False)
    fit(b, X, cr.data.one_hot(y, 10), epochs=1, shuffle=False)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-5, atol=1e-6)


# -- metrics against scikit-learn -----------------------------------------------------------------------


@pytest.fixture
def labels():
    rng = np.random.default_rng(42)
    y_true = rng.integers(0, 5, 200)
    scores = rng.normal(size=(200, 5)) + 1.5 * np.eye(5)[y_true]
    return y_true, scores


def test_accuracy_matches_sklearn(labels):
    y_true, scores = labels
    y_pred = scores.argmax(axis=1)
    assert cr.metrics.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert cr.metrics.accuracy(y_true, scores) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert cr.metrics.accuracy(np.eye(5)[y_true], scores) == pytest.approx(skm.accuracy_score(y_true, y_pred))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_top_k_accuracy_matches_sklearn(labels, k):
    y_true, scores = labels
    assert cr.metrics.top_k_accuracy(y_true, scores, k=k) == pytest.approx(
        skm.top_k_accuracy_score(y_true, scores, k=k, labels=range(5)))


def test_confusion_matrix_matches_sklearn(labels):
    y_true, scores = labels
    y_pred = scores.argmax(axis=1)
    assert np.array_equal(cr.metrics.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred))
    C = cr.metrics.confusion_matrix(y_true[:5], y_pred[:5], num_classes=7)
    assert np.array_equal(C, skm.confusion_matrix(y_true[:5], y_pred[:5], labels=range(7)))


@pytest.mark.parametrize("seed", range(5))
def test_precision_recall_f1_macro_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 60)
    y_pred = rng.integers(0, 5, 60)  # class 4 is predicted but never true
    y_pred[:3] = 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the ill-defined recall of class 4
        expected = skm.precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)[:3]
    assert cr.metrics.precision_recall_f1(y_true, y_pred) == pytest.approx(expected)
    y_pred = rng.integers(0, 3, 60)  # class 3 is true but never predicted
    expected = skm.precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)[:3]
    assert cr.metrics.precision_recall_f1(y_true, y_pred) == pytest.approx(expected)


def test_precision_recall_f1_on_scores_matches_sklearn(labels):
    y_true, scores = labels
    expected = skm.precision_recall_fscore_support(y_true, scores.argmax(axis=1), average="macro")[:3]
    assert cr.metrics.precision_recall_f1(y_true, scores) == pytest.approx(expected)


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=80), rng.normal(size=80) * 0.5
    assert cr.metrics.mse(y_true, y_pred) == pytest.approx(skm.mean_squared_error(y_true, y_pred))
    assert cr.metrics.mae(y_true, y_pred) == pytest.approx(skm.mean_absolute_error(y_true, y_pred))
    assert cr.metrics.r2(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred))
    assert cr.metrics.r2(y_true, y_pred.reshape(-1, 1)) == pytest.approx(skm.r2_score(y_true, y_pred))
    T, P = rng.normal(size=(80, 3)), rng.normal(size=(80, 3))
    assert cr.metrics.mse(T, P) == pytest.approx(skm.mean_squared_error(T, P))
    assert cr.metrics.mae(T, P) == pytest.approx(skm.mean_absolute_error(T, P))
    # several outputs: R^2 of the pooled sums, which is sklearn's variance-weighted average
    assert cr.metrics.r2(T, P) == pytest.approx(skm.r2_score(T, P, multioutput="variance_weighted"))


def test_binary_metrics_from_one_logit_column():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 100)
    logits = rng.normal(size=(100, 1)) + (y_true[:, None] - 0.5)
    loss = cr.losses.BinaryCrossEntropy()
    y_pred = (logits[:, 0] > 0).astype(int)
    assert cr.metrics.compute("accuracy", y_true, logits, loss) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert cr.metrics.compute("f1", y_true, logits, loss) == pytest.approx(
        skm.f1_score(y_true, y_pred, average="macro"))


# -- initializers ---------------------------------------------------------------------------------------


FAN_IN, FAN_OUT = 400, 300
INITIALIZERS = {
    "he_normal": ("normal", math.sqrt(2 / FAN_IN)),
    "kaiming_normal": ("normal", math.sqrt(2 / FAN_IN)),
    "glorot_normal": ("normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "xavier_normal": ("normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    "lecun_normal": ("normal", math.sqrt(1 / FAN_IN)),
    "normal": ("normal", 0.01),
    "he_uniform": ("uniform", math.sqrt(6 / FAN_IN)),
    "kaiming_uniform": ("uniform", math.sqrt(6 / FAN_IN)),
    "glorot_uniform": ("uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "xavier_uniform": ("uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "lecun_uniform": ("uniform", math.sqrt(3 / FAN_IN)),
    "uniform": ("uniform", 0.05),
}


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_statistics_match_the_formula(name):
    kind, scale = INITIALIZERS[name]
    W = cr.init.get(name)((FAN_IN, FAN_OUT), np.random.default_rng(0), np.float64)
    assert W.shape == (FAN_IN, FAN_OUT) and W.dtype == np.float64
    assert abs(W.mean()) < 0.02 * scale
    if kind == "normal":
        assert W.std() == pytest.approx(scale, rel=0.02)
    else:
        limit = scale
        assert np.all(np.abs(W) <= limit)
        assert np.abs(W).max() == pytest.approx(limit, rel=0.01)
        assert W.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializers_are_reproducible_and_keep_the_dtype(name):
    init = cr.init.get(name)
    a = init((30, 20), np.random.default_rng(5), np.float32)
    b = init((30, 20), np.random.default_rng(5), np.float32)
    c = init((30, 20), np.random.default_rng(6), np.float32)
    assert a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(init((30, 20), 5, np.float32), a)  # an int seed works as a Generator of that seed


def test_constant_initializers():
    assert np.array_equal(cr.init.zeros((2, 3)), np.zeros((2, 3)))
    assert np.array_equal(cr.init.ones((4,), dtype=np.float64), np.ones(4))
    assert np.array_equal(cr.init.constant(0.1)((3,), None, np.float32), np.full(3, 0.1, np.float32))


def test_dense_uses_its_initializer():
    model = cr.Sequential([cr.Dense(500, 200, init="he_normal", bias_init=cr.init.constant(0.5))], rng=0)
    assert model.layers[0].W.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert np.all(model.layers[0].b == 0.5)


# -- regularisation ---------------------------------------------------------------------------------------


def test_l2_gives_a_smaller_weight_norm(digits):
    X, y = digits
    norms = {}
    for l2 in (0.0, 1e-2):
        model = cr.Sequential([cr.Dense(64, 32, l2=l2), cr.ReLU(), cr.Dense(32, 10, l2=l2)], rng=0)
        fit(model, X, y, epochs=10, optimizer=cr.optim.Adam(1e-2))
        norms[l2] = sum(float(np.sum(layer.W.astype(np.float64) ** 2)) for layer in model.layers
                        if isinstance(layer, cr.Dense))
    assert norms[1e-2] < 0.7 * norms[0.0]


def test_l2_adds_to_the_gradient():
    model = cr.Sequential([cr.Dense(3, 2, l2=0.5)], rng=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(4, 3))
    model.forward(X, training=True)
    model.backward(np.zeros((4, 2)))
    np.testing.assert_allclose(model.layers[0].dW, 2 * 0.5 * model.layers[0].W)
    assert model.penalty() == pytest.approx(0.5 * np.sum(model.layers[0].W ** 2))


# -- summary ----------------------------------------------------------------------------------------------


def test_summary_lists_every_layer_and_the_parameter_count():
    model = cr.Sequential([cr.Dense(64, 128), cr.BatchNorm(128), cr.ReLU(), cr.Dropout(0.25),
                           cr.Dense(128, 10), cr.Softmax()], rng=0)
    text = model.summary()
    total = 64 * 128 + 128 + 2 * 128 + 128 * 10 + 10
    assert model.num_params == total
    assert f"total parameters: {total:,}" in text
    rows = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[2:8]]
    assert [row[:2] for row in rows] == [["1", "0"], ["1", "1"], ["1", "2"], ["1", "3"], ["2", "4"], ["2", "5"]]
    for row, layer in zip(rows, model.layers):
        assert row[2] == repr(layer)
        assert row[4] == f"{sum(v.size for v in layer.params().values()):,}"
    assert rows[0][5] == "W[1] b[1]" and rows[1][5] == "gamma[1] beta[1]" and rows[4][5] == "W[2] b[2]"
    assert "Dropout(p=0.25)" in text and "(None, 128)" in text and "(None, 10)" in text


# -- train_test_split -------------------------------------------------------------------------------------


def test_stratified_split_keeps_class_proportions_and_is_reproducible():
    X, y = cr.data.load_digits()
    parts = cr.data.train_test_split(X, y, test_size=0.25, rng=3)
    X_train, X_test, y_train, y_test = parts
    assert len(X_train) + len(X_test) == len(X) and len(y_train) == len(X_train) and len(y_test) == len(X_test)
    for c in range(10):
        share = np.mean(y == c)
        assert np.mean(y_test == c) == pytest.approx(share, abs=0.01)
        assert np.mean(y_train == c) == pytest.approx(share, abs=0.01)
        assert abs(np.sum(y_test == c) - 0.25 * np.sum(y == c)) <= 0.5 + 1e-9
    # no row lost or repeated
    rows = np.concatenate([X_train, X_test])
    assert np.array_equal(np.unique(rows, axis=0), np.unique(X, axis=0))
    again = cr.data.train_test_split(X, y, test_size=0.25, rng=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    other = cr.data.train_test_split(X, y, test_size=0.25, rng=4)
    assert not np.array_equal(parts[1], other[1])


def test_stratified_split_with_imbalanced_classes():
    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100).reshape(-1, 1)
    _, X_test, _, y_test = cr.data.train_test_split(X, y, test_size=0.2, rng=0)
    assert np.sum(y_test == 1) == 2 and np.sum(y_test == 0) == 18
    assert np.array_equal(y[X_test[:, 0]], y_test)  # rows stay with their labels


def test_split_errors():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        cr.data.train_test_split(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match=r"train_test_split: test_size must be a finite number in \(0, 1\); received 1.5"):
        cr.data.train_test_split(np.zeros((3, 1)), np.zeros(3), test_size=1.5)
