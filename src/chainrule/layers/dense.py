"""The fully connected (dense) layer: the W[l], b[l] of the tutorial."""

from __future__ import annotations

import numpy as np

from .. import init as initializers
from ..validation import check_int, check_non_negative
from .base import Layer


class Dense(Layer):
    """A fully connected layer.

    Forward::

        Z = A_prev @ W + b          (m, n_in) @ (n_in, n_out) + (n_out,) -> (m, n_out)

    Backward, given dZ = dCost/dZ of shape (m, n_out)::

        dW      = A_prev.T @ dZ     (n_in, n_out)
        db      = sum_i dZ[i]       (n_out,)
        dA_prev = dZ @ W.T          (m, n_in)

    Caches ``A_prev`` for backward. ``W`` starts from ``init`` (default
    "he_uniform", right for the ReLU family; "glorot_uniform" suits tanh and
    sigmoid) and ``b`` from ``bias_init`` (default zeros).

    Regularisation: ``l2`` adds l2 * sum(W^2) to the cost (and 2 l2 W to dW),
    ``l1`` adds l1 * sum(|W|) (and l1 sign(W) to dW).
    """

    param_names = ("W", "b")
    cache_names = ("A_prev",)

    def __init__(self, n_in, n_out, init="he_uniform", bias_init="zeros", l1=0.0, l2=0.0):
        super().__init__()
        self.n_in = check_int(n_in, "n_in", "Dense", low=1)
        self.n_out = check_int(n_out, "n_out", "Dense", low=1)
        self.init = init
        self.bias_init = bias_init
        initializers.get(init), initializers.get(bias_init)  # fail now on a bad name
        self.l1 = check_non_negative(l1, "l1", "Dense")
        self.l2 = check_non_negative(l2, "l2", "Dense")

    def init_params(self, rng, dtype):
        return {
            "W": initializers.get(self.init)((self.n_in, self.n_out), rng, dtype),
            "b": initializers.get(self.bias_init)((self.n_out,), rng, dtype),
        }

    def input_size(self):
        return self.n_in

    def output_size(self, n_in):
        return self.n_out

    def forward(self, A_prev, training=False):
        self.A_prev = A_prev
        Z = A_prev @ self.W
        Z += self.b
        return Z

    def backward(self, dZ, need_input_grad=True):
        np.matmul(self.A_prev.T, dZ, out=self.dW)
        np.sum(dZ, axis=0, out=self.db)
        if self.l2:
            self.dW += (2 * self.l2) * self.W
        if self.l1:
            self.dW += self.l1 * np.sign(self.W)
        return dZ @ self.W.T if need_input_grad else None

    def penalty(self):
        total = 0.0
        if self.l2:  # sum(W^2) as one dot product of W with itself: no temporary array
            w = self.W.reshape(-1)
            total += self.l2 * float(np.dot(w, w))
        if self.l1:
            total += self.l1 * float(np.sum(np.abs(self.W)))
        return total

    def get_config(self):
        return {"n_in": self.n_in, "n_out": self.n_out, "init": self.init,
                "bias_init": self.bias_init, "l1": self.l1, "l2": self.l2}
