"""Out of core: training from a packed dataset 4x larger than the memory budget stays under the
budget plus the model's own memory (peak resident memory, measured in a fresh process)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import pack

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20

TRAIN = """
import json, sys
import numpy as np
import chainrule as cr
from chainrule.data import PackedDataset
from chainrule.layers import Dense, ReLU

def status(key):  # kB in /proc/self/status
    return int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith(key))) * 1024

path, budget = sys.argv[1], None if sys.argv[2] == "none" else float(sys.argv[2])
model = cr.Sequential([Dense(256, 32), ReLU(), Dense(32, 10)], rng=0)
data = PackedDataset(path, memory_budget_mib=budget, rng=0)
model.fit(np.zeros((8, 256), np.float32), np.arange(8) % 10, loss="cross_entropy", epochs=1, verbose=0)  # warm up
baseline = status("VmRSS:")  # the interpreter, NumPy, chainrule, the model: before the data
data.fit(model, loss="cross_entropy", epochs=2, batch_size=256, verbose=0)
print(json.dumps({"baseline": baseline, "peak": status("VmHWM:"), "window": data.window_bytes,
                  "params": int(model.params_.nbytes), "rows": len(data)}))
"""


def peak_growth(path, budget):
    result = subprocess.run([sys.executable, "-c", TRAIN, str(path), str(budget)], capture_output=True, text=True,
                            timeout=300, env={"PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
                                              "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc (Linux)")
def test_a_dataset_4x_the_budget_trains_within_the_budget_plus_the_model(tmp_path):
    rows, budget = 65536, 16  # X: 64 MiB of float32, 4x the budget
    X = np.random.default_rng(0).normal(size=(rows, 256)).astype(np.float32)
    pack((X, np.arange(rows) % 10), tmp_path / "big", shard_rows=rows // 2)
    del X
    run = peak_growth(tmp_path / "big", budget)
    assert run["window"] <= budget * MIB
    # the model's own: weights, gradients and Adam's two moments; per epoch A[L] (float32, 10 per row)
    # and y (int64) of every row, in a list of batches and then concatenated
    model = 4 * run["params"] + 2 * run["rows"] * (10 * 4 + 8)
    slack = 8 * MIB  # one batch's activations, NumPy's temporaries, the allocator's rounding
    growth = run["peak"] - run["baseline"]
    assert growth < budget * MIB + model + slack, f"peak grew by {growth / MIB:.1f} MiB"
