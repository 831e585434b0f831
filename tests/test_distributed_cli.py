"""chainrule train --distributed under mpirun: rank 0 alone prints and writes the run, which equals
a single process's; --resume continues a run on another number of ranks."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule.distributed import mpirun

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ["--config", "recipe.toml", "--no-plots", "--quiet"]
BATCHNORM = '[data]\ndataset = "spirals"\n[model]\nhidden = [32, 32]\nbatchnorm = true\n[train]\ndtype = "float64"\n'
# float64: in float32 the bias of a Dense before BatchNorm (true gradient 0) follows Adam's steps on rounding noise


def chainrule(*args, ranks=None, cwd):
    (cwd / "recipe.toml").write_text(BATCHNORM)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "chainrule", *args]
    if ranks:
        command = [mpirun(), "--oversubscribe", "-n", str(ranks), sys.executable, "-m", "mpi4py", *command[1:],
                   "--distributed"]
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def weights(run_dir):
    return cr.load(run_dir / "model.chainrule").params_


def assert_same(got, expected):  # relative to the largest weight: a bias before BatchNorm only ever moves by noise
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


def test_train_distributed_writes_one_run_equal_to_a_single_process(tmp_path):
    chainrule("train", *RECIPE, "--epochs", "3", "--out", "one", cwd=tmp_path)
    result = chainrule("train", *RECIPE, "--epochs", "3", "--out", "two", ranks=2, cwd=tmp_path)
    assert result.stdout.count("spirals: test") == 1  # rank 0 alone prints
    assert_same(weights(tmp_path / "two"), weights(tmp_path / "one"))
    assert '"ranks": 2' in (tmp_path / "two" / "run.json").read_text()


def test_resume_on_another_number_of_ranks(tmp_path):
    chainrule("train", *RECIPE, "--epochs", "4", "--out", "whole", cwd=tmp_path)
    chainrule("train", *RECIPE, "--epochs", "2", "--out", "half", ranks=2, cwd=tmp_path)
    config = tmp_path / "half" / "config.toml"  # as if the 2-rank run had been stopped after 2 of 4 epochs
    config.write_text(config.read_text().replace("\nepochs = 2\n", "\nepochs = 4\n"))
    (tmp_path / "half" / "run.json").unlink()  # a finished run's results stay; a stopped one has none yet
    chainrule("train", "--resume", "half", "--no-plots", "--quiet", cwd=tmp_path)  # on 1 process
    assert_same(weights(tmp_path / "half"), weights(tmp_path / "whole"))
