"""The optimizer executor: large models update on slices in parallel threads, and the numbers
do not change; the pool starts when first needed, is sized from the CPUs this process may use
and stops at exit."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim_executor


@pytest.mark.parametrize("make", [lambda: cr.optim.Adam(lr=1e-2, weight_decay=1e-3), lambda: cr.optim.AdamW(),
                                  lambda: cr.optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
                                  lambda: cr.optim.SGD(lr=0.1, weight_decay=1e-2),
                                  lambda: cr.optim.RMSProp(momentum=0.5), lambda: cr.optim.Adagrad()])
def test_parallel_update_is_bit_identical(monkeypatch, make):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 30)), rng.integers(0, 5, 16)
    results = []
    for threshold in (10**9, 64):  # one slice; then several, in threads
        monkeypatch.setattr(optim_executor, "PARALLEL_MIN_SIZE", threshold)
        monkeypatch.setattr(optim_executor, "PART_SIZE", 100)
        monkeypatch.setattr(optim_executor, "usable_cpus", lambda: 3)
        model = cr.Sequential([cr.Dense(30, 20), cr.ReLU(), cr.Dense(20, 5)], rng=1)
        assert (len(optim_executor.parts(model.num_params)) > 1) == (threshold == 64)
        opt = make()
        loss = cr.losses.CrossEntropy()
        for _ in range(4):
            loss.forward(model.forward(X, training=True), y)
            model.backward(loss.backward())
            opt.step(model)
        results.append((model.params_.copy(), {k: v.copy() for k, v in opt.state.items()}))
    (p1, s1), (p2, s2) = results
    assert np.array_equal(p1, p2)
    assert s1.keys() == s2.keys() and all(np.array_equal(s1[k], s2[k]) for k in s1)


def test_slices_cover_every_element_once(monkeypatch):
    monkeypatch.setattr(optim_executor, "PARALLEL_MIN_SIZE", 10)
    monkeypatch.setattr(optim_executor, "PART_SIZE", 7)
    monkeypatch.setattr(optim_executor, "usable_cpus", lambda: 2)
    p = np.zeros(100)
    optim_executor.run(lambda p, g, state, scratch: p.__iadd__(1), p, p.copy(), {}, optim_executor.Scratch())
    assert (p == 1).all()
    assert [s.stop - s.start for s in optim_executor.parts(100)] == [7] * 14 + [2]
    monkeypatch.setattr(optim_executor, "usable_cpus", lambda: 1)
    assert optim_executor.parts(100) == [slice(0, 100)]  # one CPU: no threads


def test_threads_follow_the_cpus_this_process_may_use(monkeypatch):
    if hasattr(os, "sched_getaffinity"):
        assert optim_executor.usable_cpus() == len(os.sched_getaffinity(0))
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
        monkeypatch.setattr(os, "cpu_count", lambda: 64)
        assert optim_executor.usable_cpus() == 1 and optim_executor.threads() == 1
    monkeypatch.setattr(optim_executor, "usable_cpus", lambda: 64)
    assert optim_executor.threads() == optim_executor.MAX_THREADS


def test_the_pool_starts_when_needed_and_stops_at_exit():
    """In a fresh process: no pool after a small model's step; one after a large model's, with
    usable_cpus() - 1 workers (the calling thread is the other); and the process exits cleanly."""
    code = """if True:
        import atexit, threading
        import numpy as np
        import chainrule as cr
        from chainrule import optim_executor as ex
        ex.usable_cpus = lambda: 3
        at_exit, register = [], atexit.register
        atexit.register = lambda fn: (at_exit.append(fn), register(fn))
        small = cr.Sequential([cr.Dense(4, 2)], rng=0)
        cr.optim.SGD(momentum=0.9).step(small)
        assert ex._workers is None
        ex.PARALLEL_MIN_SIZE, ex.PART_SIZE = 100, 10
        large = cr.Sequential([cr.Dense(30, 20)], rng=0)
        cr.optim.SGD(momentum=0.9).step(large)
        assert ex._workers is not None and ex._workers._max_workers == 2 and at_exit == [ex._shutdown]
        workers = [t for t in threading.enumerate() if t.name.startswith("chainrule-optim")]
        assert 1 <= len(workers) <= 2, workers
        ex._shutdown()  # what atexit runs
        assert ex._workers is None and not any(t.is_alive() for t in workers)
        cr.optim.SGD(momentum=0.9).step(large)  # a step after that starts a new pool
        assert ex._workers is not None
        print("ok")
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(cr.__file__).parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok" and not done.stderr
