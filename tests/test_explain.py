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


def test_the_cost_has_its_own_section_with_the_softmax_probabilities(batch):
    X, y = batch
    ex = small_model().explain(X, y, show=False)
    text = ex.text()
    forward, cost, backward = text.index("\nFORWARD PASS\n"), text.index("\nCOST\n"), text.index("\nBACKWARD PASS\n")
    assert forward < cost < backward
    section = text[cost:backward]
    assert "P = softmax(A[2])" in section and f"C = CrossEntropy(A[2], Y) = -(1/m) sum(Y * log P) = {ex.cost:.4f}" in section
    P = ex.step("P").value
    Z = ex.step("A[2]").value
    np.testing.assert_allclose(P, np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert ex.cost == pytest.approx(-np.mean(np.log(P[np.arange(3), y])), rel=1e-12)
    assert ex.step("dA[2]").equation == "dA[2] = dC/dA[2] = (P - Y) / m"
    np.testing.assert_allclose(ex.step("dA[2]").value, (P - np.eye(2)[y]) / 3, rtol=1e-12)
    md = ex.markdown()
    assert md.index("## Forward pass") < md.index("## Cost") < md.index("## Backward pass")
    assert "P = softmax(A[2])" in md[md.index("## Cost"):md.index("## Backward pass")]


def test_cli_sigmoid_output_is_binary_cross_entropy_on_probabilities(capsys):
    """The tutorial's network: A[L] = sigmoid(Z[L]), C = -(1/(m n)) sum(Y log A + (1 - Y) log(1 - A))."""
    assert main(["explain", "--sizes", "2", "3", "1", "--output", "sigmoid", "--samples", "4"]) == 0
    printed = capsys.readouterr().out
    assert "g[2]    sigmoid" in printed and "A[2] = sigmoid(Z[2])" in printed
    assert "C = BinaryCrossEntropy(A[2], Y) = -(1/(m n)) sum(Y * log A[2] + (1 - Y) * log(1 - A[2]))" in printed
    assert "dA[2] = dC/dA[2] = (A[2] - Y) / (A[2] (1 - A[2]) m n)" in printed
    assert "P = softmax" not in printed
    # the same network through the library, to read the numbers
    model = cr.Sequential([cr.Dense(2, 3, init="glorot_uniform"), cr.Tanh(), cr.Dense(3, 1, init="glorot_uniform"),
                           cr.Sigmoid()], rng=0, dtype="float64")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 2)).round(2)
    Y = rng.integers(0, 2, (4, 1)).astype(float)
    ex = model.explain(X, Y, loss=cr.losses.BinaryCrossEntropy(from_logits=False), show=False)
    assert ex.text().strip() == printed.strip()
    A = ex.step("A[2]").value
    assert ex.cost == pytest.approx(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)), rel=1e-12)
    np.testing.assert_allclose(ex.step("dA[2]").value, (A - Y) / (A * (1 - A)) / 4, rtol=1e-10)
    np.testing.assert_allclose(ex.step("dZ[2]").value, (A - Y) / 4, rtol=1e-10)  # the sigmoid cancels


def test_cli_output_and_loss_must_fit(capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--output", "tanh"])
    assert "--output" in capsys.readouterr().err
    assert main(["explain", "--output", "sigmoid", "--loss", "cross_entropy"]) != 0
    assert "--loss cross_entropy does not fit --output sigmoid" in capsys.readouterr().err
    assert main(["explain", "--output", "softmax"]) == 0
    assert "C = CrossEntropy(A[2], Y) = -(1/m) sum(Y * log A[2])" in capsys.readouterr().out


def test_matrices_too_big_to_print_whole_are_summarised_with_a_note(capsys):
    assert main(["explain", "--sizes", "3", "20", "2", "--samples", "12"]) == 0
    printed = capsys.readouterr().out
    note = "Note: matrices over 8 rows or columns are summarised"
    assert printed.count(note) == 1
    assert "(shape (12, 20): min " in printed and "... 8 more rows" in printed
    widest = max(len(line) for line in printed.splitlines())
    assert widest < 200, widest  # no wall of 20 numbers a row, side by side with their check
    assert main(["explain", "--sizes", "3", "8", "2", "--samples", "8"]) == 0
    printed = capsys.readouterr().out
    assert note not in printed and "shape (" not in printed  # 8 x 8 is still printed whole
    wide = cr.Sequential([cr.Dense(3, 20), cr.Tanh(), cr.Dense(20, 2)], rng=0, dtype="float64")
    ex = wide.explain(np.random.default_rng(0).standard_normal((12, 3)), np.arange(12) % 2, show=False)
    Z = ex.step("Z[1]").value
    assert f"(shape (12, 20): min {Z.min():.4f}, max {Z.max():.4f})" in ex.text()
    section = ex.text().split("Z[1] =")[1].split("A[1] =")[0]  # its first 4 rows and 8 columns only
    rows = [line.strip() for line in section.splitlines() if line.strip().startswith("[")]
    assert rows == ["[" + " ".join(f"{v:.4f}".rjust(7) for v in row) + " ...]" for row in Z[:4, :8]]
