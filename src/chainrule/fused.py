"""Fused optimizer updates: the `fast` extra (``pip install "chainrule[fast]"``, which brings numba).

NumPy runs the Adam update of ``chainrule.optim`` as ten passes over the
parameters, one per operation. For large models those passes are bound by
memory traffic: the parameters, gradients and both moments no longer fit in
the cache. Compiled with numba, the same update is one pass, split over the
cores. It performs the same floating-point operations in the same order, in
the parameters' dtype, so it gives exactly the same numbers (the tests check
this bit for bit); ``chainrule.optim.Adam`` (and AdamW) use it by themselves for models from
``optim.FUSED_MIN_SIZE`` parameters on when numba is installed.
"""

from __future__ import annotations

import math
import os
import threading

_kernels = {}
_lock = threading.Lock()  # numba's workqueue threads take one parallel loop at a time

#: the loop of ``_adam``: plain ``range`` when it runs as Python; numba's parallel range once compiled
prange = range


def adam_kernel(required=False):
    """The compiled Adam update, or None if numba is not installed (an ImportError naming the
    extra if ``required``)."""
    if "adam" not in _kernels:
        try:
            import numba
        except ImportError:
            if required:
                raise ImportError('fused optimizer updates need numba: pip install "chainrule[fast]"') from None
            return None
        global prange
        prange = numba.prange
        if "NUMBA_THREADING_LAYER" not in os.environ:
            # numba's own thread pool: the OpenMP one keeps its threads spinning after each
            # update, and they then compete with the BLAS threads of the matrix products
            numba.config.THREADING_LAYER = "workqueue"
        _kernels["adam"] = numba.njit(parallel=True, cache=True)(_adam)
    return _kernels["adam"]


def run(kernel, *args):
    """kernel(*args), one call at a time across the threads of the process."""
    with _lock:
        kernel(*args)


def _adam(p, g, M, V, b1, b2, eps_c, k, l2, shrink, decoupled):
    """Adam in one pass, element by element; the operations of ``optim.Adam.update``, in its order:

    p <- shrink p (decoupled weight decay);  g <- l2 p + g (weight decay as L2)
    M <- b1 M + g;  V <- b2 V + g g;  p <- p - (M / (sqrt(V) + eps_c)) k

    The scalars arrive in p's dtype, so the arithmetic stays in it.
    """
    for i in prange(p.size):
        p_i = p[i]
        g_i = g[i]
        if decoupled:
            p_i = p_i * shrink
        elif l2 != 0:
            g_i = p_i * l2 + g_i
        m = M[i] * b1 + g_i
        v = V[i] * b2 + g_i * g_i
        M[i] = m
        V[i] = v
        p[i] = p_i - (m / (math.sqrt(v) + eps_c)) * k
