"""Optimizers: gradient descent and its modern variants.

``opt.step(model)`` updates every parameter of the model in place from the
gradients that ``model.backward`` filled. The model keeps all parameters in
one flat array ``model.params_`` (the layers' W and b are views into it) and
all gradients in ``model.grads_``, so each update below is a handful of
vectorised operations over every parameter at once. Below, p is that flat
parameter vector, g its gradient, t the step number (1, 2, ...).

The update rules and their defaults are PyTorch's, so that the same recipe
gives the same numbers in both.
"""

from __future__ import annotations

import math

import numpy as np


class Optimizer:
    #: names of the per-parameter state arrays, saved in checkpoints
    state_names: tuple[str, ...] = ()

    def __init__(self, lr, weight_decay=0.0, clipnorm=None):
        if isinstance(lr, bool) or not (isinstance(lr, (int, float, np.integer, np.floating))
                                        and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number; received {lr!r}")
        if weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0; received {weight_decay!r}")
        if clipnorm is not None and not clipnorm > 0:
            raise ValueError(f"{type(self).__name__}: clipnorm must be > 0 or None; received {clipnorm!r}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.clipnorm = clipnorm
        self.iterations = 0
        self.state = {}

    def step(self, model):
        """One update of every parameter of ``model`` from its current gradients."""
        p, g = model.params_, model.grads_
        if self.state and next(iter(self.state.values())).shape != p.shape:
            raise ValueError(f"{type(self).__name__} holds state for {next(iter(self.state.values())).size} "
                             f"parameters but the model has {p.size}; use one optimizer per model")
        if not self.state:
            self.state = {name: np.zeros_like(p) for name in self.state_names}
        if getattr(self, "_tmp", None) is None or self._tmp.shape != p.shape:
            self._tmp = np.empty_like(p)  # scratch space, so updates allocate nothing
        if self.clipnorm is not None:
            clip_by_global_norm(g, self.clipnorm)
        self.iterations += 1
        self.update(p, g, self.iterations)

    def update(self, p, g, t):
        raise NotImplementedError

    def _decayed(self, p, g):
        """g + weight_decay * p (L2 regularisation folded into the gradient), without touching g."""
        if not self.weight_decay:
            return g
        if getattr(self, "_g", None) is None or self._g.shape != p.shape:
            self._g = np.empty_like(p)
        np.multiply(p, self.weight_decay, out=self._g)
        self._g += g
        return self._g

    def get_config(self):
        return {"lr": self.lr, "weight_decay": self.weight_decay, "clipnorm": self.clipnorm}

    def load_state(self, lr, iterations, arrays):
        """Continue from a checkpoint: the learning rate, the step count and the state arrays."""
        self.lr, self.iterations = float(lr), int(iterations)
        self.state = {name: np.array(arrays[name]) for name in self.state_names} if iterations else {}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def clip_by_global_norm(g, max_norm):
    """Scale g in place so that ||g||_2 <= max_norm (PyTorch's clip_grad_norm_); return ||g|| before."""
    norm = float(np.sqrt(np.dot(g, g)))
    if norm > max_norm:
        g *= max_norm / (norm + 1e-6)
    return norm


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    g <- g + wd p;  v <- mu v + g;  p <- p - lr (g + mu v if nesterov else v)
    (v starts at 0; with momentum 0 this is plain p <- p - lr g).
    """

    def __init__(self, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1); received {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.state_names = ("velocity",) if momentum else ()

    def update(self, p, g, t):
        g = self._decayed(p, g)
        if not self.momentum:
            p -= self.lr * g
            return
        v = self.state["velocity"]
        v *= self.momentum
        v += g
        if self.nesterov:
            p -= self.lr * (g + self.momentum * v)
        else:
            p -= self.lr * v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """s <- s + g^2;  p <- p - lr g / (sqrt(s) + eps)."""

    state_names = ("sum_sq",)

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.eps = float(eps)

    def update(self, p, g, t):
        g = self._decayed(p, g)
        s = self.state["sum_sq"]
        s += g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}


class RMSProp(Optimizer):
    """s <- alpha s + (1 - alpha) g^2;  p <- p - lr g / (sqrt(s) + eps).

    With momentum: v <- mu v + g / (sqrt(s) + eps);  p <- p - lr v.
    """

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"RMSProp: alpha must be in [0, 1); received {alpha!r}")
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.state_names = ("mean_sq", "velocity") if momentum else ("mean_sq",)

    def update(self, p, g, t):
        g = self._decayed(p, g)
        s = self.state["mean_sq"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        step = g / (np.sqrt(s) + self.eps)
        if self.momentum:
            v = self.state["velocity"]
            v *= self.momentum
            v += step
            step = v
        p -= self.lr * step

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "eps": self.eps, "momentum": self.momentum}


class Adam(Optimizer):
    """Adam (Kingma and Ba), with bias correction::

        m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
        p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    ``weight_decay`` adds wd p to g first (L2, as torch.optim.Adam); use AdamW
    for decoupled weight decay.
    """

    state_names = ("m", "v")
    decoupled = False

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1); received {betas!r}")
        self.betas = (float(b1), float(b2))
        self.eps = float(eps)

    def update(self, p, g, t):
        b1, b2 = self.betas
        if self.decoupled:
            p *= 1 - self.lr * self.weight_decay
        else:
            g = self._decayed(p, g)
        m, v, tmp = self.state["m"], self.state["v"], self._tmp
        np.subtract(g, m, out=tmp)
        tmp *= 1 - b1
        m += tmp                                   # m = b1 m + (1 - b1) g, as m + (1 - b1)(g - m)
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - b2
        v += tmp                                   # v = b2 v + (1 - b2) g^2, likewise
        # lr/(1-b1^t) * m / (sqrt(v)/c + eps), c = sqrt(1-b2^t), is lr c/(1-b1^t) * m / (sqrt(v) + eps c):
        # the same step with two fewer passes over the parameters.
        c = math.sqrt(1 - b2**t)
        np.sqrt(v, out=tmp)
        tmp += self.eps * c
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr * c / (1 - b1**t)
        p -= tmp

    def get_config(self):
        return {**super().get_config(), "betas": list(self.betas), "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter):
    p <- p (1 - lr wd) first, then the Adam step on the plain gradient."""

    decoupled = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, clipnorm=None):
        super().__init__(lr, betas, eps, weight_decay, clipnorm)


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def get(optimizer):
    """An optimizer from an Optimizer object or a name with default settings ("adam", "sgd", ...)."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    raise ValueError(f"unknown optimizer {optimizer!r}; expected a chainrule Optimizer or one of {sorted(OPTIMIZERS)}")
