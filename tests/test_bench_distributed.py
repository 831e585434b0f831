"""chainrule bench --distributed: the model on paper, the round-by-round summary, and one real run
under mpirun (tiny: --quick)."""

import json
import math
import os
from pathlib import Path

import pytest

from chainrule.benchmark import distributed as bench
from chainrule.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def test_paper_model_is_the_ring_allreduce_formula():
    """t_a = 2 (N - 1)/N bytes/bandwidth + 2 (N - 1) latency; efficiency t_c / (t_c + t_a) at 128 rows
    per node; the smallest global batch at 90%: B = 9 N t_a / c."""
    c, nbytes = 20e-6, 1_000_000  # 20 us per sample, 1 MB of gradients
    rows = bench.paper_model(c, nbytes, nodes=(8,), networks=(("net", 1e9, 1e-6),))
    t_a = 2 * 7 / 8 * nbytes / 1e9 + 2 * 7 * 1e-6
    assert rows[0]["allreduce_ms"] == pytest.approx(t_a * 1e3, rel=1e-12)
    assert rows[0]["efficiency_at_128_per_node"] == pytest.approx(c * 128 / (c * 128 + t_a), rel=1e-12)
    assert rows[0]["global_batch_for_90pct"] == math.ceil(9 * 8 * t_a / c)
    B = rows[0]["global_batch_for_90pct"]
    per_node = c * B / 8
    assert per_node / (per_node + t_a) >= 0.9 > c * (B - 8) / 8 / (c * (B - 8) / 8 + t_a)  # the smallest such B


def run(ranks, samples_per_second, step_ms=1.0):
    return {"ranks": ranks, "batch": 128, "oversubscribed": False, "samples_per_second": samples_per_second,
            "step_ms": step_ms, "allreduce_ms": 0.1, "allreduce_share": 0.1, "gradient_bytes": 8}


def test_summary_takes_the_speed_up_round_by_round():
    """Two rounds at different loads: the speed-ups 1.5x and 2.0x give a median of 1.75x, where the
    ratio of the median speeds (125 / 75) would say 1.67x."""
    rounds = [[run(1, 100.0), run(2, 150.0)], [run(1, 50.0), run(2, 100.0)]]
    one, two = bench.summarise(rounds)
    assert one["speedup"] == 1.0 and one["speedup_range"] == (1.0, 1.0)
    assert two["speedup"] == pytest.approx(1.75) and two["speedup_range"] == (1.5, 2.0)
    assert two["samples_per_second"] == 125.0 and two["ranks"] == 2


def test_bench_distributed_runs_under_mpirun(tmp_path, capsys, monkeypatch):
    """One real round (--quick) of 1, 2 and 4 ranks, weak and strong, written as JSON."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "scaling.json"
    assert main(["bench", "--distributed", "--quick", "--batch-size", "32", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "32 rows per rank (weak scaling)" in printed and "global batch 32 (strong scaling)" in printed
    assert "model on paper" in printed
    result = json.loads(out.read_text())
    for scaling, batches in (("weak", [32, 64, 128]), ("strong", [32, 32, 32])):
        measured = result[scaling]["measured"]
        assert [row["ranks"] for row in measured] == [1, 2, 4]
        assert [row["batch"] for row in measured] == batches
        assert all(row["samples_per_second"] > 0 for row in measured)
        assert measured[0]["speedup"] == 1.0
        assert measured[2]["oversubscribed"] == ((os.cpu_count() or 1) < 4)
        assert len(result[scaling]["rounds"]) == 1


def test_one_scaling_only(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = tmp_path / "strong.json"
    assert main(["bench", "--distributed", "--quick", "--scaling", "strong", "--json", str(out)]) == 0
    assert "weak scaling" not in capsys.readouterr().out
    assert set(json.loads(out.read_text())) == {"strong", "paper_model"}


def test_batch_size_belongs_to_distributed(capsys):
    assert main(["bench", "--batch-size", "64"]) != 0
    assert "--batch-size and --scaling are for --distributed" in capsys.readouterr().err
    assert main(["bench", "--scaling", "weak"]) != 0


def test_batch_size_is_checked(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--distributed", "--batch-size", "2"])
    assert "--batch-size: must be an integer >= 4; received 2" in capsys.readouterr().err
