"""to_torch and from_torch: the same outputs both ways, anything else refused by name."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chainrule as cr  # noqa: E402
from chainrule.export import from_torch, to_torch  # noqa: E402
from test_export_models import SEEDS, random_model, raw_rows  # noqa: E402


@pytest.mark.parametrize("seed", SEEDS)
def test_to_torch_gives_the_same_outputs(seed):
    model = random_model(seed)
    X = raw_rows(model, 9, seed)
    net = to_torch(model, include_scaler=model.preprocessor is not None)
    assert isinstance(net, torch.nn.Sequential) and not net.training
    with torch.no_grad():
        out = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, model.predict_output(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_from_torch_round_trip_is_exact_to_1e_6(seed):
    model = random_model(seed)
    model.preprocessor = None
    net = to_torch(model)
    back = from_torch(net)
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]
    X = raw_rows(model, 9, seed)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(back.predict_output(X), expected, rtol=1e-6, atol=1e-6)


def test_from_torch_reads_a_module_built_in_pytorch():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.BatchNorm1d(8),
                              torch.nn.GELU(approximate="tanh"), torch.nn.Dropout(0.2), torch.nn.Linear(8, 3),
                              torch.nn.Softmax(dim=1))
    net.train()(torch.randn(32, 3, 4))  # running statistics that are not the defaults
    net.eval()
    model = from_torch(net)
    X = np.random.default_rng(0).normal(size=(6, 3, 4)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.predict_output(X), expected, rtol=1e-6, atol=1e-6)
    assert model.dtype == np.float32 and model.layers[2].momentum == 0.1


@pytest.mark.parametrize("module, message", [
    (torch.nn.Conv1d(1, 1, 3), "module 1 is a Conv1d, which chainrule has no layer for"),
    (torch.nn.Softplus(), "module 1 is a Softplus, which chainrule has no layer for"),
    (torch.nn.Linear(4, 4, bias=False), "module 1 is a Linear without bias"),
    (torch.nn.Softmax(dim=0), "module 1 is a Softmax over dim 0"),
])
def test_from_torch_refuses_other_modules_by_name(module, message):
    with pytest.raises(ValueError, match=f"^from_torch: {message}"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(4, 4), module))
    with pytest.raises(TypeError, match="expected a torch.nn.Sequential; received Linear"):
        from_torch(torch.nn.Linear(2, 2))


def test_a_model_with_a_scaler_needs_include_scaler():
    model = random_model(0)
    with pytest.raises(ValueError, match="has a Standardizer, which is not a layer; pass include_scaler=True"):
        to_torch(model)


def test_without_torch_the_message_says_how_to_install_it(monkeypatch):
    import builtins

    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "torch" else real_import(name, *a, **k))
    with pytest.raises(ImportError, match="pip install torch"):
        to_torch(cr.Sequential([cr.Dense(2, 2)]))
