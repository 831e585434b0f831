"""Activation layers: A = g(Z) elementwise, and dZ = dA * g'(Z) backward.

Shapes: any input shape, output of the same shape. The math of each g and g'
lives in ``chainrule.functional``; these classes only cache what backward needs
(Z, or the output A where g' is cheaper from it).
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..validation import check_number, check_one_of
from .base import Layer


class Activation(Layer):
    """An activation layer, A = g(Z). For the elementwise ones dZ = dA * g'(Z), with g'
    written out in ``g_prime``; ``backward_equation`` is what explain prints for dZ."""

    g_prime = None

    @property
    def backward_equation(self):
        return f"dZ = dA * g'(Z),  g'(Z) = {self.g_prime}"


class Identity(Activation):
    """A = Z;  dZ = dA."""

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "1"

    def forward(self, Z, training=False):
        return Z

    def backward(self, dA, need_input_grad=True):
        return dA


class Sigmoid(Activation):
    """A = 1 / (1 + e^-Z);  dZ = dA * A (1 - A).  Caches A."""

    cache_names = ("A",)

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "A (1 - A)"

    def forward(self, Z, training=False):
        self.A = F.sigmoid(Z)
        return self.A

    def backward(self, dA, need_input_grad=True):
        return dA * F.sigmoid_grad_from_output(self.A)


class Tanh(Activation):
    """A = tanh(Z);  dZ = dA * (1 - A^2).  Caches A."""

    cache_names = ("A",)

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "1 - A^2"

    def forward(self, Z, training=False):
        self.A = F.tanh(Z)
        return self.A

    def backward(self, dA, need_input_grad=True):
        return dA * F.tanh_grad_from_output(self.A)


class ReLU(Activation):
    """A = max(Z, 0);  dZ = dA * [Z > 0], where [Z > 0] = [A > 0].  Caches A."""

    cache_names = ("A",)

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "[Z > 0]"

    def forward(self, Z, training=False):
        self.A = F.relu(Z)
        return self.A

    def backward(self, dA, need_input_grad=True):
        dZ = F.relu_grad_from_output(self.A)  # a new array: the product goes into it, one allocation fewer
        return np.multiply(dA, dZ, out=dZ)


class LeakyReLU(Activation):
    """A = Z where Z > 0 else negative_slope Z;  dZ = dA * (1 or negative_slope)."""

    cache_names = ("Z",)

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "1 if Z > 0 else negative_slope"

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_number(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, Z, training=False):
        self.Z = Z
        return F.leaky_relu(Z, self.negative_slope)

    def backward(self, dA, need_input_grad=True):
        return dA * F.leaky_relu_grad(self.Z, self.negative_slope)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class ELU(Activation):
    """A = Z where Z > 0 else alpha (e^Z - 1);  dZ = dA * (1 or alpha e^Z).

    alpha may be any finite number, as in PyTorch (alpha > 0 is the usual choice).
    """

    cache_names = ("Z",)

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "1 if Z > 0 else alpha e^Z"

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_number(alpha, "alpha", "ELU")

    def forward(self, Z, training=False):
        self.Z = Z
        return F.elu(Z, self.alpha)

    def backward(self, dA, need_input_grad=True):
        return dA * F.elu_grad(self.Z, self.alpha)

    def get_config(self):
        return {"alpha": self.alpha}


class GELU(Activation):
    """A = Z Phi(Z) (Phi the normal CDF);  dZ = dA * (Phi(Z) + Z phi(Z)).  Caches Z and Phi(Z).

    ``approximate="tanh"`` is PyTorch's tanh approximation, faster here.
    """

    cache_names = ("Z", "cdf")

    #: g'(Z), as explain prints it: dZ = dA * g'(Z)
    g_prime = "Phi(Z) + Z phi(Z)"

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = check_one_of(approximate, "approximate", "GELU", ("none", "tanh"))

    def forward(self, Z, training=False):
        self.Z = Z
        self.cdf = F.gelu_cdf(Z, self.approximate)
        return F.gelu(Z, self.approximate, cdf=self.cdf)

    def backward(self, dA, need_input_grad=True):
        return dA * F.gelu_grad(self.Z, self.approximate, cdf=self.cdf)

    def get_config(self):
        return {"approximate": self.approximate}


class Softmax(Activation):
    """A_ij = e^{Z_ij} / sum_k e^{Z_ik} along the last axis;
    dZ = A * (dA - sum_k dA_k A_k).  Caches A.

    For classification prefer raw logits with ``CrossEntropy(from_logits=True)``:
    the fused gradient (P - Y) / m is cheaper and more accurate.
    """

    cache_names = ("A",)

    #: not elementwise, so no g'(Z): explain prints this equation for dZ instead
    backward_equation = "dZ = A * (dA - rowsum(dA * A))"

    def forward(self, Z, training=False):
        self.A = F.softmax(Z)
        return self.A

    def backward(self, dA, need_input_grad=True):
        return F.softmax_backward(self.A, dA)
