"""chainrule against PyTorch as the oracle, everything in float64.

Same weights and the same batch must give the same outputs, the same input and
parameter gradients (torch autograd for a random upstream gradient), the same
loss values and gradients, and the same parameters after a few optimizer
steps, to 1e-9 relative.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402
from torch import nn  # noqa: E402

import chainrule as cr  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12


def close(actual, expected, rtol=RTOL, atol=ATOL):
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def tt(a, grad=False):
    """A float64 torch tensor of a NumPy array (a leaf that records its gradient if grad)."""
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


# --- the one helper that copies chainrule into torch -------------------------


def to_torch(layer):
    """The torch module computing what ``layer`` computes, with a copy of its weights and state."""
    if isinstance(layer, cr.Sequential):
        return nn.Sequential(*map(to_torch, layer.layers))
    if isinstance(layer, cr.Dense):
        lin = nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(tt(layer.W.T))  # chainrule's W is (n_in, n_out); torch's is (n_out, n_in)
            lin.bias.copy_(tt(layer.b))
        return lin
    if isinstance(layer, cr.BatchNorm):
        bn = nn.BatchNorm1d(layer.features, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64)
        with torch.no_grad():
            bn.weight.copy_(tt(layer.gamma))
            bn.bias.copy_(tt(layer.beta))
            bn.running_mean.copy_(tt(layer.running_mean))
            bn.running_var.copy_(tt(layer.running_var))
        return bn
    simple = {
        cr.Identity: lambda l: nn.Identity(),
        cr.Sigmoid: lambda l: nn.Sigmoid(),
        cr.Tanh: lambda l: nn.Tanh(),
        cr.ReLU: lambda l: nn.ReLU(),
        cr.LeakyReLU: lambda l: nn.LeakyReLU(l.negative_slope),
        cr.ELU: lambda l: nn.ELU(l.alpha),
        cr.GELU: lambda l: nn.GELU(approximate=l.approximate),
        cr.Softmax: lambda l: nn.Softmax(dim=-1),
        cr.Flatten: lambda l: nn.Flatten(),
    }
    return simple[type(layer)](layer)


def torch_grads(layer, module):
    """Pairs (chainrule gradient, torch gradient in chainrule's layout) of every parameter."""
    if isinstance(layer, cr.Dense):
        return [(layer.dW, module.weight.grad.T), (layer.db, module.bias.grad)]
    if isinstance(layer, cr.BatchNorm):
        return [(layer.dgamma, module.weight.grad), (layer.dbeta, module.bias.grad)]
    return []


def torch_params(model, tmodel):
    """Pairs (chainrule parameter, torch parameter in chainrule's layout) of a whole model."""
    pairs = []
    for layer, module in zip(model.layers, tmodel):
        if isinstance(layer, cr.Dense):
            pairs += [(layer.W, module.weight.T), (layer.b, module.bias)]
    return pairs


# --- 1. every layer -----------------------------------------------------------


def batch(shape=(6, 5), seed=0, zeros=True):
    """A float64 batch with a spread of values, a few of them exactly 0 (the kinks)."""
    X = np.random.default_rng(seed).normal(0, 2, shape)
    if zeros:
        X.flat[::7] = 0.0
    return X


LAYERS = {
    "Dense": lambda: cr.Dense(5, 4),
    "Dense_bias": lambda: cr.Dense(5, 4, init="glorot_normal", bias_init="normal"),  # a non-zero bias
    "Identity": cr.Identity,
    "Sigmoid": cr.Sigmoid,
    "Tanh": cr.Tanh,
    "ReLU": cr.ReLU,
    "LeakyReLU": lambda: cr.LeakyReLU(0.2),
    "ELU": lambda: cr.ELU(0.7),
    "GELU_none": lambda: cr.GELU("none"),
    "GELU_tanh": lambda: cr.GELU("tanh"),
    "Softmax": cr.Softmax,
    "Flatten": cr.Flatten,
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_forward_and_backward_match_torch(name):
    layer = LAYERS[name]().build(rng=1, dtype="float64")
    X = batch((6, 2, 3) if name == "Flatten" else (6, 5))
    module = to_torch(layer)

    A = layer.forward(X, training=True)
    X_t = tt(X, grad=True)
    A_t = module(X_t)
    close(A, A_t)

    G = np.random.default_rng(2).normal(size=A.shape)
    dX = layer.backward(G)
    A_t.backward(tt(G))
    close(dX, X_t.grad)
    for mine, theirs in torch_grads(layer, module):
        close(mine, theirs)


def test_dense_regularisation_gradient_matches_torch():
    """l2 adds l2 sum(W^2) to the cost and l1 adds l1 sum(|W|): torch differentiates the same penalties."""
    layer = cr.Dense(5, 4, l1=0.03, l2=0.05).build(rng=3, dtype="float64")
    module = to_torch(layer)
    X, G = batch(), np.random.default_rng(4).normal(size=(6, 4))
    layer.forward(X, training=True)
    layer.backward(G)
    out = (module(tt(X)) * tt(G)).sum() + 0.05 * (module.weight ** 2).sum() + 0.03 * module.weight.abs().sum()
    out.backward()
    close(layer.dW, module.weight.grad.T)
    close(layer.penalty(), 0.05 * (module.weight ** 2).sum() + 0.03 * module.weight.abs().sum())


def test_batchnorm_training_eval_and_running_stats_match_torch():
    layer = cr.BatchNorm(5, momentum=0.3, eps=1e-3).build(dtype="float64")
    rng = np.random.default_rng(5)
    layer.gamma = rng.normal(1, 0.5, 5)
    layer.beta = rng.normal(0, 0.5, 5)
    module = to_torch(layer).train()

    # training: three batches, the running statistics after each (unbiased running variance)
    for seed in range(3):
        X = rng.normal(seed, 1 + seed, (7, 5))
        A = layer.forward(X, training=True)
        X_t = tt(X, grad=True)
        module.zero_grad()
        A_t = module(X_t)
        close(A, A_t)
        close(layer.running_mean, module.running_mean)
        close(layer.running_var, module.running_var)
        G = rng.normal(size=A.shape)
        dX = layer.backward(G)
        A_t.backward(tt(G))
        close(dX, X_t.grad)
        for mine, theirs in torch_grads(layer, module):
            close(mine, theirs)

    # evaluation: the running statistics are constants; nothing moves
    module.eval()
    module.zero_grad()
    mean_before = layer.running_mean.copy()
    X = rng.normal(size=(4, 5))
    A = layer.forward(X, training=False)
    X_t = tt(X, grad=True)
    A_t = module(X_t)
    close(A, A_t)
    G = rng.normal(size=A.shape)
    dX = layer.backward(G)
    A_t.backward(tt(G))
    close(dX, X_t.grad)
    for mine, theirs in torch_grads(layer, module):
        close(mine, theirs)
    np.testing.assert_array_equal(layer.running_mean, mean_before)
    close(layer.running_var, module.running_var)


@pytest.mark.parametrize("p", [0.25, 0.6])
def test_dropout_with_the_same_mask_matches_torch(p):
    # torch draws its own mask, so feed chainrule's mask to torch: A = X * mask
    layer = cr.Dropout(p).build(rng=6, dtype="float64")
    X = batch((50, 8), zeros=False)
    A = layer.forward(X, training=True)
    mask = layer.mask
    assert set(np.unique(mask)) <= {0.0, 1.0 / (1.0 - p)}
    assert 0 < np.count_nonzero(mask == 0) < mask.size
    X_t = tt(X, grad=True)
    A_t = X_t * tt(mask)
    close(A, A_t)
    G = np.random.default_rng(7).normal(size=A.shape)
    A_t.backward(tt(G))
    close(layer.backward(G), X_t.grad)

    # evaluation: the identity, as torch's Dropout in eval mode
    A = layer.forward(X, training=False)
    close(A, nn.Dropout(p).eval()(tt(X)))
    close(layer.backward(G), G)


# --- 2. every loss -----------------------------------------------------------

M, K = 6, 4
_rng = np.random.default_rng(8)
Z = _rng.normal(0, 2, (M, K))
Y_REAL = _rng.normal(0, 2, (M, K))
Y_01 = (_rng.random((M, K)) < 0.5).astype(float)
Y_SOFT01 = _rng.random((M, K))
P_BIN = 1 / (1 + np.exp(-Z))
LABELS = np.array([0, 3, 1, 1, 2, 3])
ONE_HOT = np.eye(K)[LABELS]
SOFT = np.exp(_rng.normal(size=(M, K)))
SOFT /= SOFT.sum(axis=1, keepdims=True)
P_CAT = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
SOFT_UNNORMALISED = _rng.uniform(0.0, 1.0, size=(M, K))  # row sums from about 0.5 to 3


def t_targets(y):
    return torch.tensor(y) if y.dtype.kind == "i" else tt(y)


LOSSES = {
    # name: (chainrule loss, prediction, targets, torch loss of (prediction, targets))
    "mse": (cr.losses.MSE(), Z, Y_REAL, TF.mse_loss),
    "mse_one_output": (cr.losses.MSE(), Z[:, :1], Y_REAL[:, 0], lambda a, y: TF.mse_loss(a, y[:, None])),
    "huber_1": (cr.losses.Huber(), Z, Y_REAL, TF.huber_loss),
    "huber_0.7": (cr.losses.Huber(0.7), Z, Y_REAL, lambda a, y: TF.huber_loss(a, y, delta=0.7)),
    "huber_3": (cr.losses.Huber(3.0), Z, Y_REAL, lambda a, y: TF.huber_loss(a, y, delta=3.0)),
    "bce_logits": (cr.losses.BinaryCrossEntropy(True), Z, Y_01, TF.binary_cross_entropy_with_logits),
    "bce_logits_soft": (cr.losses.BinaryCrossEntropy(True), Z, Y_SOFT01, TF.binary_cross_entropy_with_logits),
    "bce_probs": (cr.losses.BinaryCrossEntropy(False), P_BIN, Y_01, TF.binary_cross_entropy),
    "bce_probs_soft": (cr.losses.BinaryCrossEntropy(False), P_BIN, Y_SOFT01, TF.binary_cross_entropy),
    "ce_logits_labels": (cr.losses.CrossEntropy(True), Z, LABELS, TF.cross_entropy),
    "ce_logits_one_hot": (cr.losses.CrossEntropy(True), Z, ONE_HOT, TF.cross_entropy),
    "ce_logits_soft": (cr.losses.CrossEntropy(True), Z, SOFT, TF.cross_entropy),  # torch takes probabilities too
    "ce_probs_labels": (cr.losses.CrossEntropy(False), P_CAT, LABELS, lambda p, y: TF.nll_loss(torch.log(p), y)),
    "ce_probs_soft": (cr.losses.CrossEntropy(False), P_CAT, SOFT,
                      lambda p, y: -(y * torch.log(p)).sum() / p.shape[0]),
    # soft rows that do not sum to 1: torch's gradient is (P * rowsum(Y) - Y) / m
    "ce_logits_soft_unnormalised": (cr.losses.CrossEntropy(True), Z, SOFT_UNNORMALISED, TF.cross_entropy),
    "ce_probs_soft_unnormalised": (cr.losses.CrossEntropy(False), P_CAT, SOFT_UNNORMALISED,
                                   lambda p, y: -(y * torch.log(p)).sum() / p.shape[0]),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_value_and_gradient_match_torch(name):
    loss, A, y, torch_loss = LOSSES[name]
    value = loss(A, y)
    grad = loss.backward()
    A_t = tt(A, grad=True)
    value_t = torch_loss(A_t, t_targets(y))
    value_t.backward()
    close(value, value_t)
    assert grad.shape == A.shape
    close(grad, A_t.grad)


def test_cross_entropy_with_soft_rows_not_summing_to_one_matches_torch():
    """Soft targets need not sum to 1 (torch takes any non-negative rows): the fused gradient is then
    (P * rowsum(Y) - Y) / m, not (P - Y) / m, which is 13% off for the row [.2, .3, .9] here."""
    Z_ = np.random.default_rng(3).normal(size=(4, 3))
    Y = np.array([[0.2, 0.3, 0.9], [0.0, 0.1, 0.2], [1.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    Z_t = tt(Z_, grad=True)
    value_t = TF.cross_entropy(Z_t, tt(Y))
    value_t.backward()
    loss = cr.losses.CrossEntropy()
    value, grad = loss(Z_, Y), loss.backward()
    close(value, value_t, rtol=1e-10)
    close(grad, Z_t.grad, rtol=1e-10)
    close(loss.gradient(Z_, Y), Z_t.grad, rtol=1e-10)  # the evaluation path, the same function
    # and through a Softmax layer with the loss on probabilities
    softmax, on_probs = cr.Softmax(), cr.losses.CrossEntropy(from_logits=False)
    close(on_probs(softmax.forward(Z_), Y), value_t, rtol=1e-10)
    close(softmax.backward(on_probs.backward()), Z_t.grad, rtol=1e-10)


def test_gelu_with_chainrules_own_erf_matches_torch(monkeypatch):
    """Without SciPy, GELU runs on chainrule's own erf; it matches torch as closely."""
    monkeypatch.setattr(cr.functional, "_erf_impl", cr.functional.erf_rational)
    X = np.concatenate([batch((6, 5)) * 3, [[-40.0, -8.0, 0.0, 8.0, 40.0]]])
    layer = cr.GELU().build(dtype="float64")
    X_t = tt(X, grad=True)
    A_t = nn.GELU()(X_t)
    close(layer.forward(X), A_t)
    G = np.random.default_rng(4).normal(size=X.shape)
    A_t.backward(tt(G))
    close(layer.backward(G), X_t.grad)


def test_gelu_in_float32_is_as_accurate_as_torchs():
    """Exact GELU in float32 (erf_float32) against the float64 formula on a dense grid: chainrule's
    worst error, of the value and of the gradient, is within 1.25x PyTorch's own float32 GELU's."""
    z = np.linspace(-12.0, 12.0, 400_001).astype(np.float32)
    z64 = z.astype(np.float64)
    cdf = 0.5 * (1.0 + cr.functional.erf_rational(z64 / np.sqrt(2.0)))
    value, grad = z64 * cdf, cdf + z64 * np.exp(-0.5 * z64 * z64) / np.sqrt(2.0 * np.pi)
    layer = cr.GELU().build(dtype="float32")
    ones = np.ones_like(z)
    ours = layer.forward(z), layer.backward(ones)
    z_t = torch.from_numpy(z.copy()).requires_grad_(True)  # float32, as z
    a_t = nn.GELU()(z_t)
    a_t.backward(torch.from_numpy(ones))
    theirs = a_t.detach().numpy(), z_t.grad.numpy()
    for mine, torchs, exact in zip(ours, theirs, (value, grad)):
        assert mine.dtype == np.float32
        worst, torch_worst = np.abs(mine - exact).max(), np.abs(torchs - exact).max()
        assert worst <= 1.25 * torch_worst, (worst, torch_worst)


def test_bce_on_saturated_probabilities_matches_torch():
    """p of exactly 0 and 1: torch clamps log at -100 and the gradient's denominator p (1 - p) at 1e-12."""
    p = np.array([[0.0, 1.0, 0.0, 1.0, 0.5]])
    y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    loss = cr.losses.BinaryCrossEntropy(from_logits=False)
    value = loss(p, y)
    p_t = tt(p, grad=True)
    value_t = TF.binary_cross_entropy(p_t, tt(y))
    value_t.backward()
    close(value, value_t)
    # torch's floor is the C++ float (float32) 1e-12 = 9.9999999600e-13 even in float64, so its
    # floored gradients (+-2e11 here) are 4e-9 larger, relative, than chainrule's float64 1e-12.
    close(loss.backward(), p_t.grad, rtol=1e-8)


# --- 3. every optimizer --------------------------------------------------------

OPTIMIZERS = {
    # name: (chainrule optimizer, torch optimizer class and keyword arguments, clipnorm)
    "sgd": (lambda: cr.optim.SGD(lr=0.1), (torch.optim.SGD, dict(lr=0.1)), None),
    "sgd_momentum": (lambda: cr.optim.SGD(lr=0.1, momentum=0.9), (torch.optim.SGD, dict(lr=0.1, momentum=0.9)), None),
    "sgd_nesterov": (lambda: cr.optim.SGD(lr=0.1, momentum=0.8, nesterov=True),
                     (torch.optim.SGD, dict(lr=0.1, momentum=0.8, nesterov=True)), None),
    "sgd_weight_decay": (lambda: cr.optim.SGD(lr=0.1, momentum=0.5, weight_decay=0.05),
                         (torch.optim.SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.05)), None),
    "adagrad": (lambda: cr.optim.Adagrad(lr=0.05), (torch.optim.Adagrad, dict(lr=0.05)), None),
    "adagrad_weight_decay": (lambda: cr.optim.Adagrad(lr=0.05, weight_decay=0.1),
                             (torch.optim.Adagrad, dict(lr=0.05, weight_decay=0.1)), None),
    "rmsprop": (lambda: cr.optim.RMSProp(lr=0.01), (torch.optim.RMSprop, dict(lr=0.01)), None),
    "rmsprop_momentum": (lambda: cr.optim.RMSProp(lr=0.01, alpha=0.9, momentum=0.7),
                         (torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.7)), None),
    "rmsprop_weight_decay": (lambda: cr.optim.RMSProp(lr=0.01, weight_decay=0.1),
                             (torch.optim.RMSprop, dict(lr=0.01, weight_decay=0.1)), None),
    "adam": (lambda: cr.optim.Adam(lr=0.05), (torch.optim.Adam, dict(lr=0.05)), None),
    "adam_betas_eps": (lambda: cr.optim.Adam(lr=0.05, betas=(0.8, 0.95), eps=1e-3),
                       (torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3)), None),
    "adam_weight_decay": (lambda: cr.optim.Adam(lr=0.05, weight_decay=0.1),
                          (torch.optim.Adam, dict(lr=0.05, weight_decay=0.1)), None),
    "adamw": (lambda: cr.optim.AdamW(lr=0.05, weight_decay=0.1), (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
              None),
    "adamw_default_decay": (lambda: cr.optim.AdamW(lr=0.05), (torch.optim.AdamW, dict(lr=0.05)), None),
    "sgd_clipnorm": (lambda: cr.optim.SGD(lr=0.1, momentum=0.9, clipnorm=0.3),
                     (torch.optim.SGD, dict(lr=0.1, momentum=0.9)), 0.3),
    "adam_clipnorm": (lambda: cr.optim.Adam(lr=0.05, clipnorm=0.3), (torch.optim.Adam, dict(lr=0.05)), 0.3),
}


def mlp(*sizes, activation=cr.Tanh, seed=0):
    layers = [cr.Dense(sizes[0], sizes[1], init="glorot_uniform", bias_init="normal")]
    for n_in, n_out in zip(sizes[1:], sizes[2:]):
        layers += [activation(), cr.Dense(n_in, n_out, init="glorot_uniform", bias_init="normal")]
    return cr.Sequential(layers, rng=seed, dtype="float64")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_five_steps_match_torch(name):
    make_opt, (torch_opt, kwargs), clipnorm = OPTIMIZERS[name]
    model = mlp(5, 7, 3)
    tmodel = to_torch(model)
    opt, topt = make_opt(), torch_opt(tmodel.parameters(), **kwargs)
    loss = cr.losses.CrossEntropy()
    rng = np.random.default_rng(10)
    clipped = []
    for step in range(5):
        X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
        loss(model.forward(X, training=True), y)
        model.backward(loss.backward(), need_input_grad=False)
        opt.step(model)

        topt.zero_grad()
        TF.cross_entropy(tmodel(tt(X)), torch.tensor(y)).backward()
        if clipnorm is not None:
            clipped.append(float(nn.utils.clip_grad_norm_(tmodel.parameters(), clipnorm)) > clipnorm)
        topt.step()

        for mine, theirs in torch_params(model, tmodel):
            close(mine, theirs)
    if clipnorm is not None:
        assert any(clipped)  # the clipping did happen


@pytest.mark.parametrize("norm_over_max", [-1e-3, -1e-7, 0.0, 1e-7, 1e-3, 1.0])
def test_clip_by_global_norm_matches_torch(norm_over_max):
    g = np.random.default_rng(11).normal(size=10)
    norm = float(np.linalg.norm(g))
    max_norm = norm - norm_over_max
    w = torch.zeros(10, dtype=torch.float64)
    w.grad = tt(g.copy())
    norm_t = nn.utils.clip_grad_norm_([w], max_norm)
    assert cr.optim.clip_by_global_norm(g, max_norm) == pytest.approx(float(norm_t), rel=1e-12)
    if -1e-6 < norm_over_max <= 0:
        # torch always scales by min(1, max_norm / (norm + 1e-6)), so it also shrinks g (by less
        # than 1e-6 / norm, relative) when norm is within 1e-6 below max_norm; chainrule leaves
        # g alone whenever norm <= max_norm. Both give ||g|| <= max_norm.
        close(g, w.grad, rtol=1e-6 / norm)
    else:
        close(g, w.grad, rtol=1e-12)
    assert np.linalg.norm(g) <= max_norm


def test_optimizer_defaults_are_torchs():
    """Defaults match torch.optim, except SGD's learning rate (0.01 here, 1e-3 in torch)."""
    import inspect

    def defaults(cls):
        return {k: p.default for k, p in inspect.signature(cls).parameters.items()
                if p.default is not inspect.Parameter.empty}

    pairs = [(cr.optim.SGD, torch.optim.SGD), (cr.optim.Adagrad, torch.optim.Adagrad),
             (cr.optim.RMSProp, torch.optim.RMSprop), (cr.optim.Adam, torch.optim.Adam),
             (cr.optim.AdamW, torch.optim.AdamW)]
    for ours, theirs in pairs:
        mine, torchs = defaults(ours), defaults(theirs)
        for key, value in mine.items():
            if key == "clipnorm" or (ours is cr.optim.SGD and key == "lr"):
                continue
            expected = torchs[key]
            assert (list(value) if isinstance(value, tuple) else value) == (
                list(expected) if isinstance(expected, tuple) else expected), (ours.__name__, key)


# --- 4. a whole model ----------------------------------------------------------


def test_whole_relu_mlp_with_cross_entropy_matches_torch():
    model = mlp(6, 10, 8, 4, activation=cr.ReLU, seed=12)
    tmodel = to_torch(model)
    rng = np.random.default_rng(13)
    X, y = rng.normal(size=(16, 6)), rng.integers(0, 4, 16)
    loss = cr.losses.CrossEntropy()

    out = model.forward(X, training=True)
    value = loss(out, y)
    dX = model.backward(loss.backward())

    X_t = tt(X, grad=True)
    out_t = tmodel(X_t)
    value_t = TF.cross_entropy(out_t, torch.tensor(y))
    value_t.backward()

    close(out, out_t)
    close(value, value_t)
    close(dX, X_t.grad)
    dense = [(layer, module) for layer, module in zip(model.layers, tmodel) if isinstance(layer, cr.Dense)]
    assert len(dense) == 3
    for layer, module in dense:
        for mine, theirs in torch_grads(layer, module):
            close(mine, theirs)
    # the flat gradient buffer holds the same numbers as the layers' views
    flat_t = np.concatenate([g.detach().numpy().ravel() for layer, module in dense
                             for _, g in torch_grads(layer, module)])
    close(model.grads_, flat_t)
