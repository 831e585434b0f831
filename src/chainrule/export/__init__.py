"""Carrying a trained chainrule model to other tools: ONNX, a NumPy-only script, PyTorch.

    from chainrule.export import to_onnx, to_python, to_torch, from_torch

Each needs only its own tool, imported when called: ``to_onnx`` the onnx package
(``pip install "chainrule[onnx]"``), ``to_torch``/``from_torch`` PyTorch; ``to_python`` nothing.
"""

from .onnx import OPSET, to_onnx
from .python import to_python
from .torch import from_torch, to_torch

__all__ = ["to_onnx", "OPSET", "to_python", "to_torch", "from_torch"]
