"""Flatten: images in, feature rows out."""

from __future__ import annotations

from .base import Layer


class Flatten(Layer):
    """(m, d1, d2, ...) -> (m, d1 * d2 * ...);  backward reshapes dA back.

    Caches the input shape.
    """

    cache_names = ("input_shape",)

    def forward(self, A_prev, training=False):
        self.input_shape = A_prev.shape
        return A_prev.reshape(A_prev.shape[0], -1)

    def backward(self, dA, need_input_grad=True):
        return dA.reshape(self.input_shape)
