"""Weights both ways between chainrule and PyTorch: ``to_torch(model)`` and ``from_torch(module)``.

chainrule's Dense computes Z = A @ W + b with W of shape (n_in, n_out); PyTorch's Linear
computes Z = A @ weight.T + bias, weight of shape (n_out, n_in): so weight = W.T. The other
layers map one to one (BatchNorm to BatchNorm1d with its running statistics, momentum and
eps; Dropout to Dropout; each activation to its namesake). The model's scaler, if any, is
not a PyTorch layer: ``to_torch`` refuses such a model unless told ``include_scaler=True``,
which puts it first as a fixed affine layer.

PyTorch is imported only inside these functions; it is never a dependency of chainrule.
"""

from __future__ import annotations

import numpy as np

#: PyTorch module class name -> how to build the chainrule layer from it
_FROM_TORCH = ("Linear", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Softmax",
               "Dropout", "Flatten", "BatchNorm1d")


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch and from_torch need PyTorch, which chainrule does not install: "
                          "pip install torch (see https://pytorch.org)") from None
    return torch


def _affine(torch, offset, scale, dtype):
    """x' = (x - offset) / scale as a Linear layer with a diagonal weight, frozen."""
    n = len(offset)
    linear = torch.nn.Linear(n, n, dtype=dtype)
    with torch.no_grad():
        linear.weight.copy_(torch.diag(torch.as_tensor(1.0 / np.asarray(scale), dtype=dtype)))
        linear.bias.copy_(torch.as_tensor(-np.asarray(offset) / np.asarray(scale), dtype=dtype))
    linear.requires_grad_(False)
    return linear


def _to_module(torch, layer, dtype):
    nn, kind = torch.nn, type(layer).__name__
    if kind == "Dense":
        linear = nn.Linear(layer.n_in, layer.n_out, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(np.ascontiguousarray(layer.W.T)))
            linear.bias.copy_(torch.as_tensor(layer.b))
        return linear
    if kind == "BatchNorm":
        bn = nn.BatchNorm1d(layer.features, eps=layer.eps, momentum=layer.momentum, dtype=dtype)
        with torch.no_grad():
            for theirs, ours in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "running_mean"),
                                 ("running_var", "running_var")):
                getattr(bn, theirs).copy_(torch.as_tensor(getattr(layer, ours)))
        return bn
    simple = {"Identity": nn.Identity, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "ReLU": nn.ReLU,
              "Flatten": nn.Flatten}
    if kind in simple:
        return simple[kind]()
    if kind == "LeakyReLU":
        return nn.LeakyReLU(layer.negative_slope)
    if kind == "ELU":
        return nn.ELU(layer.alpha)
    if kind == "GELU":
        return nn.GELU(approximate=layer.approximate)
    if kind == "Softmax":
        return nn.Softmax(dim=-1)
    if kind == "Dropout":
        return nn.Dropout(layer.p)
    raise ValueError(f"to_torch: no PyTorch module for chainrule layer {kind}")


def to_torch(model, include_scaler=False):
    """``model`` as a ``torch.nn.Sequential`` in the model's dtype, in evaluation mode, whose
    outputs equal ``model.predict_output``'s (for inputs already preprocessed, unless
    ``include_scaler=True`` puts the model's scaler first)."""
    torch = _torch()
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    modules = [_to_module(torch, layer, dtype) for layer in model.layers]
    if model.preprocessor is not None:
        if not include_scaler:
            raise ValueError(f"to_torch: the model has a {type(model.preprocessor).__name__}, which is not a "
                             "layer; pass include_scaler=True to put it first as a fixed Linear layer, or "
                             "preprocess the inputs yourself")
        modules.insert(0, _affine(torch, model.preprocessor.offset_, model.preprocessor.scale_, dtype))
    return torch.nn.Sequential(*modules).eval()


def _from_module(module, i, dtype):
    from .. import layers as L

    kind = type(module).__name__
    if kind not in _FROM_TORCH:
        raise ValueError(f"from_torch: module {i} is a {kind}, which chainrule has no layer for; "
                         f"expected only {', '.join(_FROM_TORCH)}")
    if kind == "Linear":
        if module.bias is None:
            raise ValueError(f"from_torch: module {i} is a Linear without bias; chainrule's Dense always has b")
        return L.Dense(module.in_features, module.out_features), {
            "W": module.weight.detach().cpu().numpy().T, "b": module.bias.detach().cpu().numpy()}
    if kind == "BatchNorm1d":
        if not module.affine or not module.track_running_stats:
            raise ValueError(f"from_torch: module {i} is a BatchNorm1d without affine parameters or running "
                             "statistics; chainrule's BatchNorm has both")
        values = {"gamma": module.weight, "beta": module.bias, "running_mean": module.running_mean,
                  "running_var": module.running_var}
        momentum = 0.1 if module.momentum is None else module.momentum
        return (L.BatchNorm(module.num_features, momentum=momentum, eps=module.eps),
                {k: v.detach().cpu().numpy() for k, v in values.items()})
    if kind == "Softmax" and module.dim not in (-1, 1, None):
        raise ValueError(f"from_torch: module {i} is a Softmax over dim {module.dim}; chainrule's is over the last")
    if kind == "Flatten" and (module.start_dim, module.end_dim) != (1, -1):
        raise ValueError(f"from_torch: module {i} is a Flatten({module.start_dim}, {module.end_dim}); chainrule's "
                         "Flatten keeps only the batch dimension, Flatten(1, -1)")
    build = {"Identity": L.Identity, "Sigmoid": L.Sigmoid, "Tanh": L.Tanh, "ReLU": L.ReLU, "Flatten": L.Flatten,
             "Softmax": L.Softmax, "LeakyReLU": lambda: L.LeakyReLU(module.negative_slope),
             "ELU": lambda: L.ELU(module.alpha), "GELU": lambda: L.GELU(module.approximate),
             "Dropout": lambda: L.Dropout(module.p)}
    return build[kind](), {}


def from_torch(module, dtype=None):
    """A chainrule ``Sequential`` from a ``torch.nn.Sequential`` of Linear, the activations
    chainrule has, BatchNorm1d, Dropout and Flatten, with the same weights (and running
    statistics); any other module is refused by name. ``dtype``: the module's by default."""
    torch = _torch()
    from ..model import Sequential

    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"from_torch: expected a torch.nn.Sequential; received {type(module).__name__}")
    params = [p for p in module.parameters()]
    if dtype is None:
        dtype = "float64" if params and params[0].dtype == torch.float64 else "float32"
    pairs = [_from_module(child, i, dtype) for i, child in enumerate(module)]
    model = Sequential([layer for layer, _ in pairs], dtype=dtype)
    for layer, values in pairs:
        for name, value in values.items():
            setattr(layer, name, value)  # copies into the model's flat buffer
    return model


__all__ = ["to_torch", "from_torch"]
