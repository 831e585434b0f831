"""`chainrule train --resume RUN --epochs N`: a finished or stopped run continues to N epochs in all."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import schedules
from chainrule.cli.main import main
from chainrule.training.config import TrainConfig
from chainrule.training.rundir import RunDirectoryError
from chainrule.training.run import train_run

QUIET = lambda *a: None  # noqa: E731


def train(*argv):
    return main([str(a) for a in argv])


def history(run_dir):
    return json.loads((run_dir / "history.json").read_text())


def test_a_finished_run_continues_to_the_same_bits_as_one_long_run(tmp_path, capsys):
    short, long = tmp_path / "short", tmp_path / "long"
    assert train("train", "--dataset", "xor", "--epochs", 3, "--out", short, "--quiet", "--no-plots") == 0
    assert train("train", "--dataset", "xor", "--epochs", 6, "--out", long, "--quiet", "--no-plots") == 0
    capsys.readouterr()
    assert train("train", "--resume", short, "--epochs", 6, "--quiet", "--no-plots") == 0
    out = capsys.readouterr().out
    assert "6 epochs" in out
    assert TrainConfig.from_toml(short / "config.toml").train.epochs == 6
    assert json.loads((short / "run.json").read_text())["epochs_run"] == 6
    a, b = history(short), history(long)
    a.pop("time"), b.pop("time")
    assert a == b  # no schedule: continuing is the same as having asked for 6 epochs at first
    assert np.array_equal(cr.load(short / "model.chainrule").params_, cr.load(long / "model.chainrule").params_)


def test_fewer_epochs_than_done_are_refused_and_leave_the_run_alone(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert train("train", "--dataset", "xor", "--epochs", 3, "--out", run_dir, "--quiet", "--no-plots") == 0
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    capsys.readouterr()
    assert train("train", "--resume", run_dir, "--epochs", 2, "--quiet", "--no-plots") == 1
    assert "--epochs 2 is fewer than the 3 epochs" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before


def test_as_many_epochs_as_done_leaves_a_finished_run_as_it_is(tmp_path):
    train_run(TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40}, "train": {"epochs": 2}}),
              tmp_path, verbose=0)
    card = (tmp_path / "run.json").read_bytes()
    notes = []
    train_run(None, tmp_path, resume=True, verbose=0, log=notes.append, epochs=2)
    assert (tmp_path / "run.json").read_bytes() == card
    assert "--epochs N, more than 2, continues it" in notes[0]


def test_a_cosine_schedule_is_stretched_to_the_new_total(tmp_path):
    lr = 0.1
    config = TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40},
                                    "train": {"epochs": 3, "lr": lr, "schedule": "cosine"}})
    train_run(config, tmp_path, verbose=0)
    train_run(None, tmp_path, resume=True, verbose=0, log=QUIET, epochs=6)
    rates = history(tmp_path)["lr"]
    assert rates[:3] == pytest.approx([schedules.CosineDecay(3)(e, lr) for e in range(3)])  # the first run's
    assert rates[3:] == pytest.approx([schedules.CosineDecay(6)(e, lr) for e in range(3, 6)])  # total 6
    assert rates[3] > rates[2]  # so the rate goes back up from where the short run ended


def test_an_early_stopped_run_gets_its_patience_back(tmp_path):
    patience = 3
    config = TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40, "validation_split": 0.25},
                                    "train": {"epochs": 200, "patience": patience, "lr": 0.5}})
    stopped = train_run(config, tmp_path, verbose=0)["epochs_run"]
    assert stopped < 200
    notes = []
    card = train_run(None, tmp_path, resume=True, verbose=0, log=notes.append, epochs=stopped + 20)
    # patience counted afresh: at least `patience` more epochs (not one, as the spent counter would allow)
    assert stopped + patience <= card["epochs_run"] <= stopped + 20
    assert "counted afresh" in notes[0]
    val = history(tmp_path)["val_loss"]
    best = int(np.argmin(val))
    assert card["epochs_run"] == stopped + 20 or card["epochs_run"] - 1 - best >= patience
    assert len(val) == card["epochs_run"]


def test_resume_refuses_a_non_positive_epochs(tmp_path):
    train_run(TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40}, "train": {"epochs": 2}}),
              tmp_path, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        train_run(None, tmp_path, resume=True, verbose=0, log=QUIET, epochs=0)
    with pytest.raises(RunDirectoryError, match="fewer than the 2 epochs"):
        train_run(None, tmp_path, resume=True, verbose=0, log=QUIET, epochs=1)
