"""The speed benchmark (chainrule.benchmark) on tiny sizes and synthetic data: structure, not speed."""

from __future__ import annotations

import io
import json
import math
import sys

import numpy as np
import pytest

from chainrule import benchmark
from chainrule.benchmark.rounds import speed_entries

TRAIN_CONFIGS = ("headline", "batch32", "batch512", "wide")


@pytest.fixture
def no_mnist(monkeypatch, tmp_path):
    """No MNIST anywhere: the benchmark must fall back to synthetic data."""
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "empty-cache"))


@pytest.fixture
def results(no_mnist):
    out = io.StringIO()
    res = benchmark.run_benchmark(quick=True, stream=out)
    res["_printed"] = out.getvalue()
    return res


def _numbers(tree, path=""):
    """Every number in a nested dict/list, with where it is."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _numbers(value, f"{path}.{key}")
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from _numbers(value, f"{path}[{i}]")
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        yield path, tree


def _installed(name):
    try:
        __import__(name)
        return True
    except ImportError:
        return False


def test_quick_benchmark_structure_and_numbers(results):
    printed = results.pop("_printed")
    json.dumps(results)  # the script writes it as JSON
    assert results["data"]["synthetic"] is True
    assert "synthetic" in printed
    assert results["gemm_gflops"] > 0
    assert set(results["configs"]) == {*TRAIN_CONFIGS, "inference", "memory"}
    expected_adam = "one fused pass" if _installed("numba") else "NumPy passes"
    assert results["machine"]["chainrule_adam"].startswith(expected_adam)
    assert f"chainrule's Adam: {expected_adam}" in printed

    expected = {"chainrule": "ok", "pytorch": "ok" if _installed("torch") else "missing",
                "sklearn": "ok" if _installed("sklearn") else "missing"}
    for name, config in results["configs"].items():
        assert set(config["systems"]) == set(benchmark.SYSTEMS), name
        for system, entry in config["systems"].items():
            assert entry["status"] == expected[system], (name, system, entry)
        assert name in printed

    for name in (*TRAIN_CONFIGS, "inference"):
        config = results["configs"][name]
        ours = config["systems"]["chainrule"]
        assert ours["chainrule_ratio"] == pytest.approx(1.0)
        for entry in config["systems"].values():
            if entry["status"] == "ok":
                assert entry["samples_per_s"] >= entry["median_samples_per_s"] > 0
                if name != "inference":
                    assert 0 < entry["fraction_of_bound"]
        if name != "inference":
            assert config["lower_bound_seconds"] > 0
            assert config["parameters"] == benchmark.count_parameters(config["sizes"])
            assert len(config["gemm_gflops_rounds"]) == results["settings"]["repeats"]

    memory = results["configs"]["memory"]
    assert memory["budget"]["total"] == sum(v for k, v in memory["budget"].items() if k != "total")
    for entry in memory["systems"].values():
        if entry["status"] == "ok":
            assert entry["parameters"] == memory["parameters"]
            assert entry["peak_maxrss_bytes"] >= entry["baseline_maxrss_bytes"] > 0
            assert entry["extra_peak_bytes"] >= 0  # a max RSS that does not grow is a valid 0

    # every number is finite, and positive except memory increases, which may be 0
    for path, value in _numbers({"gemm": results["gemm_gflops"], "configs": results["configs"]}):
        assert math.isfinite(value), path
        if not path.endswith(("extra_peak_bytes", "file_backed_increase_bytes")):
            assert value > 0, path


def test_missing_peer_is_reported_as_missing(no_mnist, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.neural_network", None)
    assert benchmark.peer_status("sklearn") == "missing"
    with pytest.raises(benchmark.PeerMissing):
        benchmark.train_throughput("sklearn", (784, 8, 10), 32, np.zeros((64, 784), np.float32),
                                   np.arange(64) % 10)
    out = io.StringIO()
    res = benchmark.run_benchmark(quick=True, include=("chainrule", "sklearn"), stream=out)
    assert res["peer_status"]["sklearn"] == "missing"
    for name, config in res["configs"].items():
        assert config["systems"]["sklearn"]["status"] == "missing", name
        assert "samples_per_s" not in config["systems"]["sklearn"]
        assert config["systems"]["chainrule"]["status"] == "ok", name
    assert "sklearn: missing" in out.getvalue()


def test_systems_train_the_same_architecture():
    sizes = (784, 24, 12, 10)
    rng = np.random.default_rng(0)
    X = rng.random((200, 784), dtype=np.float32)
    y = np.arange(200) % 10
    systems = [s for s in benchmark.SYSTEMS if benchmark.peer_status(s) == "ok"]
    infos = {}
    for system in systems:
        infos[system] = {}
        speed = benchmark.train_throughput(system, sizes, 32, X, y, epochs=1, info=infos[system])
        assert speed > 0 and math.isfinite(speed)
    expected = benchmark.count_parameters(sizes)
    assert expected == 784 * 24 + 24 + 24 * 12 + 12 + 12 * 10 + 10
    for system, info in infos.items():
        assert info["parameters"] == expected, system
        assert info["layer_shapes"] == [[784, 24], [24, 12], [12, 10]], system
        assert info["samples"] == 200 and info["batch_size"] == 32
    if "pytorch" in infos:
        assert infos["pytorch"]["parameters"] == infos["chainrule"]["parameters"]


def test_memory_budget_and_time_to_accuracy_mechanics():
    budget = benchmark.memory_budget((784, 256, 128, 10), 128, 20000)
    assert budget["data"] == 20000 * 785 * 4
    assert budget["parameters_x3"] == 3 * 235146 * 4
    assert budget["batch_buffers"] == 128 * (784 + 256 + 128 + 10) * 4 * benchmark.BATCH_BUFFER_FACTOR
    rng = np.random.default_rng(1)
    data = {"X": rng.random((256, 784), dtype=np.float32), "y": np.arange(256) % 10,
            "X_test": rng.random((50, 784), dtype=np.float32), "y_test": np.arange(50) % 10}
    for system in [s for s in ("chainrule", "pytorch") if benchmark.peer_status(s) == "ok"]:
        info = {}
        reached = benchmark.time_to_accuracy(system, (784, 8, 10), target=0.0, max_epochs=2, data=data, info=info)
        assert reached is not None and reached[1] == 1 and reached[0] > 0, system
        assert len(info["history"]) == 1, system  # training stops at the epoch that reaches the target
        info = {}
        assert benchmark.time_to_accuracy(system, (784, 8, 10), target=1.01, max_epochs=2, data=data,
                                          info=info) is None, system
        assert [h["epoch"] for h in info["history"]] == [1, 2], system
    with pytest.raises(ValueError):
        benchmark.time_to_accuracy("sklearn", (784, 8, 10), data=data)


def test_speed_entries_pair_runs_by_round_and_set_each_against_its_rounds_peak():
    """Round r of every system shares the machine's load: ratios are taken round by round, and
    each run's share of the FLOP bound uses the GEMM speed measured at the start of its round."""
    runs = {"chainrule": [300.0, 100.0, 200.0], "pytorch": [100.0, 80.0, 100.0], "sklearn": [1.0]}
    errors = {"sklearn": ("missing", "not installed")}
    flops, peaks = 6e6, [60.0, 20.0, 30.0]  # FLOPs per sample; GFLOP/s per round
    entries = speed_entries(list(runs), runs, errors, flops, peaks, samples=1000)
    ours, torch_entry = entries["chainrule"], entries["pytorch"]
    assert entries["sklearn"] == {"status": "missing", "reason": "not installed"}
    assert (ours["samples_per_s"], ours["median_samples_per_s"], ours["seconds"]) == (300.0, 200.0, 1000 / 300)
    assert ours["fraction_of_bound_runs"] == pytest.approx([0.03, 0.03, 0.04])  # 300 * 6e6 / 60e9, ...
    assert (ours["fraction_of_bound"], ours["median_fraction_of_bound"]) == (pytest.approx(0.04), pytest.approx(0.03))
    assert torch_entry["chainrule_ratio"] == pytest.approx(3.0)  # best over best
    assert torch_entry["paired_ratio"] == pytest.approx(2.0)  # median of 3, 1.25, 2
    assert torch_entry["paired_ratio_range"] == pytest.approx([1.25, 3.0])
    assert ours["paired_ratio"] == pytest.approx(1.0)


@pytest.mark.parametrize("name, value", [("repeats", 0), ("repeats", 2.5), ("samples", -1), ("epochs", True)])
def test_benchmark_refuses_bad_sizes_before_measuring(name, value):
    out = io.StringIO()
    with pytest.raises(ValueError, match=f"{name} must be a whole number >= 1; received {value!r}"):
        benchmark.run_benchmark(quick=True, stream=out, **{name: value})
    assert out.getvalue() == ""  # nothing measured, nothing printed
