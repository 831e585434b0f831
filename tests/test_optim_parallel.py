"""Large models update their parameters on slices in parallel threads: the numbers must not change."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim


@pytest.mark.parametrize("make", [lambda: cr.optim.Adam(lr=1e-2, weight_decay=1e-3), lambda: cr.optim.AdamW(),
                                  lambda: cr.optim.SGD(lr=0.1, momentum=0.9, nesterov=True),
                                  lambda: cr.optim.RMSProp(momentum=0.5), lambda: cr.optim.Adagrad()])
def test_parallel_update_is_bit_identical(monkeypatch, make):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 30)), rng.integers(0, 5, 16)
    results = []
    for threshold in (10**9, 64):  # one slice; then several, in threads
        monkeypatch.setattr(optim, "PARALLEL_MIN_SIZE", threshold)
        monkeypatch.setattr(optim, "PART_SIZE", 100)
        monkeypatch.setattr(optim.os, "cpu_count", lambda: 3)
        model = cr.Sequential([cr.Dense(30, 20), cr.ReLU(), cr.Dense(20, 5)], rng=1)
        assert (len(optim._parts(model.num_params)) > 1) == (threshold == 64)
        opt = make()
        loss = cr.losses.CrossEntropy()
        for _ in range(4):
            loss.forward(model.forward(X, training=True), y)
            model.backward(loss.backward())
            opt.step(model)
        results.append((model.params_.copy(), {k: v.copy() for k, v in opt.state.items()}))
    (p1, s1), (p2, s2) = results
    assert np.array_equal(p1, p2)
    assert all(np.array_equal(s1[k], s2[k]) for k in s1)
