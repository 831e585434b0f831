"""A trained model as a NumPy-only script: ``to_python(model, "predictor/")``.

Writes two files into the directory: ``predict.py`` (the forward pass, Z[l] = A[l-1] @ W[l] + b[l],
readable on its own) and ``weights.npz`` (every number, loaded with ``allow_pickle=False``).
``python predict.py rows.csv`` then prints what ``chainrule predict MODEL --input rows.csv``
prints, on any machine with NumPy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def weight_arrays(model):
    """Every number predict.py needs, by name: W[l], b[l] of each Dense layer; gamma, beta, mean,
    var and eps of a BatchNorm and k (slope or alpha) of LeakyReLU and ELU, by position i."""
    from ..layers import layer_numbers

    kinds, arrays = [], {}
    for i, (layer, l) in enumerate(zip(model.layers, layer_numbers(model.layers))):
        kind = type(layer).__name__
        if kind == "Dense":
            arrays[f"W[{l}]"], arrays[f"b[{l}]"] = layer.W, layer.b
        elif kind == "BatchNorm":
            arrays.update({f"gamma{i}": layer.gamma, f"beta{i}": layer.beta, f"mean{i}": layer.running_mean,
                           f"var{i}": layer.running_var, f"eps{i}": np.float64(layer.eps)})
        elif kind == "LeakyReLU":
            arrays[f"k{i}"] = np.float64(layer.negative_slope)
        elif kind == "ELU":
            arrays[f"k{i}"] = np.float64(layer.alpha)
        elif kind == "GELU" and layer.approximate == "tanh":
            kind = "GELU-tanh"
        kinds.append(kind)
    loss = model.default_loss()
    arrays.update(layers=np.array(kinds), numbers=np.array(layer_numbers(model.layers)),
                  dtype=np.array(str(model.dtype)), task=np.array(loss.task),
                  from_logits=np.array(bool(getattr(loss, "from_logits", True))))
    if model.classes_ is not None:  # the original labels of the output columns
        arrays["classes"] = np.asarray(model.classes_)
    if model.preprocessor is not None:
        arrays.update(offset=np.asarray(model.preprocessor.offset_), scale=np.asarray(model.preprocessor.scale_))
    return arrays


def to_python(model, directory):
    """Write predict.py and weights.npz into ``directory`` (made if missing); returns the
    path of predict.py."""
    from ..io.atomic import atomic_write

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"to_python: {directory} is a file; expected a directory to write predict.py into")
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_write(directory / "weights.npz", "wb") as f:
        np.savez(f, **weight_arrays(model))
    script = (Path(__file__).with_name("predict_script.py")).read_text(encoding="utf-8")
    with atomic_write(directory / "predict.py", "w") as f:
        f.write(script)
    return directory / "predict.py"


__all__ = ["to_python", "weight_arrays"]
