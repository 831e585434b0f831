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


# -- backward before forward ------------------------------------------------------------------------


def test_backward_before_forward_says_so_naming_the_layer():
    model = cr.Sequential([cr.Dense(3, 4), cr.ReLU(), cr.Dropout(0.2), cr.BatchNorm(4), cr.Dense(4, 2)], rng=0)
    with pytest.raises(RuntimeError, match=r"^Dense\.backward: call forward before backward"):
        model.backward(np.ones((2, 2)))
    for layer in model.layers:
        with pytest.raises(RuntimeError, match=rf"^{type(layer).__name__}\.backward: call forward before backward"):
            layer.backward(np.ones((2, 4)))
    model.forward(np.ones((2, 3)), training=True)
    assert model.backward(np.ones((2, 2))).shape == (2, 3)  # after forward, backward works


def test_other_missing_attributes_stay_attribute_errors():
    layer = cr.Dense(3, 4)
    assert not hasattr(layer, "A_prev")  # hasattr and getattr(..., default) still work
    with pytest.raises(AttributeError, match="Dense.W does not exist until the layer is built"):
        layer.W


# -- predict on an empty .npy ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xor_model(tmp_path_factory):
    from chainrule.cli.main import main

    run_dir = tmp_path_factory.mktemp("xor") / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--out", str(run_dir), "--quiet", "--no-plots"]) == 0
    return run_dir / "model.chainrule"


@pytest.mark.parametrize("content, words", [
    (b"", "is empty (0 bytes); expected a .npy array (numpy.save) of rows of 2 numbers"),
    (np.zeros(0), "holds an empty array (shape (0,)); expected rows of 2 numbers"),
    (np.zeros((0, 2)), "holds an empty array (shape (0, 2)); expected rows of 2 numbers"),
    (b"not numpy at all", "is not a .npy array file (numpy.save); expected rows of 2 numbers"),
    (np.array(["a", "b"]), "is not a .npy array of numbers; expected rows of 2 numbers"),
])
def test_predict_names_an_empty_or_unreadable_npy(tmp_path, capsys, xor_model, content, words):
    from chainrule.cli.main import main

    path = tmp_path / "rows.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    capsys.readouterr()
    assert main(["predict", str(xor_model), "--input", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("chainrule predict: error: ") and f"{path} {words}" in err


# -- CSV files: only DataFileError, naming the file --------------------------------------------------


@pytest.mark.parametrize("content, words", [
    (b"a,b,label\n" + b"1,2,0\n" * 3000 + b"3,\xe9,1\n", "line 3002: byte 0xe9 is not UTF-8; expected a UTF-8 file"),
    (b"a,b,label\n1\n2\n", "line 2: 1 cells; expected 3 like the first row"),
], ids=["latin-1 byte deep in the file", "every row narrower than the header"])
def test_csv_errors_are_data_file_errors_naming_the_file(tmp_path, content, words):
    from chainrule.data.idx import DataFileError

    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError) as caught:
        cr.data.load_csv(path)
    assert f"{path}, {words}" in str(caught.value)
