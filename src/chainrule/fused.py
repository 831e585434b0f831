"""Fused optimizer updates: the `fast` extra (``pip install "chainrule[fast]"``, which brings numba).

NumPy runs the Adam update of ``chainrule.optim`` as ten passes over the
parameters, one per operation. For large models those passes are bound by
memory traffic: the parameters, gradients and both moments no longer fit in
the cache. Compiled with numba, the same update is one pass. It performs the
same floating-point operations in the same order, in the parameters' dtype,
so it gives exactly the same numbers (the tests check this bit for bit);
``chainrule.optim.Adam`` (and AdamW) use it by themselves for models from
``optim_executor.FUSED_MIN_SIZE`` parameters on when numba is installed.

The kernel is compiled serial and without the GIL (``nogil=True``): the
optimizer executor (``chainrule.optim_executor``) runs it on slices in its own
threads, as it runs the NumPy update. So numba's threading layer is never
started and none of numba's settings is changed.
"""

from __future__ import annotations

import math

_kernels = {}


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
        # error_model="numpy": x / 0 gives inf or nan, as in NumPy, instead of raising; without
        # that test in the loop, LLVM vectorises it (about twice as fast)
        _kernels["adam"] = numba.njit(nogil=True, error_model="numpy", cache=True)(adam)
    return _kernels["adam"]


def adam(p, g, m_scaled, v_scaled, b1, b2, eps_c, k, l2, shrink, decoupled):
    """Adam in one pass, element by element; the operations of ``optim.Adam.update``, in its order:

    p <- shrink p (decoupled weight decay);  g <- l2 p + g (weight decay as L2)
    m_scaled <- b1 m_scaled + g;  v_scaled <- b2 v_scaled + g g
    p <- p - (m_scaled / (sqrt(v_scaled) + eps_c)) k

    The scalars arrive in p's dtype, so the arithmetic stays in it.
    """
    for i in range(p.size):
        p_i = p[i]
        g_i = g[i]
        if decoupled:
            p_i = p_i * shrink
        elif l2 != 0:
            g_i = p_i * l2 + g_i
        m = m_scaled[i] * b1 + g_i
        v = v_scaled[i] * b2 + g_i * g_i
        m_scaled[i] = m
        v_scaled[i] = v
        p[i] = p_i - (m / (math.sqrt(v) + eps_c)) * k
