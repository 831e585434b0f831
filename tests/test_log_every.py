"""`--log-every K`: every K-th epoch line, and the first and the last."""

import io
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import callbacks as cbs
from chainrule.cli.main import main
from chainrule.training.progress import ProgressLog


def epochs_printed(text):
    return [int(n) for n in re.findall(r"^epoch (\d+)/", text, flags=re.M)]


def test_the_cli_prints_every_kth_epoch_and_the_first_and_last(tmp_path, capsys):
    code = main(["train", "--dataset", "xor", "--epochs", "11", "--log-every", "5", "--plain", "--no-plots",
                 "--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert code == 0
    assert epochs_printed(out) == [1, 5, 10, 11]
    assert "|dW" not in out  # the diagnostics line goes with every epoch's line, so not here


@pytest.mark.parametrize("argv, words", [(["--log-every", "0"], "--log-every must be an integer >= 1; received 0"),
                                         (["--log-every", "2", "--quiet"], "--quiet prints none")])
def test_the_cli_refuses_a_log_every_it_cannot_honour(tmp_path, capsys, argv, words):
    assert main(["train", "--dataset", "xor", "--epochs", "2", "--out", str(tmp_path / "run"), *argv]) == 1
    assert words in capsys.readouterr().err


def test_an_early_stop_still_prints_its_last_epoch():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    model = cr.Sequential([cr.Dense(2, 4), cr.ReLU(), cr.Dense(4, 2)], rng=0)
    stream = io.StringIO()
    stop = cbs.EarlyStopping(monitor="loss", patience=1, min_delta=3e-4)  # stops once the loss gains < 3e-4
    log = ProgressLog(stream, every=25)
    history = model.fit(X, y, loss="cross_entropy", epochs=500, verbose=0, callbacks=[log, stop], optimizer="sgd")
    run = len(history.history["loss"])
    printed = epochs_printed(stream.getvalue())
    assert 25 < run < 500 and run % 25
    assert printed == [1, *range(25, run, 25), run]


def test_fit_checks_log_every():
    model = cr.Sequential([cr.Dense(2, 2)], rng=0)
    with pytest.raises(ValueError, match="fit: log_every must be an integer >= 1"):
        model.fit(np.zeros((4, 2)), np.zeros(4, int), loss="cross_entropy", log_every=0, verbose=0)


def test_progress_bar_shows_the_loss_and_takes_a_step_without_one(capsys):
    """With MPI, a rank with no rows in a step reports no loss (training.stream): the bar moves on
    and keeps the last loss it showed."""
    pytest.importorskip("tqdm")
    from chainrule.training.progress import ProgressBar

    bar = ProgressBar()
    bar.set_context(None, None, {"epochs": 1, "samples": 40, "batch_size": 10})
    bar.on_epoch_begin(0)
    bar.on_batch_end(0, {"loss": 0.25})
    bar.on_batch_end(10, {})
    assert bar.seen == 20 and bar.bar.postfix == "loss=0.2500"
    bar.on_epoch_end(0, {"loss": 0.2})


def test_diagnostics_keep_the_last_step_even_past_the_expected_count():
    """Uneven MPI ranks on packed data can take more steps than ceil(rows / batch_size): the epoch's
    diagnostics are those of its last step, not of the step the count expected to be last."""
    from chainrule.training.diagnostics import Diagnostics, layer_diagnostics

    model = cr.Sequential([cr.Dense(3, 4), cr.ReLU(), cr.Dense(4, 2)], rng=0)
    model.compile("mse")
    diagnostics = Diagnostics()
    diagnostics.set_context(model, None, {"steps": 2})
    rng = np.random.default_rng(0)
    for step in range(3):  # one step more than expected
        X = rng.normal(size=(5, 3)) * (step + 1)
        model.loss(model.forward(X, training=True), np.zeros((5, 2)))  # C, then dW[l] from dA[L] = dC/dA[L]
        model.backward(model.loss.backward())
        diagnostics.on_batch_end(step, {"loss": 0.0})
    last = layer_diagnostics(model)
    diagnostics.on_epoch_end(0, {})
    assert diagnostics.records[0] == {"epoch": 1, **last}
