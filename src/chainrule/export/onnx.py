"""A chainrule model as an ONNX graph: ``to_onnx(model, "model.onnx")``.

The graph takes raw rows, like ``chainrule predict``: input ``X`` of shape (batch, n_inputs),
float32, the batch dimension dynamic. The model's scaler comes first, as ``Sub`` and ``Mul``
(x' = (x - offset) * (1 / scale)); then every layer, the tutorial's way::

    Dense        Z[l] = A[l-1] @ W[l] + b[l]          MatMul, Add
    BatchNorm    gamma (Z - running_mean) / sqrt(running_var + eps) + beta   (inference form)
    GELU         Z Phi(Z), Phi(Z) = (1 + Erf(Z / sqrt 2)) / 2, or the tanh form
    Dropout      the identity (evaluation)
    Flatten      Flatten(axis=1)

Outputs: ``output``, the network's A[L] (``model.predict_output``), and for a classifier also
``probabilities`` (``model.predict_proba``). Opset ``OPSET``. Needs the onnx package
(``pip install "chainrule[onnx]"``).
"""

from __future__ import annotations

import math

import numpy as np

#: the ONNX opset the graph is written for (Softmax on the last axis and the BatchNormalization of 15+)
OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('to_onnx needs the onnx package: pip install "chainrule[onnx]"') from None
    return onnx


class _Graph:
    """The nodes and constants of the graph being written, each tensor named in order."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.constants, self.count = onnx, [], [], 0

    def constant(self, name, value):
        array = np.asarray(value, dtype=np.float32)
        self.constants.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, name, **attributes):
        self.count += 1
        out = f"{name}_{self.count}"
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attributes))
        return out


def _gelu(g, Z, layer, l):
    """GELU(Z) = Z Phi(Z) in either of chainrule's two forms."""
    if layer.approximate == "tanh":  # Phi(Z) = (1 + tanh(sqrt(2/pi) (Z + 0.044715 Z^3))) / 2
        Zc = g.node("Clip", [Z, g.constant(f"gelu_low{l}", -1e4), g.constant(f"gelu_high{l}", 1e4)], f"Zc{l}")
        cube = g.node("Mul", [g.node("Mul", [Zc, Zc], f"Z2_{l}"), Zc], f"Z3_{l}")
        inner = g.node("Add", [Zc, g.node("Mul", [cube, g.constant(f"gelu_c{l}", 0.044715)], f"cZ3_{l}")], f"u{l}")
        inner = g.node("Mul", [inner, g.constant(f"sqrt_2_over_pi{l}", math.sqrt(2 / math.pi))], f"u{l}")
        t = g.node("Tanh", [inner], f"t{l}")
    else:  # Phi(Z) = (1 + erf(Z / sqrt 2)) / 2
        t = g.node("Erf", [g.node("Mul", [Z, g.constant(f"inv_sqrt2_{l}", 1 / math.sqrt(2))], f"u{l}")], f"erf{l}")
    one, half = g.constant(f"one{l}", 1.0), g.constant(f"half{l}", 0.5)
    cdf = g.node("Mul", [g.node("Add", [t, one], f"t1_{l}"), half], f"Phi{l}")
    return g.node("Mul", [Z, cdf], f"A{l}")


def _layer(g, A, layer, l):
    """The node(s) of one layer on input tensor A; returns the output tensor's name."""
    kind = type(layer).__name__
    if kind == "Dense":
        Z = g.node("MatMul", [A, g.constant(f"W[{l}]", layer.W)], f"A_W{l}")
        return g.node("Add", [Z, g.constant(f"b[{l}]", layer.b)], f"Z{l}")
    if kind == "BatchNorm":
        names = [g.constant(f"{name}[{l}]", getattr(layer, name))
                 for name in ("gamma", "beta", "running_mean", "running_var")]
        return g.node("BatchNormalization", [A, *names], f"BN{l}", epsilon=float(layer.eps))
    simple = {"Sigmoid": "Sigmoid", "Tanh": "Tanh", "ReLU": "Relu", "Identity": "Identity", "Dropout": "Identity"}
    if kind in simple:
        return g.node(simple[kind], [A], f"A{l}")
    if kind == "LeakyReLU":
        return g.node("LeakyRelu", [A], f"A{l}", alpha=float(layer.negative_slope))
    if kind == "ELU":
        return g.node("Elu", [A], f"A{l}", alpha=float(layer.alpha))
    if kind == "GELU":
        return _gelu(g, A, layer, l)
    if kind == "Softmax":
        return g.node("Softmax", [A], f"A{l}", axis=-1)
    if kind == "Flatten":
        return g.node("Flatten", [A], f"A{l}", axis=1)
    raise ValueError(f"to_onnx: no ONNX form for layer {kind} (layer {l}); expected one of chainrule's layers")


def _probabilities(g, out, model):
    """predict_proba's numbers from the output A[L], or None for a regression model."""
    loss = model.default_loss()
    from_logits = getattr(loss, "from_logits", True)
    if loss.task == "multiclass":
        return g.node("Softmax", [out], "P", axis=-1) if from_logits else g.node("Identity", [out], "P")
    if loss.task == "binary":
        p = g.node("Sigmoid", [out], "p") if from_logits else out
        if model.n_outputs == 1:  # [1 - p, p]
            return g.node("Concat", [g.node("Sub", [g.constant("one", 1.0), p], "q"), p], "P", axis=1)
        return g.node("Identity", [p], "P")
    return None


def to_onnx(model, path=None):
    """Write ``model`` (preprocessing included) as an ONNX graph to ``path``; returns the ModelProto.

    The graph computes in float32 whatever the model's dtype. ``onnx.checker`` checks it before
    it is written.
    """
    onnx = _onnx()
    from onnx import TensorProto, helper

    from ..layers import layer_numbers

    if model.n_inputs is None:
        raise ValueError("to_onnx: the model has no Dense or BatchNorm layer, so its input size is unknown")
    g = _Graph(onnx)
    A = "X"
    if model.preprocessor is not None:  # x' = (x - offset) * (1 / scale)
        A = g.node("Sub", [A, g.constant("offset", model.preprocessor.offset_)], "X_minus_offset")
        A = g.node("Mul", [A, g.constant("inv_scale", 1.0 / np.asarray(model.preprocessor.scale_))], "A0")
    for layer, l in zip(model.layers, layer_numbers(model.layers)):
        A = _layer(g, A, layer, l)
    outputs = [("output", A)]
    P = _probabilities(g, A, model)
    if P is not None:
        outputs.append(("probabilities", P))
    for name, tensor in outputs:  # name the outputs plainly
        g.nodes.append(helper.make_node("Identity", [tensor], [name], name=name))
    width = {"output": model.n_outputs, "probabilities": 2 if model.n_outputs == 1 else model.n_outputs}
    graph = helper.make_graph(
        g.nodes, "chainrule", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", model.n_inputs])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", width[name]]) for name, _ in outputs],
        initializer=g.constants)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="chainrule",
                              doc_string=repr(model))
    proto.ir_version = min(proto.ir_version, 8)  # what opset 17 runtimes read
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        onnx.save(proto, str(path))
    return proto


__all__ = ["to_onnx", "OPSET"]
