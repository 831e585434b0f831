"""Batch normalisation over the features of a (m, n) batch."""

from __future__ import annotations

import numpy as np

from ..validation import check_fraction, check_int, check_positive
from .base import Layer


class BatchNorm(Layer):
    """Normalise each feature by the batch's statistics, then scale and shift.

    Training, on a batch X of shape (m, n)::

        mu    = mean_i X[i]              (n,)
        var   = mean_i (X[i] - mu)^2     (n,)   (biased, as PyTorch uses in the forward)
        X_hat = (X - mu) / sqrt(var + eps)
        A     = gamma * X_hat + beta      (m, n)

    and the running statistics move towards the batch's (PyTorch's convention,
    the running variance being the unbiased one)::

        running_mean = (1 - momentum) running_mean + momentum mu
        running_var  = (1 - momentum) running_var  + momentum var * m / (m - 1)

    Evaluation uses running_mean and running_var in place of mu and var.

    Backward, given dA (m, n), with dX_hat = dA * gamma::

        dgamma = sum_i dA[i] * X_hat[i]
        dbeta  = sum_i dA[i]
        dX     = (m dX_hat - sum_i dX_hat[i] - X_hat * sum_i dX_hat[i] X_hat[i]) / (m sqrt(var + eps))

    Caches X_hat, 1 / sqrt(var + eps), whether it was training, and m (in training).

    With data-parallel training, ``stats_reducer`` (set by chainrule.distributed for the length of
    fit) makes m, mu, var and the two sums of the backward run over every rank's rows, as PyTorch's
    SyncBatchNorm does, so that the result does not depend on the number of ranks.
    """

    param_names = ("gamma", "beta")
    state_names = ("running_mean", "running_var")
    cache_names = ("training", "inv_std", "X_hat", "m")
    stats_reducer = None

    def __init__(self, features, momentum=0.1, eps=1e-5):
        super().__init__()
        self.features = check_int(features, "features", "BatchNorm", low=1)
        self.momentum = check_fraction(momentum, "momentum", "BatchNorm", include_one=True)
        self.eps = check_positive(eps, "eps", "BatchNorm")

    def init_params(self, rng, dtype):
        return {"gamma": np.ones(self.features, dtype), "beta": np.zeros(self.features, dtype)}

    def init_state(self, dtype):
        return {"running_mean": np.zeros(self.features, dtype), "running_var": np.ones(self.features, dtype)}

    def input_size(self):
        return self.features

    def forward(self, X, training=False):
        if training:
            m = X.shape[0] if self.stats_reducer is None else self.stats_reducer.rows(X)
            if m < 2:
                raise ValueError(f"BatchNorm needs at least 2 rows per batch in training; received {m}")
            mu, var = (X.mean(axis=0), X.var(axis=0)) if self.stats_reducer is None else self.stats_reducer.moments(X, m)
            self.m = m
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * mu
            self.running_var *= 1 - self.momentum
            self.running_var += (self.momentum * m / (m - 1)) * var
        else:
            mu, var = self.running_mean, self.running_var
        self.training = training
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.X_hat = (X - mu) * self.inv_std
        return self.gamma * self.X_hat + self.beta

    def backward(self, dA, need_input_grad=True):
        np.sum(dA * self.X_hat, axis=0, out=self.dgamma)
        np.sum(dA, axis=0, out=self.dbeta)
        if not need_input_grad:
            return None
        dX_hat = dA * self.gamma
        if not self.training:  # the statistics were constants
            return dX_hat * self.inv_std
        m = self.m
        sums = np.stack([dX_hat.sum(axis=0), np.sum(dX_hat * self.X_hat, axis=0)])
        if self.stats_reducer is not None:
            self.stats_reducer.sum(sums)  # over every rank's rows
        return (m * dX_hat - sums[0] - self.X_hat * sums[1]) * (self.inv_std / m)

    def get_config(self):
        return {"features": self.features, "momentum": self.momentum, "eps": self.eps}
