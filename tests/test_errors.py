"""Bad input gets a clear ValueError or TypeError that says what was expected and what was received;
a diverging run stops with TrainingDiverged and leaves finite weights."""

import re

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X[:120], y[:120]


def mlp(rng=0, **kwargs):
    return cr.Sequential([cr.Dense(64, 16), cr.ReLU(), cr.Dense(16, 10)], rng=rng, **kwargs)


def fit(model, X, y, **kwargs):
    kwargs.setdefault("loss", "cross_entropy")
    kwargs.setdefault("epochs", 1)
    kwargs.setdefault("verbose", 0)
    return model.fit(X, y, **kwargs)


# -- architecture ------------------------------------------------------------------------------------


def test_layer_sizes_that_do_not_chain_name_both_layers_and_sizes():
    with pytest.raises(ValueError, match=r"the Dense of layer 2 \(model.layers\[2\]\) expects 5 inputs but the Dense of layer 1 "
                                         r"\(model.layers\[0\]\) outputs 8"):
        cr.Sequential([cr.Dense(4, 8), cr.ReLU(), cr.Dense(5, 2)])


def test_sizes_are_checked_across_batchnorm():
    with pytest.raises(ValueError, match=r"the BatchNorm of layer 1 \(model.layers\[1\]\) expects 7 inputs but the Dense of layer 1"):
        cr.Sequential([cr.Dense(4, 8), cr.BatchNorm(7)])


def test_sequential_needs_a_list_of_layers():
    with pytest.raises(TypeError, match="list of layers; received Dense"):
        cr.Sequential(cr.Dense(2, 2))
    with pytest.raises(TypeError, match="item 1 is not a chainrule Layer; received int"):
        cr.Sequential([cr.Dense(2, 2), 3])
    with pytest.raises(ValueError, match="at least one layer"):
        cr.Sequential([])


def test_unknown_activation_name():
    with pytest.raises(ValueError, match=r"unknown activation 'foo'; expected one of \[.*'relu'.*\]"):
        cr.layers.activation("foo")
    with pytest.raises(ValueError, match=r"unknown activation 'swishy'; expected one of .*'tanh'"):
        cr.Sequential([cr.Dense(4, 8), "swishy", cr.Dense(8, 2)])


def test_activation_names_in_sequential_become_layers():
    model = cr.Sequential([cr.Dense(4, 8), "relu", cr.Dense(8, 2), "softmax"], rng=0)
    assert isinstance(model.layers[1], cr.ReLU) and isinstance(model.layers[3], cr.Softmax)


def test_unknown_initializer():
    with pytest.raises(ValueError, match=r"unknown initializer 'foo'; expected one of \[.*'he_normal'"):
        cr.Dense(3, 4, init="foo")
    with pytest.raises(ValueError, match="unknown initializer 'bar'"):
        cr.Dense(3, 4, bias_init="bar")
    with pytest.raises(ValueError, match="unknown initializer"):
        cr.init.get("nope")


@pytest.mark.parametrize("n, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_dense_sizes_must_be_positive_integers(n, error):
    with pytest.raises(error, match=re.escape(f"Dense: n_in must be an integer >= 1; received {n!r}")):
        cr.Dense(n, 4)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, float("nan")])
def test_bad_dropout_probability(p):
    with pytest.raises(ValueError, match=re.escape(f"Dropout: p must be a finite number in [0, 1); received {p!r}")):
        cr.Dropout(p)


BAD_ARGUMENTS = [
    # (constructor, argument, bad value, error, expected)
    (cr.LeakyReLU, "negative_slope", float("nan"), ValueError, "a finite number"),
    (cr.LeakyReLU, "negative_slope", "0.1", TypeError, "a finite number"),
    (cr.ELU, "alpha", float("inf"), ValueError, "a finite number"),
    (cr.ELU, "alpha", True, TypeError, "a finite number"),
    (cr.GELU, "approximate", "erf", ValueError, "one of ['none', 'tanh']"),
    (cr.losses.Huber, "delta", 0.0, ValueError, "a finite number > 0"),
    (cr.losses.Huber, "delta", float("nan"), ValueError, "a finite number > 0"),
    (cr.losses.Huber, "delta", "1", TypeError, "a finite number > 0"),
    (cr.losses.BinaryCrossEntropy, "from_logits", "no", TypeError, "True or False"),
    (cr.losses.CrossEntropy, "from_logits", 1, TypeError, "True or False"),
]


@pytest.mark.parametrize("cls, name, value, error, expected", BAD_ARGUMENTS, ids=lambda v: repr(v)[:30])
def test_bad_activation_and_loss_arguments(cls, name, value, error, expected):
    message = f"{cls.__name__}: {name} must be {expected}; received {value!r}"
    with pytest.raises(error, match=re.escape(message)):
        cls(**{name: value})


@pytest.mark.parametrize("dtype", ["int32", "float16", "foo", None, np.complex128])
def test_bad_dtype(dtype):
    with pytest.raises(ValueError, match=re.escape("Sequential: dtype must be one of ['float32', 'float64']; received")):
        mlp(dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float32, np.dtype("float64")])
def test_good_dtypes(dtype):
    assert mlp(dtype=dtype).dtype == np.dtype(dtype)


def test_assigning_a_wrong_shaped_array_to_a_weight():
    model = mlp()
    with pytest.raises(ValueError, match=re.escape("Dense: W must have shape (64, 16); received (16, 64)")):
        model.layers[0].W = np.zeros((16, 64))
    with pytest.raises(ValueError, match=re.escape("Dense: b must have shape (16,); received (10,)")):
        model.layers[0].b = np.zeros(10)
    with pytest.raises(ValueError, match=re.escape("BatchNorm: running_var must have shape (3,)")):
        cr.Sequential([cr.BatchNorm(3)]).layers[0].running_var = np.ones(4)


def test_assigning_a_right_shaped_array_writes_through_to_the_flat_parameters():
    model = mlp()
    model.layers[2].b = np.arange(10)
    assert np.array_equal(model.params_[-10:], np.arange(10, dtype=np.float32))
    assert model.layers[2].b.base is not None  # still a view into params_


def test_forward_caches_are_plain_attributes_and_only_arrays_are_guarded():
    layer = mlp().layers[0]
    layer.forward(np.ones((2, 64), np.float32))
    assert "A_prev" in vars(layer) and not hasattr(type(layer), "A_prev")  # no descriptor in the way
    assert isinstance(type(layer).__dict__["W"], cr.layers.base.ArrayAttribute)
    with pytest.raises(AttributeError, match="no parameter, gradient or state named 'A_prev'"):
        layer.bind("A_prev", np.zeros(2))


# -- losses and optimizers ---------------------------------------------------------------------------


def test_unknown_loss_name(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"unknown loss 'foo'; expected a chainrule Loss or one of \[.*'mse'"):
        fit(mlp(), X, y, loss="foo")
    with pytest.raises(ValueError, match="unknown loss 3"):
        cr.losses.get(3)


def test_fit_without_a_loss_says_which_to_pass(digits):
    X, y = digits
    with pytest.raises(ValueError, match="fit needs a loss: pass loss='cross_entropy'"):
        mlp().fit(X, y, verbose=0)


def test_unknown_optimizer_name(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"unknown optimizer 'foo'; expected a chainrule Optimizer or one of \[.*'adam'"):
        fit(mlp(), X, y, optimizer="foo")


@pytest.mark.parametrize("lr", [0, 0.0, -0.1, float("nan"), float("inf"), "0.1", None, True])
@pytest.mark.parametrize("cls", [cr.optim.SGD, cr.optim.Adam, cr.optim.RMSProp])
def test_bad_learning_rate(cls, lr):
    number = isinstance(lr, (int, float)) and not isinstance(lr, bool)
    with pytest.raises(ValueError if number else TypeError,
                       match=re.escape(f"{cls.__name__}: lr must be a finite number > 0; received {lr!r}")):
        cls(lr=lr)


@pytest.mark.parametrize("lr", [1, 0.5, np.float32(0.01), np.float64(0.01)])
def test_numpy_and_int_learning_rates_are_accepted(lr):
    assert cr.optim.SGD(lr=lr).lr == float(lr)


def test_unknown_metric(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"fit: metrics must be one of \['accuracy'.*received 'acc'"):
        fit(mlp(), X, y, metrics=["acc"])


# -- X and y -------------------------------------------------------------------------------------------


def test_x_and_y_of_different_lengths(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"X has 120 samples but y has 119 \(shape \(119,\)\)"):
        fit(mlp(), X, y[:-1])
    model = mlp().compile("cross_entropy")
    with pytest.raises(ValueError, match="X has 120 samples but y has 100"):
        model.evaluate(X, y[:100])


def test_labels_out_of_range(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\] for 10 outputs; received labels from 5 to 14"):
        fit(mlp(), X, y + 5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\].*from -1 to"):
        fit(mlp(), X, y - 1)


def test_string_labels_become_classes_in_sorted_order(digits):
    X, y = digits
    model = mlp()
    fit(model, X, y.astype(str))
    assert model.classes_.tolist() == [str(d) for d in range(10)] and model.predict(X[:3]).dtype.kind == "U"


def test_non_integer_float_labels(digits):
    X, y = digits
    with pytest.raises(TypeError, match="class labels must be whole numbers; received values such as .*0.5"):
        fit(mlp(), X, y + 0.5)


def test_whole_number_float_labels_are_accepted(digits):
    X, y = digits
    fit(mlp(), X, y.astype(np.float64))


def test_one_hot_of_the_wrong_width(digits):
    X, y = digits
    with pytest.raises(ValueError, match=re.escape("one-hot rows of shape (120, 10); received shape (120, 9)")):
        fit(mlp(), X, np.eye(9)[y % 9])


def test_targets_of_the_wrong_shape_for_mse(digits):
    X, y = digits
    with pytest.raises(ValueError, match=re.escape("MSE: targets must have shape (120, 10) (the network's output); "
                                                   "received (120, 3)")):
        fit(mlp(), X, np.zeros((120, 3)), loss="mse")


def test_bce_targets_outside_0_1():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]; received values from 0.0 to 2.0"):
        cr.Sequential([cr.Dense(3, 1)], rng=0).fit(X, np.arange(20) % 3, loss="bce", verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_in_fit_predict_evaluate(digits, bad):
    X, y = digits
    X = X.copy()
    X[7, 3] = bad
    message = r"X contains 1 NaN or inf values \(the first in row 7\); remove or impute them first"
    with pytest.raises(ValueError, match=message):
        fit(mlp(), X, y)
    model = mlp().compile("cross_entropy")
    with pytest.raises(ValueError, match=message):
        model.predict(X)
    with pytest.raises(ValueError, match=message):
        model.predict_proba(X)
    with pytest.raises(ValueError, match=message):
        model.evaluate(X, y)


def test_finite_check_sees_cancelling_infinities_and_accepts_huge_finite_values():
    """The check sums X first: +inf and -inf cancel to NaN there (still refused), and finite
    values whose sum overflows are accepted, without a warning."""
    from chainrule.validation import check_finite

    X = np.ones((5, 3), np.float32)
    X[1, 2], X[3, 0] = np.inf, -np.inf
    with pytest.raises(ValueError, match=r"X contains 2 NaN or inf values \(the first in row 1\)"):
        check_finite(X)
    huge = np.full((4, 2), np.finfo(np.float32).max, np.float32)
    with np.errstate(all="raise"):
        assert check_finite(huge) is huge
    assert check_finite(np.arange(4)).tolist() == [0, 1, 2, 3]


def test_non_finite_validation_data(digits):
    X, y = digits
    Xv = X[:10].copy()
    Xv[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"X contains 1 NaN or inf values \(the first in row 2\)"):
        fit(mlp(), X, y, validation_data=(Xv, y[:10]))


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_nan_in_y(loss):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = (np.arange(30) % 2).astype(np.float64)
    y[4] = np.nan
    model = cr.Sequential([cr.Dense(4, 2 if loss == "cross_entropy" else 1)], rng=0)
    message = r"y contains 1 NaN or inf values \(the first in row 4\)"
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, loss=loss, verbose=0)
    model.compile(loss)
    with pytest.raises(ValueError, match=message):
        model.evaluate(X, y)


def test_nan_labels_given_straight_to_the_loss_say_so():
    with pytest.raises(ValueError, match="class labels must be whole numbers; received 1 NaN or inf values"):
        cr.losses.CrossEntropy()(np.zeros((3, 2), np.float32), np.array([0.0, np.nan, 1.0]))


def test_empty_x(digits):
    with pytest.raises(ValueError, match=re.escape("X is empty: received shape (0, 64)")):
        fit(mlp(), np.empty((0, 64)), np.empty(0, np.int64))
    with pytest.raises(ValueError, match="X is empty"):
        mlp().predict(np.empty((0, 64)))


def test_one_dimensional_x(digits):
    X, y = digits
    message = re.escape("X must be 2-D (m samples, n features); received shape (64,). For one sample use X.reshape(1, -1)")
    with pytest.raises(ValueError, match=message):
        mlp().predict(X[0])
    with pytest.raises(ValueError, match=message):
        fit(mlp(), X[0], y[:64])


def test_x_with_the_wrong_number_of_features(digits):
    X, y = digits
    message = re.escape("X has 10 features per sample (shape (120, 10)) but layer 0 (Dense) expects 64")
    with pytest.raises(ValueError, match=message):
        fit(mlp(), X[:, :10], y)
    with pytest.raises(ValueError, match=message):
        mlp().predict(X[:, :10])


def test_images_without_flatten():
    with pytest.raises(ValueError, match=re.escape("X must be 2-D (m, 64); received shape (5, 8, 8). Add a Flatten()")):
        mlp().predict(np.zeros((5, 8, 8)))
    model = cr.Sequential([cr.Flatten(), cr.Dense(64, 3)], rng=0)
    assert model.predict_output(np.zeros((5, 8, 8))).shape == (5, 3)


def test_x_of_strings():
    with pytest.raises(TypeError, match="X must hold numbers; received dtype <U"):
        mlp().predict(np.full((2, 64), "a"))


# -- fit arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), ("32", TypeError),
                                               (None, TypeError)])
def test_bad_batch_size(digits, batch_size, error):
    X, y = digits
    with pytest.raises(error, match=re.escape(f"fit: batch_size must be an integer >= 1; received {batch_size!r}")):
        fit(mlp(), X, y, batch_size=batch_size)


@pytest.mark.parametrize("epochs, error", [(-1, ValueError), (1.5, TypeError)])
def test_bad_epochs(digits, epochs, error):
    X, y = digits
    with pytest.raises(error, match=re.escape(f"fit: epochs must be an integer >= 0; received {epochs!r}")):
        fit(mlp(), X, y, epochs=epochs)


def test_zero_epochs_trains_nothing(digits):
    X, y = digits
    model = mlp()
    before = model.params_.copy()
    history = fit(model, X, y, epochs=0)
    assert history.history == {} and np.array_equal(model.params_, before)


@pytest.mark.parametrize("split", [-0.1, 1.0, 2, float("nan")])
def test_bad_validation_split(digits, split):
    X, y = digits
    with pytest.raises(ValueError, match=re.escape(f"fit: validation_split must be a finite number in [0, 1); "
                                                   f"received {split!r}")):
        fit(mlp(), X, y, validation_split=split)


def test_validation_split_that_leaves_nothing(digits):
    X, y = digits
    with pytest.raises(ValueError, match="leaves no training or validation rows out of 3"):
        fit(mlp(), X[:3], y[:3], validation_split=0.1)


def test_callbacks_must_be_callbacks(digits):
    X, y = digits
    with pytest.raises(TypeError, match="callbacks must be chainrule Callback objects; received function"):
        fit(mlp(), X, y, callbacks=[lambda epoch: None])


def test_bad_rng():
    with pytest.raises(TypeError, match="rng must be a numpy Generator, an int seed or None; received str"):
        mlp(rng="seed")


def test_predict_proba_of_a_regression_model():
    model = cr.Sequential([cr.Dense(3, 1)], rng=0).compile("mse")
    with pytest.raises(ValueError, match="predict_proba needs a classifier"):
        model.predict_proba(np.zeros((2, 3)))


# -- divergence ------------------------------------------------------------------------------------------


def test_a_huge_learning_rate_raises_training_diverged_and_keeps_finite_weights(digits):
    X, y = digits  # pixel counts 0..16, unscaled
    model = cr.Sequential([cr.Dense(64, 1)], rng=0)
    with pytest.raises(cr.TrainingDiverged) as info:
        model.fit(X, y.astype(np.float64), loss="mse", optimizer=cr.optim.SGD(lr=1e6), epochs=5, verbose=0)
    message = str(info.value)
    assert re.search(r"at epoch 1, step \d+ of 4", message), message
    assert "learning rate (lr=1e+06) is probably too high: try lr=100000" in message
    assert "standardise" in message  # the inputs reach 16
    assert np.all(np.isfinite(model.params_))
    for layer in model.layers:
        for value in layer.params().values():
            assert np.all(np.isfinite(value))
    assert np.all(np.isfinite(model.predict_output(X)))


def test_training_diverged_is_a_floating_point_error():
    assert issubclass(cr.TrainingDiverged, FloatingPointError)


def test_an_inf_loss_from_huge_inputs_raises_training_diverged():
    X = np.full((16, 2), 1e30)
    model = cr.Sequential([cr.Dense(2, 1, init="ones")], rng=0)
    with pytest.raises(cr.TrainingDiverged, match=r"the loss became inf at epoch 1, step 1 of 2\. The learning rate \(lr=0\.001\) is probably too high: try lr=0\.0001"):
        model.fit(X, np.zeros(16), loss="mse", optimizer="sgd", batch_size=8, epochs=1, verbose=0)
    assert np.all(np.isfinite(model.params_))


def test_weights_that_overflow_on_the_last_step_of_an_epoch_are_caught():
    # One step per epoch and a learning rate so large that the update itself overflows float32:
    # the loss of the step was finite, so only a check of the weights can notice.
    X, y = cr.data.load_digits()
    model = cr.Sequential([cr.Dense(64, 10)], rng=0)
    with pytest.raises(cr.TrainingDiverged, match=r"the weights became NaN or inf at epoch 1, step 1 of 1"):
        model.fit(X[:100], y[:100], loss="cross_entropy", optimizer=cr.optim.SGD(lr=3e38), batch_size=100,
                  epochs=1, verbose=0)
    assert np.all(np.isfinite(model.params_))


def test_a_diverged_deep_net_keeps_finite_weights(digits):
    X, y = digits
    model = cr.Sequential([cr.Dense(64, 64, init="ones"), cr.Dense(64, 64, init="ones"), cr.Dense(64, 1, init="ones")],
                          rng=0)
    with pytest.raises(cr.TrainingDiverged, match="epoch 1, step"):
        model.fit(X * 1e6, y.astype(np.float64), loss="mse", optimizer=cr.optim.SGD(lr=10.0), epochs=3, verbose=0)
    assert np.all(np.isfinite(model.params_))
