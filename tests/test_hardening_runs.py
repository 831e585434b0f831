"""Run directories are never lost or mixed; recipes are checked whole before anything starts;
an interrupt keeps the last checkpoint and says how to resume."""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.main import main
from chainrule.io import serialize
from chainrule.training import run as run_module
from chainrule.training.config import TrainConfig
from chainrule.training.rundir import RunDirectoryError, lock_run_dir
from chainrule.training.run import train_run

QUIET = lambda *a: None  # noqa: E731


def xor(epochs=3, **train):
    return TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40},
                                  "train": {"epochs": epochs, **train}})


def train(argv, capsys=None):
    code = main([str(a) for a in argv])
    return code, (capsys.readouterr() if capsys else None)


def rewrite_checkpoint(path, **changes):
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(parts[serialize.CONFIG_NAME])
    header.update(changes)
    parts[serialize.CONFIG_NAME] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


# -- locking -----------------------------------------------------------------------------------------


def test_a_second_run_into_a_locked_directory_is_refused_naming_the_holder(tmp_path):
    tmp_path.joinpath("run").mkdir()
    with lock_run_dir(tmp_path / "run"):
        with pytest.raises(RunDirectoryError, match=f"in use by another chainrule run \\(PID {os.getpid()}\\)"):
            train_run(xor(), tmp_path / "run", verbose=0)
    assert train_run(xor(), tmp_path / "run", verbose=0)["epochs_run"] == 3  # released: the next run goes


def test_a_killed_holder_does_not_block_the_next_run(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from chainrule.training.rundir import "
                               "lock_run_dir\nwith lock_run_dir(sys.argv[1]):\n print('held', flush=True); "
                               "time.sleep(60)", str(run_dir)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunDirectoryError, match=f"PID {holder.pid}"):
        train_run(xor(), run_dir, verbose=0)
    holder.kill()
    holder.wait()
    assert (run_dir / ".chainrule.lock").exists()  # killed: its lock file stays, but not its lock
    assert train_run(xor(), run_dir, verbose=0)["epochs_run"] == 3


# -- overwrite and failed starts -----------------------------------------------------------------------


def test_overwrite_with_a_bad_new_run_keeps_the_old_one(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert train(["train", "--dataset", "xor", "--epochs", 2, "--out", run_dir, "--quiet", "--no-plots"]) [0] == 0
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    capsys.readouterr()
    # fails at the recipe check, and (a missing CSV) when the data is read
    assert train(["train", "--dataset", "xor", "--lr", "inf", "--out", run_dir, "--overwrite", "--no-plots"])[0] == 1
    assert train(["train", "--dataset", "csv", "--csv", tmp_path / "missing.csv", "--out", run_dir, "--overwrite",
                  "--no-plots"])[0] == 1
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_overwrite_interrupted_in_its_first_epoch_brings_the_old_run_back(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    train_run(xor(2), run_dir, verbose=0)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cr.Sequential, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_run(xor(5), run_dir, verbose=0, overwrite=True)
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_overwrite_replaces_the_old_run_once_the_new_one_started(tmp_path):
    run_dir = tmp_path / "run"
    train_run(xor(2), run_dir, verbose=0)
    (run_dir / ".notes.tmp").write_text("mine")  # a user's file that looks like a temporary one
    card = train_run(xor(4), run_dir, verbose=0, overwrite=True)
    assert card["epochs_run"] == 4 and (run_dir / ".notes.tmp").read_text() == "mine"
    assert sorted(p.name for p in run_dir.iterdir() if p.name.startswith(".previous")) == []


def test_a_run_that_fails_to_start_leaves_no_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match=r"needs about .*parameters .*is available"):
        train_run(xor(), tmp_path / "new", verbose=0)
    assert not (tmp_path / "new").exists()


def test_a_model_too_big_for_memory_is_refused_with_the_estimate(tmp_path, capsys):
    code, out = train(["train", "--dataset", "xor", "--hidden", 60000, 60000, 60000, 60000, 60000, 60000,
                       "--out", tmp_path / "big", "--no-plots"], capsys)
    assert code == 1 and "needs about" in out.err and "GiB" in out.err
    assert not (tmp_path / "big").exists()


@pytest.mark.parametrize("section, line, words", [
    ("model", 'init = "evil"', "[model] init must be one of"),
    ("data", "noise = -1", "[data] noise must be a finite number >= 0"),
    ("train", "seed = -1", "[train] seed must be an integer from 0"),
    ("model", "hidden = [100000000]", "[model] hidden must be a list of integers >= 1 and <= 65536"),
    ("train", "lr = inf", "[train] lr must be a finite number > 0"),
])
def test_recipe_values_are_refused_naming_file_section_and_key(tmp_path, section, line, words):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(f"[{section}]\n{line}\n")
    with pytest.raises(ValueError) as info:
        TrainConfig.from_toml(recipe)
    assert str(recipe) in str(info.value) and words in str(info.value)


def test_a_binary_recipe_is_named(tmp_path, capsys):
    recipe = tmp_path / "recipe.toml"
    recipe.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    code, out = train(["train", "--config", recipe, "--no-plots"], capsys)
    assert code == 1 and f"{recipe}: not a text file" in out.err


# -- resume --------------------------------------------------------------------------------------------


def test_an_early_stop_is_honoured_without_run_json(tmp_path):
    config = TrainConfig.from_dict({"data": {"dataset": "xor", "n_samples": 40, "validation_split": 0.25},
                                    "train": {"epochs": 200, "patience": 1, "lr": 0.5}})
    whole = train_run(config, tmp_path / "whole", verbose=0)
    assert whole["epochs_run"] < 200
    killed = tmp_path / "killed"
    train_run(config, killed, verbose=0)
    (killed / "run.json").unlink()  # as if killed between the last checkpoint and the run card
    (killed / "model.chainrule").unlink()
    card = train_run(None, killed, resume=True, verbose=0, log=QUIET)
    assert card["epochs_run"] == whole["epochs_run"]
    a, b = cr.load(killed / "model.chainrule"), cr.load(tmp_path / "whole" / "model.chainrule")
    assert np.array_equal(a.params_, b.params_)  # the best epoch's weights, as the whole run ended with


def test_a_finished_runs_card_is_left_alone(tmp_path):
    train_run(xor(2), tmp_path, verbose=0)
    card = (tmp_path / "run.json").read_bytes()
    train_run(None, tmp_path, resume=True, verbose=0, log=QUIET)
    assert (tmp_path / "run.json").read_bytes() == card


@pytest.mark.parametrize("epochs_done, words", [(100, "says 100 epochs are done but the recipe has epochs = 3"),
                                                (-100, "epochs_done must be an integer >= 0; received -100")])
def test_checkpoint_epochs_are_checked_against_the_recipe(tmp_path, epochs_done, words):
    train_run(xor(3), tmp_path, verbose=0)
    (tmp_path / "run.json").unlink()
    header, _ = serialize.read_archive(tmp_path / "checkpoint.chainrule", "chainrule-checkpoint", version=2)
    history = {k: (v * 100)[:max(epochs_done, 0)] for k, v in header["history"].items()}
    rewrite_checkpoint(tmp_path / "checkpoint.chainrule", epochs_done=epochs_done, history=history)
    with pytest.raises(ValueError if epochs_done < 0 else RunDirectoryError, match=words.replace("(", r"\(")):
        train_run(None, tmp_path, resume=True, verbose=0, log=QUIET)


def test_resume_refuses_changed_data_unless_accepted(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rng = np.random.default_rng(0)
    table = np.column_stack([rng.normal(size=(60, 3)).round(3), np.arange(60) % 2])
    np.savetxt(rows, table, delimiter=",", header="a,b,c,label", comments="", fmt="%g")
    run_dir = tmp_path / "run"
    assert train(["train", "--dataset", "csv", "--csv", rows, "--epochs", 3, "--out", run_dir, "--quiet",
                  "--no-plots"])[0] == 0
    (run_dir / "run.json").unlink()
    table[0, 0] += 1
    np.savetxt(rows, table, delimiter=",", header="a,b,c,label", comments="", fmt="%g")
    capsys.readouterr()
    code, out = train(["train", "--resume", run_dir, "--no-plots"], capsys)
    assert code == 1 and "the training data changed since the run started" in out.err
    assert "--accept-changed-data" in out.err
    assert train(["train", "--resume", run_dir, "--accept-changed-data", "--quiet", "--no-plots"])[0] == 0


def test_resume_sweeps_only_its_own_temporary_files(tmp_path):
    train_run(xor(3), tmp_path, verbose=0)
    (tmp_path / "run.json").unlink()
    ours = tmp_path / ".checkpoint.chainrule.abc123.tmp"
    theirs = tmp_path / ".mine.tmp"
    ours.write_bytes(b"half a checkpoint")
    theirs.write_text("keep")
    train_run(None, tmp_path, resume=True, verbose=0, log=QUIET)
    assert not ours.exists() and theirs.read_text() == "keep"


def test_a_symlinked_plots_folder_is_not_written_through(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    outside = tmp_path / "outside"
    outside.mkdir()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "plots").symlink_to(outside)
    code, out = train(["train", "--dataset", "xor", "--epochs", 1, "--out", run_dir], capsys)
    assert code == 0 and "is a symbolic link" in out.out and list(outside.iterdir()) == []


# -- interrupts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_keeps_the_checkpoint_and_prints_the_resume_command(tmp_path, sig):
    run_dir = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--dataset", "spirals", "--epochs",
                                "100000", "--plain", "--no-plots", "--out", str(run_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                               # as in a terminal: a suite started in the background of a script inherits
                               # SIGINT ignored, and a Python started so never turns it into KeyboardInterrupt
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not (run_dir / "checkpoint.chainrule").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert f"chainrule train --resume {run_dir}" in err
    header, _ = serialize.read_archive(run_dir / "checkpoint.chainrule", "chainrule-checkpoint", version=2)
    assert header["epochs_done"] >= 1
    assert not list(run_dir.glob(".*.tmp")) and not (run_dir / ".chainrule.lock").exists()
