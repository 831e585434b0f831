"""Optimizers: gradient descent and its modern variants.

``opt.step(model)`` updates every parameter of the model in place from the
gradients that ``model.backward`` filled. The model keeps all parameters in
one flat array ``model.params_`` (the layers' W and b are views into it) and
all gradients in ``model.grads_``, so each rule below is a handful of
vectorised operations over every parameter at once. Below, p is that flat
parameter vector (W and b), g its gradient (dW and db), lr the learning rate
alpha and t the step number (1, 2, ...). The simplest rule, gradient descent,
is ``p -= lr * g``: W := W - alpha dW.

Each ``update`` is the textbook rule; ``chainrule.optim_executor`` runs it,
on slices in parallel threads for large models, or Adam as one compiled pass
(numba, the `fast` extra). Every rule is elementwise, so both give exactly the
numbers of one plain pass. The rules write in place (``*=``, ``+=``,
``out=``) so that a step allocates little: on a model of millions of
parameters a fresh array per operation costs more than the arithmetic.

The update rules and their defaults are PyTorch's, so that the same recipe
gives the same numbers in both.
"""

from __future__ import annotations

import math

import numpy as np

from . import aligned, optim_executor
from .optim_executor import FUSED_MIN_SIZE  # noqa: F401  (reported by chainrule.benchmark)
from .validation import check_bool, check_fraction, check_non_negative, check_positive


class Optimizer:
    #: names of the per-parameter state arrays, saved in checkpoints
    state_names: tuple[str, ...] = ()
    #: work arrays ``update`` needs besides the state (by name, p's shape)
    scratch_names: tuple[str, ...] = ()
    #: whether weight decay shrinks p directly (AdamW) instead of adding wd p to g (L2)
    decoupled = False

    def __init__(self, lr, weight_decay=0.0, clipnorm=None):
        owner = type(self).__name__
        self.lr = check_positive(lr, "lr", owner)
        self.weight_decay = check_non_negative(weight_decay, "weight_decay", owner)
        self.clipnorm = None if clipnorm is None else check_positive(clipnorm, "clipnorm", owner)
        self.iterations = 0
        self.state = {}
        self._scratch = optim_executor.Scratch()

    def step(self, model):
        """One update of every parameter of ``model`` from its current gradients."""
        p, g = model.params_, model.grads_
        self._start_state(p)
        if self.clipnorm is not None:
            clip_by_global_norm(g, self.clipnorm)
        self.iterations += 1
        t = self.iterations
        if self.fused_update(p, g, t):
            return
        l2 = self.weight_decay and not self.decoupled
        scratch_names = self.scratch_names + (("decayed",) if l2 else ())

        def update(p, g, state, scratch):
            if l2:  # g + wd p: L2 regularisation folded into the gradient, without touching g
                decayed = np.multiply(p, self.weight_decay, out=scratch["decayed"])
                decayed += g
                g = decayed
            self.update(p, g, t, state, scratch)

        optim_executor.run(update, p, g, self.state, self._scratch, scratch_names)

    def update(self, p, g, t, state, scratch):
        """Update p in place from g at step t. ``state`` holds this optimizer's arrays by name,
        ``scratch`` the work arrays named in ``scratch_names``; all have p's shape."""
        raise NotImplementedError

    def fused_update(self, p, g, t):
        """The same update as one compiled pass, if this optimizer has one and it applies;
        returns whether it ran."""
        return False

    def _start_state(self, p):
        if not self.state:
            self.state = {name: aligned.zeros_like(p) for name in self.state_names}
            return
        size = next(iter(self.state.values())).size
        if size != p.size:
            raise ValueError(f"{type(self).__name__} holds state for {size} parameters but the model has "
                             f"{p.size}; use one optimizer per model")

    def get_config(self):
        return {"lr": self.lr, "weight_decay": self.weight_decay, "clipnorm": self.clipnorm}

    def load_state(self, lr, iterations, arrays):
        """Continue from a checkpoint: the learning rate, the step count and the state arrays."""
        self.lr, self.iterations = float(lr), int(iterations)
        missing = [name for name in self.state_names if name not in arrays]
        if iterations and missing:
            raise ValueError(f"{type(self).__name__}: the saved state has no {', '.join(missing)} "
                             f"(it holds {', '.join(sorted(arrays)) or 'nothing'})")
        self.state = {name: aligned.copy(arrays[name]) for name in self.state_names} if iterations else {}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def clip_by_global_norm(g, max_norm):
    """Scale g in place so that ||g||_2 <= max_norm (PyTorch's clip_grad_norm_); return ||g|| before."""
    norm = float(np.sqrt(np.dot(g, g)))
    if norm > max_norm:
        g *= max_norm / (norm + 1e-6)
    return norm


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum mu::

        v <- mu v + g;  p <- p - lr v             (Nesterov: p <- p - lr (g + mu v))

    v starts at 0; with momentum 0 this is plain p <- p - lr g.
    ``weight_decay`` adds wd p to g first (L2), here and in every optimizer but AdamW.
    """

    def __init__(self, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.momentum = check_fraction(momentum, "momentum", "SGD")
        self.nesterov = check_bool(nesterov, "nesterov", "SGD")
        if self.nesterov and not self.momentum:
            check_positive(self.momentum, "momentum (with nesterov=True)", "SGD")
        self.state_names = ("velocity",) if self.momentum else ()

    def update(self, p, g, t, state, scratch):
        if not self.momentum:
            p -= self.lr * g                                 # W := W - alpha dW
            return
        v = state["velocity"]
        v *= self.momentum
        v += g
        p -= self.lr * (g + self.momentum * v if self.nesterov else v)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """s <- s + g^2;  p <- p - lr g / (sqrt(s) + eps)."""

    state_names = ("sum_sq",)

    def __init__(self, lr=0.01, eps=1e-10, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.eps = check_positive(eps, "eps", "Adagrad")

    def update(self, p, g, t, state, scratch):
        s = state["sum_sq"]
        s += g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)

    def get_config(self):
        return {**super().get_config(), "eps": self.eps}


class RMSProp(Optimizer):
    """s <- alpha s + (1 - alpha) g^2;  p <- p - lr g / (sqrt(s) + eps).

    With momentum mu: v <- mu v + g / (sqrt(s) + eps);  p <- p - lr v.
    """

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0, clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm)
        self.alpha = check_fraction(alpha, "alpha", "RMSProp")
        self.eps = check_positive(eps, "eps", "RMSProp")
        self.momentum = check_fraction(momentum, "momentum", "RMSProp")
        self.state_names = ("mean_sq", "velocity") if self.momentum else ("mean_sq",)

    def update(self, p, g, t, state, scratch):
        s = state["mean_sq"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        step = g / (np.sqrt(s) + self.eps)
        if self.momentum:
            v = state["velocity"]
            v *= self.momentum
            v += step
            step = v
        p -= self.lr * step

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "eps": self.eps, "momentum": self.momentum}


class Adam(Optimizer):
    """Adam (Kingma and Ba), with bias correction::

        m <- b1 m + (1 - b1) g              m_hat = m / (1 - b1^t)
        v <- b2 v + (1 - b2) g^2            v_hat = v / (1 - b2^t)
        p <- p - lr m_hat / (sqrt(v_hat) + eps)

    ``weight_decay`` adds wd p to g first (L2, as torch.optim.Adam); use AdamW
    for decoupled weight decay.

    The state keeps the moments divided by their first weights,
    ``m_scaled = m / (1 - b1)`` and ``v_scaled = v / (1 - b2)``: they update as
    m_scaled <- b1 m_scaled + g, without the multiplication by (1 - b1), and the
    constants return once, in the step's scalar factor. That saves two of the
    ten passes over the parameters; the numbers are the textbook's to rounding.
    ``fused``: None runs the update as one compiled pass (the `fast` extra, the
    same numbers) for models from optim_executor.FUSED_MIN_SIZE parameters on
    when numba is installed; True always (an error if numba is missing); False never.
    """

    state_names = ("m_scaled", "v_scaled")
    scratch_names = ("tmp",)

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clipnorm=None, fused=None):
        super().__init__(lr, weight_decay, clipnorm)
        owner = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair (beta1, beta2); received {betas!r}")
        self.betas = (check_fraction(betas[0], "betas[0]", owner), check_fraction(betas[1], "betas[1]", owner))
        self.eps = check_positive(eps, "eps", owner)
        self.fused = None if fused is None else check_bool(fused, "fused", owner)

    def update(self, p, g, t, state, scratch):
        b1, b2 = self.betas
        m_scaled, v_scaled, tmp = state["m_scaled"], state["v_scaled"], scratch["tmp"]
        if self.decoupled:
            p *= 1 - self.lr * self.weight_decay             # AdamW: p <- p - lr wd p
        m_scaled *= b1
        m_scaled += g                                        # m <- b1 m + (1 - b1) g
        v_scaled *= b2
        v_scaled += np.multiply(g, g, out=tmp)               # v <- b2 v + (1 - b2) g^2
        eps_c, k = self._constants(t)
        step = np.sqrt(v_scaled, out=tmp)
        step += eps_c
        np.divide(m_scaled, step, out=step)
        step *= k
        p -= step                                            # p <- p - lr m_hat / (sqrt(v_hat) + eps)

    def _constants(self, t):
        """(eps c, k) such that lr m_hat / (sqrt(v_hat) + eps) = k m_scaled / (sqrt(v_scaled) + eps c).

        With m = (1 - b1) m_scaled, v = (1 - b2) v_scaled and c = sqrt(1 - b2^t) / sqrt(1 - b2),
        sqrt(v_hat) = sqrt(v_scaled) / c, so k = lr (1 - b1) c / (1 - b1^t).
        """
        b1, b2 = self.betas
        c = math.sqrt(1 - b2**t) / math.sqrt(1 - b2)
        return self.eps * c, self.lr * (1 - b1) * c / (1 - b1**t)

    def fused_update(self, p, g, t):
        kernel = optim_executor.fused_adam_kernel(self.fused, p.size)
        if kernel is None:
            return False
        eps_c, k = self._constants(t)
        b1, b2 = self.betas
        dtype = p.dtype.type  # scalars in p's dtype, as NumPy casts them in update()
        optim_executor.run_fused_adam(kernel, p, g, self.state["m_scaled"], self.state["v_scaled"],
                                      dtype(b1), dtype(b2), dtype(eps_c), dtype(k), dtype(self.weight_decay),
                                      dtype(1 - self.lr * self.weight_decay), self.decoupled)
        return True

    def get_config(self):
        return {**super().get_config(), "betas": list(self.betas), "eps": self.eps, "fused": self.fused}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter):
    p <- p (1 - lr wd) first, then the Adam step on the plain gradient."""

    decoupled = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, clipnorm=None, fused=None):
        super().__init__(lr, betas, eps, weight_decay, clipnorm, fused)


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSProp, "adam": Adam, "adamw": AdamW}


def get(optimizer):
    """An optimizer from an Optimizer object or a name with default settings ("adam", "sgd", ...)."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    raise ValueError(f"unknown optimizer {optimizer!r}; expected a chainrule Optimizer or one of {sorted(OPTIMIZERS)}")
