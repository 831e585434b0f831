"""Training from a packed dataset over MPI: 2 ranks, each reading its own chunks, give the weights of
one process that replays their steps (each step one train_step on the union of the ranks' local
batches), when the ranks' rows differ too; every rank takes the same steps; and the CLI
(train --packed --distributed, its --resume) writes from rank 0 alone.

The tests start ``mpirun`` on this file; run as a script, it trains on every rank and every rank
saves its weights and step count."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.main import main
from chainrule.data import PackedDataset, pack
from chainrule.distributed import mpirun, share
from chainrule.training.loop import train_step

from test_distributed import network

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
           OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
CHUNK_MIB = 40 * (12 * 8 + 8) / 2**20  # chunks of 40 rows (12 float64 features and an int64 label)
BATCH, EPOCHS, SEED = 32, 2, 5
MPI = [mpirun(), "--oversubscribe", "-n", "2", sys.executable, "-m", "mpi4py"]


def table(rows):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(rows, 12))
    return X, (X[:, 0] + X[:, 1] ** 2 > 1).astype(np.int64) + (X[:, 2] > 0.5)


def dataset(path, rank):
    return PackedDataset(path, chunk_mib=CHUNK_MIB, window=2, rng=SEED, rank=rank, ranks=2)


def local_batch(rank):
    start, stop = share(BATCH, rank, 2)
    return stop - start


def replay(path):
    """One process, one train_step per step on rank 0's local batch and rank 1's together (either
    may have run out of rows); returns the weights, the epochs' losses, and whether a rank ran out."""
    model, loss, optimizer = network("float64"), cr.losses.get("cross_entropy"), cr.optim.get("adam")
    model.compile(loss)
    datasets = [dataset(path, r) for r in range(2)]
    losses, ran_out = [], False
    for _ in range(EPOCHS):
        streams = [d.batches(local_batch(r)) for r, d in enumerate(datasets)]
        total, rows = 0.0, 0
        while True:
            parts = [[a.copy() for a in batch] for batch in (next(s, None) for s in streams) if batch is not None]
            if not parts:
                break
            ran_out |= len(parts) < 2
            X, y = (np.concatenate(p) for p in zip(*parts))
            _, value = train_step(model, model.as_input(X), loss.targets(y, (len(X), 3), model.dtype), loss, optimizer)
            total, rows = total + value * len(X), rows + len(X)
        losses.append(total / rows)
    return model.params_, losses, ran_out


def mpi_train(path, out):
    result = subprocess.run([*MPI, __file__, str(path), str(out)], env=ENV, capture_output=True, text=True,
                            timeout=60)  # a step one rank takes and the other not would hang: fail instead
    assert result.returncode == 0, result.stdout + result.stderr
    return [dict(np.load(f"{out}.{rank}.npz")) for rank in range(2)]


def assert_same(got, expected):  # relative to the largest weight: a bias before BatchNorm only moves by noise
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


# 320 rows: 8 chunks of 40, 4 a rank; shards of 130: chunks of 40, 40, 40, 10 per shard (and 40), 5 and 4 a rank
@pytest.mark.parametrize("rows, shard_rows", [(320, None), (300, 130)])
def test_two_ranks_train_the_weights_of_the_union_of_their_local_batches(tmp_path, rows, shard_rows):
    pack(table(rows), tmp_path / "p", shard_rows=shard_rows)
    expected, losses, ran_out = replay(tmp_path / "p")
    assert ran_out == (shard_rows is not None)  # the uneven case has steps where one rank has no rows
    ranks = mpi_train(tmp_path / "p", tmp_path / "out")
    for got in ranks:
        assert_same(got["params"], expected)
        np.testing.assert_allclose(got["loss"], losses, rtol=1e-10)  # the epoch's loss: over both ranks' rows
    assert ranks[0]["steps"].tolist() == ranks[1]["steps"].tolist()  # the same steps on every rank
    assert not np.allclose(ranks[0]["params"], network("float64").params_)  # it trained


def test_a_dataset_opened_for_other_ranks_than_the_strategy_is_named(tmp_path):
    pack(table(100), tmp_path / "p")
    with pytest.raises(ValueError, match="opened as rank 1 of 2, but this process trains as rank 0 of 1"):
        dataset(tmp_path / "p", 1).fit(network("float64"), loss="cross_entropy", verbose=0)


def chainrule(*args, cwd, ranks=2, wdirs=None):
    """chainrule on 2 MPI ranks (--distributed); ``wdirs``: each rank's working folder."""
    command = ["-m", "chainrule", *args, "--distributed"]
    if wdirs:  # MPMD: the same command, each rank in its own folder
        launch = [mpirun(), "--oversubscribe", "-n", "1", "-wdir", str(wdirs[0]), sys.executable, "-m", "mpi4py",
                  *command, ":", "-n", "1", "-wdir", str(wdirs[1]), sys.executable, "-m", "mpi4py", *command]
    else:
        launch = [mpirun(), "--oversubscribe", "-n", str(ranks), sys.executable, "-m", "mpi4py", *command]
    result = subprocess.run(launch, env=ENV, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


RECIPE = '[model]\nhidden = [16]\nbatchnorm = true\n[train]\nepochs = {}\nbatch_size = 32\nseed = 4\ndtype = "float64"\n'


def test_cli_packed_distributed_writes_from_rank_0_and_resumes(tmp_path):
    pack(table(300), tmp_path / "p", shard_rows=130)
    for epochs in (2, 4):
        (tmp_path / f"e{epochs}.toml").write_text(RECIPE.format(epochs))
    flags = ["--packed", str(tmp_path / "p"), "--memory-budget", "0.02", "--quiet"]
    (tmp_path / "rank1").mkdir()
    result = chainrule("train", *flags, "--config", str(tmp_path / "e2.toml"), "--out", "cut", cwd=tmp_path,
                       wdirs=[tmp_path, tmp_path / "rank1"])
    assert result.stdout.count("packed ") == 1  # rank 0 alone prints the result
    assert list((tmp_path / "rank1").iterdir()) == []  # and writes: rank 1 ran in a folder of its own
    card = json.loads((tmp_path / "cut" / "run.json").read_text())
    assert card["ranks"] == 2 and card["epochs_run"] == 2 and card["memory_budget_mib"] == 0.02
    chainrule("train", *flags, "--config", str(tmp_path / "e4.toml"), "--out", "whole", cwd=tmp_path)
    cut = tmp_path / "cut"  # made to look like a 4-epoch run stopped after epoch 2
    (cut / "config.toml").write_text((cut / "config.toml").read_text().replace("epochs = 2", "epochs = 4"))
    (cut / "run.json").unlink()
    shutil.copytree(cut, tmp_path / "alone")  # to resume on 1 process: another composition of the batches
    result = chainrule("train", "--resume", "cut", "--quiet", cwd=tmp_path)
    assert result.stderr.count("resuming") == 1
    assert json.loads((cut / "run.json").read_text())["epochs_run"] == 4
    assert_same(cr.load(cut / "model.chainrule").params_, cr.load(tmp_path / "whole" / "model.chainrule").params_)
    assert main(["train", "--resume", str(tmp_path / "alone"), "--quiet"]) == 0
    card = json.loads((tmp_path / "alone" / "run.json").read_text())
    assert card["epochs_run"] == 4 and card["resumed"] and "ranks" not in card


if __name__ == "__main__":  # on every rank, started by mpi_train
    sys.path.insert(0, str(ROOT / "src"))
    from chainrule import distributed
    from chainrule.training.callbacks import Callback

    class Steps(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.counts.append(0)

        def on_batch_end(self, step, logs=None):
            self.counts[-1] += 1

    path, out = sys.argv[1], sys.argv[2]
    strategy, model, steps = distributed.DataParallel(), network("float64"), Steps()
    steps.counts = []
    history = dataset(path, strategy.rank).fit(model, loss="cross_entropy", optimizer="adam", epochs=EPOCHS,
                                               batch_size=BATCH, verbose=0, callbacks=[steps], strategy=strategy)
    np.savez(f"{out}.{strategy.rank}.npz", params=model.params_, loss=history.history["loss"], steps=steps.counts)
