"""The sharded update (a Reduce_scatter gives each rank the summed gradient of its slice of the
parameters, the rank updates that slice, one Allgather joins the slices) gives the weights,
optimizer state and last gradient of the whole update (an Allreduce, every rank updating all):
bit for bit on 2 ranks, to rounding on 3 (where MPI may add the ranks' terms in another order).

The test starts ``mpirun`` on this file; run as a script, every rank trains twice and rank 0
saves both results."""

import os
import subprocess
import sys

import numpy as np
import pytest

from test_distributed import ROOT, data, network


def mpi_run(ranks, tmp_path, optimizer):
    from chainrule.distributed import mpirun

    out = tmp_path / "weights.npz"
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    command = [mpirun(), "--oversubscribe", "-n", str(ranks), sys.executable, "-m", "mpi4py", __file__, optimizer, str(out)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(np.load(out))


@pytest.mark.parametrize("ranks, optimizer, rtol", [(2, "adam", 0), (2, "sgd_clip", 0), (3, "sgd_clip", 1e-10)])
def test_the_sharded_update_is_the_whole_update(tmp_path, ranks, optimizer, rtol):
    # 3 ranks with SGD: Adam turns the rounding noise of a bias before BatchNorm (true gradient 0) into steps
    got = mpi_run(ranks, tmp_path, optimizer)  # 3 ranks: slices of unequal length
    names = [name[len("whole."):] for name in got if name.startswith("whole.")]
    assert "params" in names and "grads" in names and any(name.startswith("optimizer.") for name in names)
    for name in names:
        value = got["whole." + name]
        np.testing.assert_allclose(got["sharded." + name], value, rtol=rtol, atol=rtol * np.abs(value).max(),
                                   err_msg=name)


def optimizer_for(name):
    from chainrule import optim

    return optim.Adam(lr=0.01) if name == "adam" else optim.SGD(lr=0.1, momentum=0.9, clipnorm=0.5)


if __name__ == "__main__":  # on every rank, started by mpi_run
    sys.path.insert(0, str(ROOT / "src"))
    from chainrule.distributed import DataParallel

    optimizer_name, out = sys.argv[1], sys.argv[2]
    saved = {}
    for key, shard in (("whole", False), ("sharded", True)):
        model, optimizer = network("float64"), optimizer_for(optimizer_name)
        strategy = DataParallel(shard_update=shard)
        model.fit(*data(), loss="cross_entropy", optimizer=optimizer, epochs=2, batch_size=64, verbose=0,
                  strategy=strategy)
        saved.update({f"{key}.{k}": v for k, v in model.state_arrays().items()})
        saved.update({f"{key}.optimizer.{k}": v for k, v in optimizer.state.items()})
        saved[f"{key}.grads"] = model.grads_  # the last step's gradient, whole on rank 0 (for the diagnostics)
    if strategy.is_root:
        np.savez(out, **saved)
