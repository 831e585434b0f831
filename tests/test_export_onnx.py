"""to_onnx: every layer type, scaler included, through onnxruntime, equal to chainrule in float32."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from chainrule.export import OPSET, to_onnx  # noqa: E402
from test_export_models import SEEDS, random_model, raw_rows  # noqa: E402


def run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X})))


@pytest.mark.parametrize("seed", SEEDS)
def test_onnxruntime_matches_chainrule(tmp_path, seed):
    model = random_model(seed)
    proto = to_onnx(model, tmp_path / "model.onnx")
    onnx.checker.check_model(onnx.load(tmp_path / "model.onnx"), full_check=True)
    assert proto.opset_import[0].version == OPSET
    for m in (1, 17):  # the batch dimension is dynamic
        X = raw_rows(model, m, seed)
        out = run(tmp_path / "model.onnx", X)
        np.testing.assert_allclose(out["output"], model.predict_output(X), rtol=1e-5, atol=1e-5)
        if model.task == "regression":
            assert "probabilities" not in out
        else:
            np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), rtol=1e-5, atol=1e-5)


def test_the_graph_holds_the_scaler_and_both_gelu_forms(tmp_path):
    ops = set()
    for seed in SEEDS:
        ops |= {node.op_type for node in to_onnx(random_model(seed)).graph.node}
    assert {"Sub", "Mul", "Erf", "Tanh", "BatchNormalization", "Flatten", "MatMul", "Add", "Softmax",
            "Sigmoid", "Relu", "LeakyRelu", "Elu", "Concat"} <= ops
    graph = to_onnx(random_model(0)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_a_float64_model_exports_in_float32(tmp_path):
    model = random_model(1, dtype="float64")
    to_onnx(model, tmp_path / "m.onnx")
    X = raw_rows(model, 5)
    np.testing.assert_allclose(run(tmp_path / "m.onnx", X)["output"], model.predict_output(X), rtol=1e-5, atol=1e-5)
