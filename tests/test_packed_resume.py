"""--resume of a packed run: 2 epochs, then resumed to 4, end with bit for bit the weights and the
history of 4 epochs straight (the chunked shuffle's generator is saved in the checkpoint)."""

import json

import numpy as np

import chainrule as cr
from chainrule.cli.main import main
from chainrule.data import pack

from test_packed import table

RECIPE = """\
[model]
hidden = [16]
dropout = 0.2
batchnorm = true

[train]
epochs = {epochs}
batch_size = 32
seed = 4
"""


def train(tmp_path, name, epochs, *extra):
    (tmp_path / f"{name}.toml").write_text(RECIPE.format(epochs=epochs))
    args = ["train", "--packed", str(tmp_path / "p"), "--memory-budget", "0.01", "--config",
            str(tmp_path / f"{name}.toml"), "--quiet", "--out", str(tmp_path / name), *extra]
    assert main(args) == 0
    return tmp_path / name


def test_a_packed_run_stopped_after_2_of_4_epochs_resumes_to_the_same_bits(tmp_path, capsys):
    pack(table(600, 5), tmp_path / "p", shard_rows=250)
    whole = train(tmp_path, "whole", 4)
    cut = train(tmp_path, "cut", 2)  # then made to look like a 4-epoch run stopped after epoch 2
    (cut / "config.toml").write_text((cut / "config.toml").read_text().replace("epochs = 2", "epochs = 4"))
    (cut / "run.json").unlink()
    assert main(["train", "--resume", str(cut), "--quiet"]) == 0
    assert f"resuming {cut} after epoch 2 of 4" in capsys.readouterr().err
    a, b = cr.load(whole / "model.chainrule"), cr.load(cut / "model.chainrule")
    np.testing.assert_array_equal(a.params_, b.params_)
    history_a, history_b = (json.loads((run / "history.json").read_text()) for run in (whole, cut))
    assert history_a.pop("time") and history_b.pop("time")  # wall time: the one column that may differ
    assert history_a == history_b and len(history_a["loss"]) == 4
    card = json.loads((cut / "run.json").read_text())
    assert card["resumed"] and card["epochs_run"] == 4
    assert main(["train", "--resume", str(cut), "--quiet"]) == 0  # finished: nothing more to do
    assert "finished already" in capsys.readouterr().err


def test_resume_of_a_packed_run_refuses_recipe_flags(tmp_path, capsys):
    pack(table(200, 3), tmp_path / "p", shard_rows=100)
    run = train(tmp_path, "run", 1)
    assert main(["train", "--resume", str(run), "--lr", "0.1"]) != 0
    assert "does not take --lr" in capsys.readouterr().err
