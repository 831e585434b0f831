"""The chainrule command line, end to end: train, evaluate, predict, summary, gradcheck, datasets.

Most tests call ``chainrule.cli.main.main([...])`` in-process; a few run
``python -m chainrule`` as a real subprocess to prove the entry point. The data
is small (the bundled digits, generated sets, at most 500 MNIST rows from the
shared folder), and nothing here may touch the internet.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from datafolder import shared_data
import chainrule as cr
from chainrule.cli.main import CommandError, main
from chainrule.data import mnist
from chainrule.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
SHARED_DATA = shared_data()  # CHAINRULE_DATA or ../shared/data
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

needs_mnist = pytest.mark.skipif(not (SHARED_DATA / "mnist").is_dir(), reason=f"no MNIST files in {SHARED_DATA}")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test may download: a fetch fails loudly, and the cache is an empty temporary folder."""
    def no_download(*args, **kwargs):
        raise AssertionError("a test tried to download data")

    monkeypatch.setattr(mnist, "fetch", no_download)
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)


def run(argv):
    """main(argv) with its output captured: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder):
    """Every file under folder: its bytes and modification time."""
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(Path(folder).rglob("*"))
            if p.is_file()}


def temp_files(folder):
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]


def assert_png(path):
    path = Path(path)
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One digits run from the recipe with overrides, --plain, with plots: shared by the tests that read it."""
    run_dir = tmp_path_factory.mktemp("cli") / "digits-run"
    code, out, err = run(["train", "--config", CONFIGS / "digits.toml", "--epochs", 3, "--out", run_dir, "--plain"])
    assert code == 0, err
    return run_dir, out, err


@pytest.fixture
def digits_rows():
    X, y = cr.data.load_digits()
    return X[:12], y[:12]


# -- train -----------------------------------------------------------------------------------------


def test_train_from_a_recipe_writes_a_complete_run_directory(digits_run):
    run_dir, out, _ = digits_run
    for name in ("model.chainrule", "checkpoint.chainrule", "config.toml", "history.csv", "history.json", "run.json"):
        assert (run_dir / name).is_file(), name

    config = TrainConfig.from_toml(run_dir / "config.toml")  # resolved: every key, loadable, with the override
    recipe = TrainConfig.from_toml(CONFIGS / "digits.toml")
    assert config.train.epochs == 3 and recipe.train.epochs != 3
    assert config.data == recipe.data and config.model == recipe.model
    assert config.model.dropout == 0.2 and config.train.batch_size == 32
    text = (run_dir / "config.toml").read_text()
    for key in ("dataset", "validation_split", "hidden", "batchnorm", "optimizer", "seed", "schedule", "patience"):
        assert f"\n{key} = " in text, key

    with open(run_dir / "history.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["epoch", "loss", "accuracy"] and "lr" in rows[0]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["loss"]) == 3 and history["loss"][0] > history["loss"][-1]
    assert [float(r[1]) for r in rows[1:]] == history["loss"]

    card = json.loads((run_dir / "run.json").read_text())
    assert card["seed"] == 0 and card["dataset"] == "digits" and card["epochs_run"] == 3
    assert len(card["train_data_sha256"]) == 64 and int(card["train_data_sha256"], 16) >= 0
    assert {"chainrule", "numpy", "python"} <= set(card["versions"])
    assert card["versions"]["chainrule"] == cr.__version__ and card["versions"]["numpy"] == np.__version__
    assert {"accuracy", "loss", "precision", "recall", "f1"} <= set(card["test"])
    assert 0.5 < card["test"]["accuracy"] <= 1.0
    assert 0 < card["wall_time_seconds"] < 60
    diagnostics = card["diagnostics"]
    assert diagnostics["epoch"] == 3
    grad_norms = [diagnostics[f"dW[{l}].norm"] for l in (1, 2)]
    assert all(np.isfinite(g) and g > 0 for g in grad_norms) and "dW[3].norm" not in diagnostics
    assert 0.0 <= diagnostics["A[1].dead_relu_fraction"] <= 1.0

    for name in ("history", "confusion_matrix", "first_layer_weights", "misclassified"):
        assert_png(run_dir / "plots" / f"{name}.png")
    assert not (run_dir / "plots" / "decision_boundary.png").exists()  # 64 features: no plane to draw
    assert temp_files(run_dir) == []  # every file was written atomically, no temporary left behind

    final = out.strip().splitlines()[-1]
    assert final.startswith("digits: test") and f"accuracy {card['test']['accuracy']:.4f}" in final
    assert "3 epochs" in final and str(run_dir) in final


def test_plain_prints_a_line_per_epoch_with_samples_per_second_eta_and_diagnostics(digits_run):
    _, out, err = digits_run
    lines = out.strip().splitlines()
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3"]
    assert all("loss " in line and "samples/s" in line and "ETA" in line and "lr " in line for line in epochs)
    diagnostics = [line for line in lines if "|dW[1]|" in line]
    assert len(diagnostics) == 3 and all("dead ReLUs" in line and "|dW[2]|" in line for line in diagnostics)
    # each epoch's line is followed by its diagnostics line, then the result
    assert lines[:6:2] == epochs and lines[1:6:2] == diagnostics and len(lines) == 7
    assert err == ""


def test_quiet_prints_only_the_final_line(tmp_path, capsys):
    code, out, err = cli(capsys, "train", "--config", CONFIGS / "digits.toml", "--epochs", 2, "--out", tmp_path / "run",
                         "--quiet", "--no-plots")
    assert code == 0 and err == ""
    assert len(out.splitlines()) == 1 and out.startswith("digits: test loss ") and " accuracy " in out
    assert not (tmp_path / "run" / "plots").exists()  # --no-plots


def test_default_output_is_one_line_per_epoch_off_a_terminal(tmp_path, capsys):
    code, out, _ = cli(capsys, "train", "--dataset", "xor", "--epochs", 4, "--out", tmp_path / "run", "--no-plots")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 5
    assert all(line.startswith(f"epoch {i}/4") for i, line in enumerate(lines[:4], 1))
    assert not any("|dW[" in line for line in lines)  # diagnostics lines only with --plain
    assert lines[-1].startswith("xor: test")


def test_flags_override_the_defaults_and_land_in_the_resolved_config(tmp_path, capsys):
    run_dir = tmp_path / "run"
    code, _, err = cli(capsys, "train", "--dataset", "xor", "--samples", 200, "--hidden", 16, 8, "--activation", "tanh",
                       "--dropout", 0.1, "--optimizer", "sgd", "--lr", 0.05, "--epochs", 2, "--batch-size", 64,
                       "--seed", 7, "--out", run_dir, "--quiet", "--no-plots")
    assert code == 0, err
    config = TrainConfig.from_toml(run_dir / "config.toml")
    assert (config.data.dataset, config.data.samples, config.model.hidden, config.model.activation) == \
        ("xor", 200, [16, 8], "tanh")
    assert (config.model.dropout, config.train.optimizer, config.train.lr) == (0.1, "sgd", 0.05)
    assert (config.train.epochs, config.train.batch_size, config.train.seed) == (2, 64, 7)
    card = json.loads((run_dir / "run.json").read_text())
    assert card["seed"] == 7 and card["train_rows"] == 180  # 200 rows, 10% held out for validation
    model = cr.load(run_dir / "model.chainrule")
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Tanh", "Dropout", "Dense", "Tanh", "Dropout",
                                                                "Dense"]


def test_train_on_a_csv_file(tmp_path, capsys):
    X, y = cr.data.make_blobs(n=120, rng=0)
    path = tmp_path / "blobs.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "target"])
        writer.writerows([[f"{a:.5f}", f"{b:.5f}", int(t)] for (a, b), t in zip(X, y)])
    code, out, err = cli(capsys, "train", "--dataset", "csv", "--csv", path, "--label", "target", "--epochs", 3,
                         "--out", tmp_path / "run", "--quiet", "--no-plots")
    assert code == 0, err
    assert out.startswith("csv: test")
    config = TrainConfig.from_toml(tmp_path / "run" / "config.toml")
    assert (config.data.path, config.data.label) == (str(path), "target")


def test_training_into_an_existing_run_fails_and_leaves_it_untouched(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli(capsys, "train", "--dataset", "xor", "--epochs", 2, "--out", run_dir, "--quiet", "--no-plots")[0] == 0
    before = snapshot(run_dir)
    code, out, err = cli(capsys, "train", "--dataset", "xor", "--epochs", 3, "--out", run_dir, "--quiet")
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("chainrule train: error: ")
    assert "already holds a run" in err and "--overwrite" in err and "--resume" in err and str(run_dir) in err
    assert snapshot(run_dir) == before  # not one byte, not one timestamp changed

    code, _, err = cli(capsys, "train", "--dataset", "xor", "--epochs", 3, "--out", run_dir, "--quiet", "--no-plots",
                       "--overwrite")
    assert code == 0, err
    assert TrainConfig.from_toml(run_dir / "config.toml").train.epochs == 3
    assert len(json.loads((run_dir / "history.json").read_text())["loss"]) == 3


def test_resume_of_a_finished_run_keeps_quiet(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert cli(capsys, "train", "--dataset", "xor", "--epochs", 2, "--out", run_dir, "--quiet", "--no-plots")[0] == 0
    code, out, err = cli(capsys, "train", "--resume", run_dir, "--quiet", "--no-plots")
    assert code == 0
    assert len(out.splitlines()) == 1 and out.startswith("xor: test") and "2 epochs" in out
    assert "resuming" in err  # the note goes to stderr, so stdout holds only the result


def test_spirals_write_a_decision_boundary(tmp_path, capsys):
    run_dir = tmp_path / "spirals"
    code, out, err = cli(capsys, "train", "--dataset", "spirals", "--epochs", 30, "--samples", 300, "--out", run_dir,
                         "--quiet")
    assert code == 0, err
    assert out.startswith("spirals: test") and "30 epochs" in out
    for name in ("decision_boundary", "history", "confusion_matrix"):
        assert_png(run_dir / "plots" / f"{name}.png")
    assert not (run_dir / "plots" / "first_layer_weights.png").exists()  # not images
    assert TrainConfig.from_toml(run_dir / "config.toml").data.samples == 300


def test_a_split_that_leaves_no_test_rows_fails_before_training(tmp_path, capsys):
    recipe = tmp_path / "tiny.toml"
    recipe.write_text('[data]\ndataset = "xor"\nn_samples = 4\nnoise = 0.0\ntest_size = 0.25\n[train]\nepochs = 500\n')
    code, out, err = cli(capsys, "train", "--config", recipe, "--out", tmp_path / "run", "--quiet")
    assert code == 1 and out == ""
    assert err.startswith("chainrule train: error: ") and len(err.splitlines()) == 1
    assert "test_size" in err and "0 test rows" in err
    assert not (tmp_path / "run" / "checkpoint.chainrule").exists()  # it stopped before the first epoch


@needs_mnist
def test_mnist_from_the_shared_folder(tmp_path, capsys):
    run_dir = tmp_path / "mnist"
    code, out, err = cli(capsys, "train", "--config", CONFIGS / "mnist.toml", "--samples", 500, "--epochs", 1,
                         "--data-dir", SHARED_DATA, "--out", run_dir, "--quiet", "--no-plots")
    assert code == 0, err
    assert out.startswith("mnist: test") and "(1 epoch," in out
    card = json.loads((run_dir / "run.json").read_text())
    assert 440 <= card["train_rows"] <= 460  # 500 rows less ~10% validation (stratified, rounded per class)
    assert card["test"]["accuracy"] > 0.3
    assert cr.load(run_dir / "model.chainrule").layers[0].W.shape == (784, 512)

    code, out, err = cli(capsys, "evaluate", run_dir, "--data-dir", SHARED_DATA)
    assert code == 0, err
    assert out.splitlines()[0] == "10000 rows of the mnist test split"
    assert f"{card['test']['accuracy']:.4f}" in out


# -- evaluate ---------------------------------------------------------------------------------------


def metrics_of(out):
    """{name: value} from evaluate's table."""
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines()[1:]}


def test_evaluate_a_run_directory_prints_the_test_metrics(digits_run, capsys):
    run_dir, _, _ = digits_run
    code, out, err = cli(capsys, "evaluate", run_dir)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "359 rows of the digits test split"
    metrics = metrics_of(out)
    assert set(metrics) == {"loss", "accuracy", "top5_accuracy", "precision", "recall", "f1"}
    card = json.loads((run_dir / "run.json").read_text())
    for key in ("loss", "accuracy", "f1"):
        assert metrics[key] == pytest.approx(card["test"][key], abs=1e-4)
    assert metrics["top5_accuracy"] >= metrics["accuracy"]


def test_evaluate_a_model_file_on_a_csv(digits_run, digits_rows, tmp_path, capsys):
    run_dir, _, _ = digits_run
    X, y = digits_rows
    path = tmp_path / "rows.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", fmt="%g")
    code, out, err = cli(capsys, "evaluate", run_dir / "model.chainrule", "--csv", path)
    assert code == 0, err
    assert out.splitlines()[0] == f"12 rows of {path}"
    model = cr.load(run_dir / "model.chainrule")
    assert metrics_of(out)["accuracy"] == pytest.approx(np.mean(model.predict(X) == y), abs=1e-4)


def test_evaluate_a_binary_model_leaves_out_top5(tmp_path, capsys):
    run_dir = tmp_path / "xor"
    assert cli(capsys, "train", "--dataset", "xor", "--epochs", 20, "--out", run_dir, "--quiet", "--no-plots")[0] == 0
    code, out, _ = cli(capsys, "evaluate", run_dir)
    assert code == 0 and "top5_accuracy" not in out and "accuracy" in out


# -- predict ----------------------------------------------------------------------------------------


def read_predictions(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "label", *(str(j) for j in range(10))]  # one probability column per class
    labels = np.array([int(r[1]) for r in rows[1:]])
    proba = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    return labels, proba


def test_predict_csv_rows_to_standard_output(digits_run, digits_rows, tmp_path, capsys):
    run_dir, _, _ = digits_run
    X, _ = digits_rows
    path = tmp_path / "x.csv"
    np.savetxt(path, X[:5], delimiter=",", fmt="%g")
    code, out, err = cli(capsys, "predict", run_dir, "--input", path)
    assert code == 0 and err == ""
    labels, proba = read_predictions(out)
    model = cr.load(run_dir / "model.chainrule")
    assert np.array_equal(labels, model.predict(X[:5]))
    np.testing.assert_allclose(proba, model.predict_proba(X[:5]), atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(labels, proba.argmax(axis=1))


def test_predict_npy_to_an_output_file(digits_run, digits_rows, tmp_path, capsys):
    run_dir, _, _ = digits_run
    X, _ = digits_rows
    np.save(tmp_path / "x.npy", X[:5].reshape(5, 8, 8))  # images are flattened to rows
    np.savetxt(tmp_path / "x.csv", X[5:7], delimiter=",", fmt="%g")
    target = tmp_path / "predictions.csv"
    code, out, err = cli(capsys, "predict", run_dir / "model.chainrule", "--input", tmp_path / "x.npy",
                         tmp_path / "x.csv", "--output", target)
    assert code == 0, err
    assert out.strip() == f"7 predictions -> {target}"
    labels, proba = read_predictions(target.read_text())
    model = cr.load(run_dir / "model.chainrule")
    assert np.array_equal(labels, model.predict(X[:7])) and proba.shape == (7, 10)
    assert temp_files(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file, not the 0600 of a temporary


def test_predict_png_images(digits_run, tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    run_dir, _, _ = digits_run
    pixels = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    Image.fromarray(pixels, "L").save(tmp_path / "digit.png")
    Image.fromarray(np.kron(pixels, np.ones((2, 2), np.uint8)), "L").save(tmp_path / "big.png")  # resized to 8x8
    # PNG pixels 0..255 go onto the digits' scale 0..16
    np.save(tmp_path / "same.npy", pixels.reshape(1, 64).astype(np.float32) * 16 / 255)
    np.save(tmp_path / "inverted.npy", (255 - pixels.reshape(1, 64).astype(np.float32)) * 16 / 255)

    code, out, err = cli(capsys, "predict", run_dir, "--input", tmp_path / "digit.png", tmp_path / "big.png",
                         "--resize", "--no-invert")
    assert code == 0, err
    labels, proba = read_predictions(out)
    assert proba.shape == (2, 10) and [row.split(",")[0] for row in out.splitlines()[1:]] == ["digit.png", "big.png"]
    same = cli(capsys, "predict", run_dir, "--input", tmp_path / "same.npy")[1]
    assert same.split(",", 1)[1] == read_predictions_text(out, 0).split(",", 1)[1].replace("\ndigit.png,", "\n1,")

    code, out, _ = cli(capsys, "predict", run_dir, "--input", tmp_path / "digit.png", "--invert")
    assert code == 0
    assert out.replace("digit.png,", "1,") == cli(capsys, "predict", run_dir, "--input", tmp_path / "inverted.npy")[1]


def read_predictions_text(text, row):
    """The header and one row of predict's CSV, as predict would print them for that row alone."""
    lines = text.splitlines(keepends=True)
    return lines[0] + lines[1 + row]


# -- summary and gradcheck --------------------------------------------------------------------------


def test_summary_of_a_run_and_of_a_model_file(digits_run, capsys):
    run_dir, _, _ = digits_run
    code, out, err = cli(capsys, "summary", run_dir)
    assert code == 0 and err == ""
    assert "Dense(n_in=64, n_out=128)" in out and "Dropout(p=0.2)" in out and "ReLU()" in out
    assert "total parameters: 9,610" in out  # 64*128 + 128 + 128*10 + 10
    assert "loss: CrossEntropy" in out and "preprocessing: Standardizer" in out
    assert cli(capsys, "summary", run_dir / "model.chainrule")[1] == out


def gradcheck_rows(out):
    return [line for line in out.splitlines() if line.startswith("d")]


def test_gradcheck_without_a_model_checks_a_small_network(capsys):
    code, out, err = cli(capsys, "gradcheck")
    assert code == 0 and err == ""
    assert "relative error" in out.splitlines()[1] and "result" in out.splitlines()[1]
    rows = gradcheck_rows(out)
    assert [row.split()[0] for row in rows] == ["dW[1]", "db[1]", "dW[2]", "db[2]", "dW[3]", "db[3]", "dX"]
    assert all(row.split()[-1] == "pass" and float(row.split()[-2]) < 1e-6 for row in rows)
    assert out.strip().splitlines()[-1].startswith("7 of 7 gradients pass")


def test_gradcheck_fails_with_exit_code_1_when_the_tolerance_is_impossible(capsys):
    code, out, _ = cli(capsys, "gradcheck", "--tolerance", "1e-30")
    assert code == 1 and "FAIL" in out and out.strip().splitlines()[-1].startswith("0 of 7")


def test_gradcheck_a_trained_model(tmp_path, capsys):
    run_dir = tmp_path / "run"  # small, so that the finite differences are quick
    assert cli(capsys, "train", "--dataset", "spirals", "--samples", 100, "--hidden", 16, 8, "--dropout", 0.1,
               "--epochs", 2, "--out", run_dir, "--quiet", "--no-plots")[0] == 0
    code, out, err = cli(capsys, "gradcheck", run_dir, "--samples", 3)
    assert code == 0, out + err
    rows = gradcheck_rows(out)
    assert len(rows) == 7 and all(row.endswith("pass") for row in rows) and "FAIL" not in out
    assert rows[0].startswith("dW[1]") and "(2, 16)" in rows[0]
    assert rows[-1].startswith("dX") and "(3, 2)" in rows[-1]
    assert out.strip().splitlines()[-1].startswith("7 of 7 gradients pass")


# -- datasets ---------------------------------------------------------------------------------------


def test_datasets_lists_what_there_is(capsys):
    code, out, err = cli(capsys, "datasets")
    assert code == 0 and err == ""
    names = [line.split()[0] for line in out.splitlines()[1:-1]]
    assert {"digits", "mnist", "fashion-mnist", "xor", "spirals"} <= set(names)
    mnist_line = next(line for line in out.splitlines() if line.startswith("mnist "))
    assert "missing" in mnist_line  # the cache is empty and no folder is named
    assert out.strip().splitlines()[-1].startswith("search order:")


@needs_mnist
def test_datasets_verifies_the_checksums_of_the_shared_folder(monkeypatch, capsys):
    monkeypatch.setenv("CHAINRULE_DATA", str(SHARED_DATA))
    code, out, _ = cli(capsys, "datasets")
    assert code == 0
    for name in ("mnist", "fashion-mnist"):
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert "checksums verified" in line and str(SHARED_DATA / name) in line


# -- errors: one line, exit code 1; the exception itself with --debug ----------------------------------


def error_cases(tmp_path, run_dir):
    bad_key = tmp_path / "bad-key.toml"
    bad_key.write_text("[train]\nepoch = 3\n")
    bad_value = tmp_path / "bad-value.toml"
    bad_value.write_text("[train]\nlr = -1\n")
    three = tmp_path / "three.csv"
    three.write_text("1,2,3\n4,5,6\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    no_run = tmp_path / "empty-dir"
    no_run.mkdir(exist_ok=True)
    out = tmp_path / "out"
    return {
        "missing config": (["train", "--config", tmp_path / "missing.toml", "--out", out], FileNotFoundError,
                           ["no config file", "missing.toml"]),
        "bad key": (["train", "--config", bad_key, "--out", out], ValueError,
                    ["bad-key.toml", "unknown key 'epoch'", "expected", "'epochs'"]),
        "bad value": (["train", "--config", bad_value, "--out", out], ValueError,
                      ["bad-value.toml", "lr", "must be a finite number > 0", "received -1"]),
        "bad flag value": (["train", "--lr", "-1", "--out", out], ValueError, ["lr", "must be", "received -1"]),
        "csv without a file": (["train", "--dataset", "csv", "--out", out], ValueError, ["csv", "path"]),
        "resume without a checkpoint": (["train", "--resume", no_run], CommandError, ["checkpoint", str(no_run)]),
        "missing model": (["evaluate", tmp_path / "nope.chainrule"], FileNotFoundError, ["nope.chainrule"]),
        "missing model to predict": (["predict", tmp_path / "nope.chainrule", "--input", three], FileNotFoundError,
                                     ["nope.chainrule"]),
        "missing model to summarize": (["summary", tmp_path / "nope.chainrule"], FileNotFoundError,
                                       ["nope.chainrule"]),
        "folder without a model": (["summary", no_run], CommandError, ["model.chainrule", str(no_run)]),
        "model file alone": (["evaluate", run_dir / "model.chainrule"], CommandError, ["--csv"]),
        "wrong-shaped input": (["predict", run_dir, "--input", three], CommandError,
                               ["three.csv", "3 values", "expects 64"]),
        "unknown input kind": (["predict", run_dir, "--input", notes], CommandError,
                               ["expected a .csv or .npy file, or an image", "received .txt"]),
        "missing input": (["predict", run_dir, "--input", tmp_path / "absent.csv"], CommandError, ["absent.csv"]),
        "not a model": (["summary", three], cr.ModelFileError, ["three.csv", "chainrule-model"]),
        "bench with no rounds": (["bench", "--quick", "--repeats", "0"], ValueError,
                                 ["repeats", "whole number >= 1", "received 0"]),
    }


CASES = ["missing config", "bad key", "bad value", "bad flag value", "csv without a file",
         "resume without a checkpoint", "missing model", "missing model to predict", "missing model to summarize",
         "folder without a model", "model file alone", "wrong-shaped input", "unknown input kind", "missing input",
         "not a model", "bench with no rounds"]


@pytest.mark.parametrize("case", CASES)
def test_an_error_is_one_line_and_exit_code_1(case, digits_run, tmp_path, capsys):
    argv, _, fragments = error_cases(tmp_path, digits_run[0])[case]
    code, out, err = cli(capsys, *argv)
    assert code == 1
    assert out == ""
    assert len(err.splitlines()) == 1 and err.endswith("\n")
    assert err.startswith(f"chainrule {argv[0]}: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not (tmp_path / "out" / "checkpoint.chainrule").exists()


@pytest.mark.parametrize("case", CASES)
def test_with_debug_the_exception_propagates(case, digits_run, tmp_path, capsys):
    argv, exception, _ = error_cases(tmp_path, digits_run[0])[case]
    with pytest.raises(exception):
        main(["--debug", *map(str, argv)])
    assert capsys.readouterr().err == ""


def test_a_usage_error_is_argparses_exit_code_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["predict", "somewhere"])  # --input is required
    assert info.value.code == 2
    assert "--input" in capsys.readouterr().err


# -- the real entry points ---------------------------------------------------------------------------


def python_m_chainrule(*argv, cwd):
    env = {**os.environ, "CHAINRULE_CACHE": str(Path(cwd) / "empty-cache")}
    env.pop("CHAINRULE_DATA", None)
    return subprocess.run([sys.executable, "-m", "chainrule", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_python_m_chainrule_trains_and_fails_like_the_in_process_cli(tmp_path):
    result = python_m_chainrule("train", "--dataset", "xor", "--epochs", 3, "--samples", 100, "--out", "runs/xor",
                                "--quiet", "--no-plots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("xor: test") and len(result.stdout.splitlines()) == 1
    assert (tmp_path / "runs" / "xor" / "model.chainrule").is_file()

    result = python_m_chainrule("gradcheck", cwd=tmp_path)
    assert result.returncode == 0 and "7 of 7 gradients pass" in result.stdout

    result = python_m_chainrule("evaluate", "no-such-run", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("chainrule evaluate: error: ") and len(result.stderr.splitlines()) == 1


def test_the_chainrule_script_is_installed(tmp_path):
    script = shutil.which("chainrule")
    if script is None:
        pytest.skip("the chainrule console script is not on PATH")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "summary", "gradcheck", "datasets"):
        assert command in result.stdout
