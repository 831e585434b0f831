"""The fused Adam update (chainrule.fused, the `fast` extra, installed by the test extra):
exactly the numbers of the NumPy one."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import fused, optim_executor

OPTIMIZERS = {
    "adam": lambda f: cr.optim.Adam(lr=1e-2, fused=f),
    "adam-l2": lambda f: cr.optim.Adam(lr=1e-2, weight_decay=1e-3, fused=f),
    "adamw": lambda f: cr.optim.AdamW(lr=1e-2, fused=f),
    "adamw-no-decay": lambda f: cr.optim.AdamW(lr=1e-2, weight_decay=0.0, fused=f),
    "adam-clipped": lambda f: cr.optim.Adam(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, clipnorm=0.5, fused=f),
}


def train(make, fused_flag, dtype, steps=6):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 30)), rng.integers(0, 5, 32)
    model = cr.Sequential([cr.Dense(30, 20), cr.ReLU(), cr.Dense(20, 5)], rng=1, dtype=dtype)
    opt = make(fused_flag)
    loss = cr.losses.CrossEntropy()
    for _ in range(steps):
        loss.forward(model.forward(X, training=True), y)
        model.backward(loss.backward())
        opt.step(model)
    return model.params_, opt.state


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fused_adam_is_bit_identical_to_numpy(name, dtype):
    p_numpy, s_numpy = train(OPTIMIZERS[name], False, dtype)
    p_fused, s_fused = train(OPTIMIZERS[name], True, dtype)
    assert p_fused.dtype == np.dtype(dtype)
    assert np.array_equal(p_numpy, p_fused)
    assert s_numpy.keys() == s_fused.keys() == {"m_scaled", "v_scaled"}
    assert all(np.array_equal(s_numpy[k], s_fused[k]) for k in s_numpy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_at_extreme_gradients(dtype):
    """Huge, tiny, zero, infinite and NaN gradients: the same numbers (NaN where NaN) both ways."""
    big = np.finfo(dtype).max
    g = np.array([0.0, 1e-30, -1e-30, 1.0, -3.0, big, -big, np.inf, -np.inf, np.nan] * 3, dtype)

    class Flat:
        params_ = None
        grads_ = None

    results = []
    for flag in (False, True):
        model = Flat()
        model.params_ = np.linspace(-2, 2, g.size).astype(dtype)
        model.grads_ = g.copy()
        opt = cr.optim.AdamW(lr=0.1, fused=flag)
        with np.errstate(all="ignore"):
            for _ in range(3):
                opt.step(model)
        results.append((model.params_, opt.state["m_scaled"], opt.state["v_scaled"]))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)  # NaN matches NaN
    assert np.isnan(results[1][0][7:10]).all() and np.isfinite(results[1][0][:5]).all()


def test_automatic_choice_uses_the_fused_pass_from_the_threshold_on(monkeypatch):
    calls = []
    run = optim_executor.run_fused_adam
    monkeypatch.setattr(optim_executor, "run_fused_adam", lambda kernel, p, *args: (calls.append(p.size),
                                                                                      run(kernel, p, *args)))
    for size_limit, expected in ((10**9, []), (10, [725])):
        calls.clear()
        monkeypatch.setattr(optim_executor, "FUSED_MIN_SIZE", size_limit)
        train(lambda f: cr.optim.Adam(fused=f), None, "float32", steps=1)
        assert calls == expected  # 30*20+20 + 20*5+5 = 725 parameters
    calls.clear()
    train(lambda f: cr.optim.Adam(fused=f), False, "float32", steps=1)
    assert calls == []


def test_fused_without_numba_is_a_clear_error_and_automatic_falls_back(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    monkeypatch.setattr(fused, "_kernels", {})
    with pytest.raises(ImportError, match=r'need numba: pip install "chainrule\[fast\]"'):
        train(OPTIMIZERS["adam"], True, "float32", steps=1)
    monkeypatch.setattr(optim_executor, "FUSED_MIN_SIZE", 10)
    p_auto, _ = train(OPTIMIZERS["adam"], None, "float32")
    p_numpy, _ = train(OPTIMIZERS["adam"], False, "float32")
    assert np.array_equal(p_auto, p_numpy)


def test_fused_flag_is_checked_and_kept_in_the_config():
    with pytest.raises(TypeError, match="Adam: fused must be True or False; received 'yes'"):
        cr.optim.Adam(fused="yes")
    with pytest.raises(TypeError, match="AdamW: fused must be True or False; received 1"):
        cr.optim.AdamW(fused=1)
    assert cr.optim.AdamW(fused=False).get_config()["fused"] is False
    assert cr.optim.Adam().get_config()["fused"] is None



def test_the_fused_pass_changes_no_setting_of_numba():
    """The kernel runs serially in the executor's threads: numba's threading layer is neither
    chosen nor started, and no module global of chainrule.fused is rewritten (a fresh process)."""
    pytest.importorskip("numba")
    code = """if True:
        import numba, numpy as np
        import chainrule as cr
        from chainrule import fused, optim_executor
        layer, names = numba.config.THREADING_LAYER, set(vars(fused))
        optim_executor.PARALLEL_MIN_SIZE, optim_executor.PART_SIZE = 100, 64
        optim_executor.usable_cpus = lambda: 2
        model = cr.Sequential([cr.Dense(30, 20)], rng=0)
        model.grads_[:] = 0.5
        opt = cr.optim.Adam(fused=True)
        opt.step(model)
        assert fused._kernels and optim_executor._workers is not None  # in two threads
        assert numba.config.THREADING_LAYER == layer and set(vars(fused)) == names, (layer, names)
        try:
            numba.threading_layer()
        except ValueError as err:
            print(err)
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(cr.__file__).parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}
    env.pop("NUMBA_THREADING_LAYER", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Threading layer is not initialized."
