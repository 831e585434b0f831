"""Inverted dropout."""

from __future__ import annotations

from ..init import as_generator
from ..validation import check_fraction
from .base import Layer


class Dropout(Layer):
    """Zero each unit with probability p while training, scale the rest by 1/(1-p).

    Training::   mask = [u >= p] / (1 - p), u ~ U(0, 1);   A = A_prev * mask
    Backward::   dA_prev = dA * mask
    Evaluation:  A = A_prev (the identity), so nothing changes at test time.

    Shapes: any, unchanged. The mask is drawn from the layer's own Generator,
    which the model hands it (so a seed fixes every mask).
    """

    cache_names = ("mask",)

    def __init__(self, p=0.5):
        super().__init__()
        self.p = check_fraction(p, "p", "Dropout")

    def build(self, rng=None, dtype="float32"):
        self.rng = as_generator(rng)
        return super().build(rng, dtype)

    def forward(self, A_prev, training=False):
        if not training or self.p == 0.0:
            self.mask = None
            return A_prev
        if not hasattr(self, "rng"):
            self.rng = as_generator(None)
        keep = self.rng.random(A_prev.shape, dtype=A_prev.dtype) >= self.p
        self.mask = keep.astype(A_prev.dtype) / A_prev.dtype.type(1.0 - self.p)
        return A_prev * self.mask

    def backward(self, dA, need_input_grad=True):
        return dA if self.mask is None else dA * self.mask

    def get_config(self):
        return {"p": self.p}
