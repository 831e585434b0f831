"""The resumable-run promise: a run killed mid-way and resumed from its checkpoint ends with
bit for bit the weights and history of the same run left alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import callbacks as cbs
from chainrule import optim, schedules
from chainrule.io.serialize import ModelFileError
from chainrule.training.checkpoint import Checkpoint, read_checkpoint

RECIPE = """\
[data]
dataset = "digits"
validation_split = 0.1

[model]
hidden = [128, 128]
dropout = 0.2
batchnorm = true

[train]
epochs = 6
batch_size = 4
schedule = "cosine"
patience = 0
seed = 3
"""
EPOCHS = 6


def chainrule_process(*argv, cwd):
    """``python -m chainrule ...`` started in the background."""
    env = {**os.environ, "CHAINRULE_CACHE": str(Path(cwd) / "empty-cache")}
    return subprocess.Popen([sys.executable, "-m", "chainrule", *map(str, argv)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def epochs_done(checkpoint):
    """The epochs a checkpoint says are finished, or 0 while there is none."""
    try:
        header, _ = read_checkpoint(checkpoint)
    except FileNotFoundError:
        return 0
    return header["epochs_done"]


def history_of(run_dir):
    history = json.loads((Path(run_dir) / "history.json").read_text())
    history.pop("time")  # wall-clock seconds: the one thing that may differ
    return history


def test_a_run_killed_mid_way_resumes_to_the_same_bits(tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(RECIPE)
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    victim = chainrule_process("train", "--config", recipe, "--out", killed, "--quiet", "--no-plots", cwd=tmp_path)
    reference = chainrule_process("train", "--config", recipe, "--out", whole, "--quiet", "--no-plots", cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while epochs_done(killed / "checkpoint.chainrule") < 2:
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "no checkpoint of 2 epochs within a minute"
            time.sleep(0.02)
        assert victim.poll() is None, "the run finished before it could be killed: make the epochs slower"
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    done = epochs_done(killed / "checkpoint.chainrule")  # the checkpoint is whole: written atomically
    assert 2 <= done < EPOCHS
    assert not (killed / "model.chainrule").exists()  # it really died mid-run

    resumed = subprocess.run([sys.executable, "-m", "chainrule", "train", "--resume", killed, "--quiet", "--no-plots"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert len(resumed.stdout.splitlines()) == 1 and f"{EPOCHS} epochs" in resumed.stdout
    assert f"resuming {killed} after epoch {done} of {EPOCHS}" in resumed.stderr
    out, err = reference.communicate(timeout=120)
    assert reference.returncode == 0, err

    a, b = cr.load(killed / "model.chainrule"), cr.load(whole / "model.chainrule")
    assert np.array_equal(a.params_, b.params_)
    arrays_a, arrays_b = a.state_arrays(), b.state_arrays()
    assert arrays_a.keys() == arrays_b.keys() and any("running_mean" in k for k in arrays_a)
    for key in arrays_a:  # BatchNorm statistics and the scaler too
        assert np.array_equal(arrays_a[key], arrays_b[key]), key
    history_a, history_b = history_of(killed), history_of(whole)
    assert history_a == history_b
    assert len(history_a["loss"]) == EPOCHS and history_a["lr"][0] > history_a["lr"][-1]  # the cosine schedule
    assert len((killed / "history.csv").read_text().splitlines()) == EPOCHS + 1
    card_a = json.loads((killed / "run.json").read_text())
    card_b = json.loads((whole / "run.json").read_text())
    assert card_a["resumed"] and not card_b["resumed"]
    assert card_a["test"] == card_b["test"] and card_a["train_data_sha256"] == card_b["train_data_sha256"]
    assert card_a["epochs_run"] == card_b["epochs_run"] == EPOCHS
    assert epochs_done(killed / "checkpoint.chainrule") == epochs_done(whole / "checkpoint.chainrule") == EPOCHS
    # an uninterrupted run leaves no temporary files beside its results
    assert sorted(p.name for p in whole.iterdir()) == ["checkpoint.chainrule", "config.toml", "data.sha256", "history.csv",
                                                       "history.json", "model.chainrule", "run.json"]


# -- unit level: Checkpoint.restore into fresh objects ----------------------------------------------------


@pytest.fixture(scope="module")
def data():
    X, y = cr.data.load_digits()
    X = ((X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)).astype(np.float64)
    return X[:240], y[:240], X[240:300], y[240:300]


def network(seed):
    return cr.Sequential([cr.Dense(64, 32), cr.BatchNorm(32), cr.ReLU(), cr.Dropout(0.3), cr.Dense(32, 10)],
                         rng=seed, dtype="float64")


SETUPS = {
    "adam, plateau, early stopping": (
        lambda: optim.Adam(lr=0.01),
        lambda: [cbs.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0, min_delta=0.2),
                 cbs.EarlyStopping(monitor="val_loss", patience=20, min_delta=0.05, restore_best_weights=True)]),
    "sgd momentum, step decay, early stopping": (
        lambda: optim.SGD(lr=0.05, momentum=0.9, nesterov=True),
        lambda: [cbs.LearningRateScheduler(schedules.StepDecay(2, 0.5)),
                 cbs.EarlyStopping(monitor="loss", patience=20, min_delta=0.1, restore_best_weights=True)]),
}


def train(model, optimizer, tracked, history, path, data, epochs, initial_epoch=0, checkpoint=None):
    X, y, X_val, y_val = data
    checkpoint = checkpoint or Checkpoint(path, history, tracked)
    model.fit(X, y, loss="cross_entropy", optimizer=optimizer, epochs=epochs, batch_size=16,
              validation_data=(X_val, y_val), callbacks=[*tracked, checkpoint], verbose=0,
              initial_epoch=initial_epoch, history=history)
    return checkpoint


@pytest.mark.parametrize("setup", SETUPS)
def test_three_epochs_then_restore_then_three_more_is_six_straight(setup, data, tmp_path):
    make_optimizer, make_tracked = SETUPS[setup]

    straight, straight_opt = network(0), make_optimizer()
    straight_tracked, straight_history = make_tracked(), cbs.History()
    train(straight, straight_opt, straight_tracked, straight_history, tmp_path / "straight.ckpt", data, 6)

    first = network(0)
    train(first, make_optimizer(), make_tracked(), cbs.History(), tmp_path / "split.ckpt", data, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split.ckpt", "straight.ckpt"]  # no temporaries

    # a fresh process, in effect: other initial weights, fresh optimizer, callbacks and history
    model, optimizer, tracked, history = network(12345), make_optimizer(), make_tracked(), cbs.History()
    assert not np.array_equal(model.params_, first.params_)
    checkpoint = Checkpoint(tmp_path / "split.ckpt", history, tracked)
    assert checkpoint.restore(model, optimizer) == 3
    assert len(history.history["loss"]) == 3 and optimizer.iterations == 3 * 15  # 240 rows in batches of 16
    train(model, optimizer, tracked, history, None, data, 6, initial_epoch=3, checkpoint=checkpoint)

    assert np.array_equal(model.params_, straight.params_)
    for key, value in straight.state_arrays().items():
        assert np.array_equal(model.state_arrays()[key], value), key
    assert optimizer.iterations == straight_opt.iterations == 6 * 15 and optimizer.lr == straight_opt.lr
    assert optimizer.state.keys() == straight_opt.state.keys()
    for key in optimizer.state:
        assert np.array_equal(optimizer.state[key], straight_opt.state[key]), key
    drop = lambda h: {k: v for k, v in h.items() if k != "time"}  # noqa: E731
    assert drop(history.history) == drop(straight_history.history)
    assert len(history.history["loss"]) == 6
    early, straight_early = tracked[-1], straight_tracked[-1]
    assert (early.wait, early.best_epoch, early.monitor.best) == \
        (straight_early.wait, straight_early.best_epoch, straight_early.monitor.best)
    assert len(set(history.history["lr"])) > 1  # the schedule or the plateau did move the learning rate


def test_restoring_with_another_optimizer_is_a_clear_error(data, tmp_path):
    train(network(0), optim.Adam(), [], cbs.History(), tmp_path / "run.ckpt", data, 1)
    with pytest.raises(ValueError, match="Adam.*SGD"):
        Checkpoint(tmp_path / "run.ckpt", cbs.History()).restore(network(0), optim.SGD())


def test_a_truncated_checkpoint_is_named_in_the_error(data, tmp_path):
    train(network(0), optim.Adam(), [], cbs.History(), tmp_path / "run.ckpt", data, 1)
    raw = (tmp_path / "run.ckpt").read_bytes()
    (tmp_path / "run.ckpt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="run.ckpt"):
        Checkpoint(tmp_path / "run.ckpt", cbs.History()).restore(network(0), optim.Adam())
