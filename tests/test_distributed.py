"""Data-parallel training over MPI equals one process: the same weights after two epochs, BatchNorm,
an L2 penalty and a last batch that does not split evenly included.

The test starts ``mpirun`` on this file; run as a script, it trains on every rank and rank 0 saves
the weights."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def network(dtype, dropout=0.0):
    import chainrule as cr

    layers = [cr.Dense(12, 32, l2=1e-3), cr.BatchNorm(32), cr.ReLU(), cr.Dense(32, 16), cr.BatchNorm(16), cr.Tanh()]
    layers += [cr.Dropout(dropout)] if dropout else []
    return cr.Sequential([*layers, cr.Dense(16, 3)], rng=7, dtype=dtype)


def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 12))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(np.int64) + (X[:, 2] > 0.5)
    return X, y  # 300 rows in batches of 64: the last batch, 44 rows, splits 22/22 on 2 ranks, 15/15/14 on 3


FIT = {"loss": "cross_entropy", "epochs": 2, "batch_size": 64, "verbose": 0}


def mpi_run(ranks, dtype, tmp_path, dropout=0.0, optimizer="adam"):
    from chainrule.distributed import mpirun

    out = tmp_path / f"weights{ranks}{dtype}.npz"
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    command = [mpirun(), "--oversubscribe", "-n", str(ranks), sys.executable, "-m", "mpi4py", __file__,
               dtype, str(dropout), optimizer, str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(np.load(out))


def single(dtype, dropout=0.0, optimizer="adam"):
    model = network(dtype, dropout)
    history = model.fit(*data(), **dict(FIT, optimizer=optimizer))
    return model.state_arrays(), history.history


# float32 with SGD: the bias of a Dense before BatchNorm has a true gradient of 0, so its float32 gradient
# is rounding noise, which Adam divides by its own size into full steps (in one process as much as in two)
@pytest.mark.parametrize("ranks, dtype, optimizer, rtol",
                         [(2, "float64", "adam", 1e-10), (3, "float64", "adam", 1e-10), (2, "float32", "sgd", 1e-4)])
def test_ranks_train_the_weights_of_one_process(tmp_path, ranks, dtype, optimizer, rtol):
    expected, history = single(dtype, optimizer=optimizer)
    got = mpi_run(ranks, dtype, tmp_path, optimizer=optimizer)
    for name, value in expected.items():  # the weights, and BatchNorm's running statistics
        np.testing.assert_allclose(got[name], value, rtol=rtol, atol=rtol * np.abs(value).max(), err_msg=name)
    np.testing.assert_allclose(got["history.loss"], history["loss"], rtol=rtol)
    np.testing.assert_allclose(got["history.accuracy"], history["accuracy"], rtol=rtol)


def test_with_dropout_every_rank_draws_its_own_masks(tmp_path):
    expected, _ = single("float64", dropout=0.2)
    got = mpi_run(2, "float64", tmp_path, dropout=0.2)
    assert np.all(np.isfinite(got["params"]))
    assert not np.allclose(got["params"], expected["params"], rtol=1e-6)


if __name__ == "__main__":  # on every rank, started by mpi_run
    sys.path.insert(0, str(ROOT / "src"))
    from chainrule import distributed

    dtype, dropout, optimizer, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    model = network(dtype, dropout)
    history = distributed.fit(model, *data(), **dict(FIT, optimizer=optimizer))
    if distributed.DataParallel().is_root:
        np.savez(out, **model.state_arrays(), **{f"history.{k}": v for k, v in history.history.items()})
