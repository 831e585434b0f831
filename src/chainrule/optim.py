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
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import fused
from .validation import is_positive_number

#: from this many parameters on, the elementwise update runs on slices in parallel threads
#: (NumPy releases the GIL in its loops); below it, threads cost more than they save
PARALLEL_MIN_SIZE = 1 << 20

#: the slice length: a slice of every array an update touches fits in a core's cache together
PART_SIZE = 1 << 17

#: from this many parameters on, Adam runs as one compiled pass when numba is installed
#: (``chainrule.fused``, the `fast` extra): there NumPy's passes are bound by memory traffic and
#: the fused one is about twice as fast; below it, the gain is smaller than the cost of loading
#: numba (about 100 MiB, mostly its compiler's code)
FUSED_MIN_SIZE = 1 << 20


def _parts(size):
    """Slices of ``size`` elements for the worker threads to take in turn (one slice if small)."""
    if size < PARALLEL_MIN_SIZE or (os.cpu_count() or 1) == 1:
        return [slice(0, size)]
    return [slice(start, min(start + PART_SIZE, size)) for start in range(0, size, PART_SIZE)]


_pool = None


def _threads():
    return min(os.cpu_count() or 1, 4)


def _run_parallel(fn, parts):
    """fn(part, i) for every part, i the number of the thread that runs it: the calling thread
    (0) and the pool's workers (1, 2, ...) take the parts in turn."""
    global _pool
    threads = _threads()
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="chainrule-optim")
    queue = iter(parts)  # shared: next() on a list iterator is atomic under the GIL

    def work(i):
        for part in queue:
            fn(part, i)

    helpers = [_pool.submit(work, i) for i in range(1, threads)]
    work(0)
    for future in helpers:
        future.result()


class Optimizer:
    #: names of the per-parameter state arrays, saved in checkpoints
    state_names: tuple[str, ...] = ()

    def __init__(self, lr, weight_decay=0.0, clipnorm=None):
        if not is_positive_number(lr):
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
        if self.clipnorm is not None:
            clip_by_global_norm(g, self.clipnorm)
        self.iterations += 1
        t = self.iterations
        if self.fused_update(p, g, t):
            return
        parts = _parts(p.size)
        # scratch space, so that updates allocate nothing: one slice's worth per thread
        shape = (1, p.size) if len(parts) == 1 else (_threads(), PART_SIZE)
        scratch = getattr(self, "_scratch", None)
        if (scratch is None or scratch["tmp"].shape != shape or scratch["tmp"].dtype != p.dtype
                or (self.weight_decay and scratch["decayed"] is None)):
            self._scratch = {"tmp": np.empty(shape, p.dtype),
                             "decayed": np.empty(shape, p.dtype) if self.weight_decay else None}

        def update_part(s, i):
            n = s.stop - s.start
            arrays = {name: a[s] for name, a in self.state.items()}
            arrays.update({name: None if a is None else a[i, :n] for name, a in self._scratch.items()})
            self.update(p[s], g[s], t, arrays)

        if len(parts) == 1:
            update_part(parts[0], 0)
        else:  # every rule is elementwise, so slices give exactly the same numbers
            _run_parallel(update_part, parts)

    def update(self, p, g, t, s):
        """Update p in place from g at step t; ``s`` holds the state arrays by name and the
        scratch arrays "tmp" and "decayed", all of p's shape."""
        raise NotImplementedError

    def fused_update(self, p, g, t):
        """The same update as one compiled pass (``chainrule.fused``), if this optimizer has one
        and it applies; returns whether it ran."""
        return False

    def _decayed(self, p, g, s):
        """g + weight_decay * p (L2 regularisation folded into the gradient), without touching g."""
        if not self.weight_decay:
            return g
        out = s["decayed"]
        np.multiply(p, self.weight_decay, out=out)
        out += g
        return out

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

    def update(self, p, g, t, s):
        g = self._decayed(p, g, s)
        if not self.momentum:
            p -= self.lr * g
            return
        v = s["velocity"]
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

    def update(self, p, g, t, s):
        g = self._decayed(p, g, s)
        sum_sq = s["sum_sq"]
        sum_sq += g * g
        p -= self.lr * g / (np.sqrt(sum_sq) + self.eps)

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

    def update(self, p, g, t, s):
        g = self._decayed(p, g, s)
        mean_sq = s["mean_sq"]
        mean_sq *= self.alpha
        mean_sq += (1 - self.alpha) * g * g
        step = g / (np.sqrt(mean_sq) + self.eps)
        if self.momentum:
            v = s["velocity"]
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

    To save passes over the parameters, the state keeps the moments divided by
    their first weights, M = m / (1 - b1) and V = v / (1 - b2), which update as
    M <- b1 M + g and V <- b2 V + g^2; the constants return in the step. The
    numbers are the same as the textbook form's (to rounding).
    """

    state_names = ("m", "v")  # hold M = m / (1 - b1) and V = v / (1 - b2), see above
    decoupled = False

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clipnorm=None, fused=None):
        super().__init__(lr, weight_decay, clipnorm)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1); received {betas!r}")
        if fused not in (None, True, False):
            raise ValueError(f"{type(self).__name__}: fused must be None (automatic), True or False; "
                             f"received {fused!r}")
        self.betas = (float(b1), float(b2))
        self.eps = float(eps)
        self.fused = fused

    def update(self, p, g, t, s):
        b1, b2 = self.betas
        if self.decoupled:
            p *= 1 - self.lr * self.weight_decay
        else:
            g = self._decayed(p, g, s)
        M, V, tmp = s["m"], s["v"], s["tmp"]
        M *= b1
        M += g                                     # M = m / (1 - b1)
        V *= b2
        np.multiply(g, g, out=tmp)
        V += tmp                                   # V = v / (1 - b2)
        # lr/(1-b1^t) m / (sqrt(v)/c + eps) with c = sqrt(1-b2^t), m = (1-b1) M, v = (1-b2) V
        # is  lr (1-b1) c / ((1-b1^t) sqrt(1-b2)) * M / (sqrt(V) + eps c / sqrt(1-b2))
        c = math.sqrt(1 - b2**t) / math.sqrt(1 - b2)
        np.sqrt(V, out=tmp)
        tmp += self.eps * c
        np.divide(M, tmp, out=tmp)
        tmp *= self.lr * (1 - b1) * c / (1 - b1**t)
        p -= tmp

    def fused_update(self, p, g, t):
        """The update above as one compiled pass (the `fast` extra; the same numbers). ``fused``:
        None uses it for models from FUSED_MIN_SIZE parameters on when numba is installed,
        True always (an error if numba is missing), False never."""
        if self.fused is False or (self.fused is None and p.size < FUSED_MIN_SIZE):
            return False
        kernel = fused.adam_kernel(required=self.fused is True)
        if kernel is None:
            return False
        b1, b2 = self.betas
        c = math.sqrt(1 - b2**t) / math.sqrt(1 - b2)
        k = self.lr * (1 - b1) * c / (1 - b1**t)
        dtype = p.dtype.type  # scalars in p's dtype, as NumPy casts them in update()
        fused.run(kernel, p, g, self.state["m"], self.state["v"], dtype(b1), dtype(b2), dtype(self.eps * c),
                  dtype(k), dtype(self.weight_decay), dtype(1 - self.lr * self.weight_decay), self.decoupled)
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
