"""explain: the printed numbers are the ones the network computes."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.main import main


def small_model(activation="tanh", seed=0):
    return cr.Sequential([cr.Dense(3, 4), cr.layers.activation(activation), cr.Dense(4, 2)], rng=seed,
                         dtype="float64")


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    return rng.standard_normal((3, 3)), np.array([0, 1, 1])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_every_recorded_matrix_is_what_the_network_computes(batch, activation):
    X, y = batch
    model = small_model(activation)
    before = model.params_.copy()
    ex = model.explain(X, y, loss="cross_entropy", lr=0.5, show=False)
    assert np.array_equal(model.params_, before)  # the model is never changed

    W1, b1, W2, b2 = model.layers[0].W, model.layers[0].b, model.layers[2].W, model.layers[2].b
    g = model.layers[1]
    Z1 = X @ W1 + b1
    A1 = g.forward(Z1)
    Z2 = A1 @ W2 + b2
    np.testing.assert_allclose(ex.step("Z[1]").value, Z1, rtol=1e-14)
    np.testing.assert_allclose(ex.step("A[1]").value, A1, rtol=1e-14)
    np.testing.assert_allclose(ex.step("Z[2]").value, Z2, rtol=1e-14)
    np.testing.assert_allclose(ex.step("A[2]").value, Z2, rtol=1e-14)

    loss = cr.losses.CrossEntropy()
    assert ex.cost == pytest.approx(loss.forward(model.forward(X), y), rel=1e-14)
    model.backward(loss.backward())
    for l, layer in ((1, model.layers[0]), (2, model.layers[2])):
        np.testing.assert_allclose(ex.step(f"dW[{l}]").value, layer.dW, rtol=1e-12)
        np.testing.assert_allclose(ex.step(f"db[{l}]").value, layer.db, rtol=1e-12)
        assert ex.step(f"dW[{l}]").error < 1e-6  # beside its finite-difference estimate
        np.testing.assert_allclose(ex.step(f"dW[{l}]").numeric, layer.dW, rtol=1e-5, atol=1e-9)
        np.testing.assert_allclose(ex.step(f"W[{l}] new").value, layer.W - 0.5 * layer.dW, rtol=1e-12)
    P = cr.functional.softmax(Z2)
    np.testing.assert_allclose(ex.step("dA[2]").value, (P - np.eye(2)[y]) / 3, rtol=1e-12)
    np.testing.assert_allclose(ex.step("dA[1]").value, ex.step("dZ[2]").value @ W2.T, rtol=1e-12)


def test_text_shows_the_numbers_rounded_and_every_step_numbered(batch, capsys):
    X, y = batch
    ex = small_model().explain(X, y, decimals=3)
    printed = capsys.readouterr().out
    assert printed.strip() == ex.text().strip()
    for name in ("Z[1]", "A[1]", "dZ[1]", "dW[1]", "db[2]", "dA[1]"):
        first = ex.step(name).value.ravel()[0]
        assert f"{first:.3f}" in printed
    numbers = [int(n) for n in re.findall(r"^\s*(\d+)\. ", printed, flags=re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 15
    for equation in ("Z[1] = A[0] @ W[1] + b[1]", "dW[2] = A[1].T @ dZ[2]", "dA[1] = dZ[2] @ W[2].T",
                     "W[1] := W[1] - alpha dW[1]", "finite differences"):
        assert equation in printed
    assert "(3, 3) @ (3, 4) + (4,) -> (3, 4)" in printed


def test_markdown_export_and_decimals(batch):
    X, y = batch
    ex = small_model().explain(X, y, decimals=2, show=False)
    md = ex.markdown()
    assert md.startswith("## The network") and "## Backward pass" in md and md.count("```") % 2 == 0
    assert f"{ex.step('Z[1]').value[0, 0]:.2f}" in md
    assert f"{ex.step('Z[1]').value[0, 0]:.6f}" in ex.text(decimals=6)


@pytest.mark.parametrize("loss,y", [("mse", np.array([[0.5, -1.0], [1.0, 0.0], [0.0, 2.0]])),
                                    ("bce", np.array([[1, 0], [0, 1], [1, 1]]))])
def test_other_losses(batch, loss, y):
    X, _ = batch
    ex = small_model().explain(X, y, loss=loss, show=False)
    assert all(s.error < 1e-6 for s in ex.backward if s.error is not None)


def test_unsupported_layers_and_big_batches_are_refused(batch):
    X, y = batch
    model = cr.Sequential([cr.Dense(3, 4), cr.BatchNorm(4), cr.Dense(4, 2)], rng=0)
    with pytest.raises(ValueError, match="BatchNorm"):
        model.explain(X, y, show=False)
    with pytest.raises(ValueError, match="tiny batch"):
        small_model().explain(np.zeros((50, 3)), np.zeros(50, int), show=False)


def test_cli_explain_prints_and_writes_markdown(tmp_path, capsys):
    out = tmp_path / "trace.md"
    assert main(["explain", "--sizes", "2", "3", "2", "--samples", "2", "--decimals", "3",
                 "--markdown", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "FORWARD PASS" in printed and "BACKWARD PASS" in printed and "UPDATE" in printed
    assert out.read_text().startswith("## The network")


def test_cli_bench_vectorization_prints_the_speedup(capsys):
    assert main(["bench", "--vectorization"]) == 0
    printed = capsys.readouterr().out
    speedup = float(re.search(r"speed-up (\d+)x", printed).group(1))
    difference = float(re.search(r"two ([0-9.e+-]+)", printed).group(1))
    assert speedup > 1 and difference < 1e-9


def test_a_softmax_layer_is_explained_with_its_own_vector_jacobian_product():
    """Softmax is not elementwise: its line is dZ = A * (dA - rowsum(dA * A)), not dA * g'(Z)."""
    model = cr.Sequential([cr.Dense(2, 3), cr.Tanh(), cr.Dense(3, 2), cr.Softmax()], rng=0, dtype="float64")
    ex = model.explain(np.array([[0.5, -1.0]]), np.array([1]), show=False)
    step = ex.step("dZ[2]")
    assert step.equation == "dZ[2] = A[2] * (dA[2] - rowsum(dA[2] * A[2]))"
    A, dA = ex.step("A[2]").value, ex.step("dA[2]").value
    np.testing.assert_allclose(step.value, A * (dA - np.sum(dA * A, axis=1, keepdims=True)), rtol=1e-12)
    assert ex.step("dZ[1]").equation == "dZ[1] = dA[1] * g'(Z[1]),  g'(Z[1]) = 1 - A[1]^2"
