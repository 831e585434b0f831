"""Adam's stored state is the textbook moments, scaled: m = (1 - b1) m_scaled and
v = (1 - b2) v_scaled are torch.optim.Adam's ``exp_avg`` and ``exp_avg_sq`` after a few steps."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402
from torch import nn  # noqa: E402

import chainrule as cr  # noqa: E402

RTOL = 1e-12

# name: (chainrule optimizer, torch optimizer)
ADAMS = {
    "adam": (lambda: cr.optim.Adam(lr=0.05, betas=(0.8, 0.95)),
             lambda params: torch.optim.Adam(params, lr=0.05, betas=(0.8, 0.95))),
    "adam-l2": (lambda: cr.optim.Adam(lr=0.05, weight_decay=0.1),
                lambda params: torch.optim.Adam(params, lr=0.05, weight_decay=0.1)),
    "adamw": (lambda: cr.optim.AdamW(lr=0.05, weight_decay=0.1),
              lambda params: torch.optim.AdamW(params, lr=0.05, weight_decay=0.1)),
}


def model_and_copy():
    """A float64 Dense(5, 7), Tanh, Dense(7, 3) and the same network in torch."""
    model = cr.Sequential([cr.Dense(5, 7, bias_init="normal"), cr.Tanh(), cr.Dense(7, 3, bias_init="normal")],
                          rng=0, dtype="float64")
    tmodel = nn.Sequential(nn.Linear(5, 7, dtype=torch.float64), nn.Tanh(), nn.Linear(7, 3, dtype=torch.float64))
    with torch.no_grad():
        for layer, module in zip(model.layers[::2], tmodel[::2]):
            module.weight.copy_(torch.from_numpy(layer.W.T.copy()))
            module.bias.copy_(torch.from_numpy(layer.b.copy()))
    return model, tmodel


def like(flat, model, param):
    """The part of a flat state array that belongs to ``param`` (a view into model.params_),
    laid out as param is."""
    offset = (param.__array_interface__["data"][0] - model.params_.__array_interface__["data"][0]) // param.itemsize
    return np.lib.stride_tricks.as_strided(flat[offset:], shape=param.shape, strides=param.strides)


@pytest.mark.parametrize("name", ADAMS)
def test_textbook_moments_from_the_stored_state_match_torch(name):
    make, make_torch = ADAMS[name]
    model, tmodel = model_and_copy()
    opt, topt = make(), make_torch(tmodel.parameters())
    loss, rng = cr.losses.CrossEntropy(), np.random.default_rng(3)
    for _ in range(4):
        X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
        loss(model.forward(X, training=True), y)
        model.backward(loss.backward(), need_input_grad=False)
        opt.step(model)
        topt.zero_grad()
        TF.cross_entropy(tmodel(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        topt.step()

    b1, b2 = opt.betas
    m = (1 - b1) * opt.state["m_scaled"]  # the identity the state is kept under
    v = (1 - b2) * opt.state["v_scaled"]
    for layer, module in zip(model.layers[::2], tmodel[::2]):
        for mine, theirs in ((layer.W, module.weight), (layer.b, module.bias)):
            state = topt.state[theirs]
            T = (lambda a: a.T) if mine.ndim == 2 else (lambda a: a)  # torch's weight is (n_out, n_in)
            assert int(state["step"]) == opt.iterations == 4
            np.testing.assert_allclose(like(m, model, mine), T(state["exp_avg"].numpy()), rtol=RTOL, atol=0)
            np.testing.assert_allclose(like(v, model, mine), T(state["exp_avg_sq"].numpy()), rtol=RTOL, atol=0)
            np.testing.assert_allclose(mine, T(theirs.detach().numpy()), rtol=1e-10)
    assert not np.allclose(opt.state["m_scaled"], m)  # the stored arrays are not m and v themselves
