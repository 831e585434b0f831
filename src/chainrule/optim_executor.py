"""How the optimizers' updates run fast; ``chainrule.optim`` holds what they compute.

Every update rule is elementwise: parameter i changes from its own gradient
and state only. So an update may run on slices of the flat arrays, in any
order and in parallel threads, and give exactly the numbers of one pass over
the whole arrays. This module does that:

- ``run(update, p, g, state, scratch_names)`` calls ``update`` on slices,
  in a thread pool for large models (NumPy releases the GIL in its loops),
  with scratch arrays per thread so that an update allocates nothing;
- ``run_fused_adam(...)`` runs Adam as one compiled pass (``chainrule.fused``,
  the `fast` extra, numba), on the same threads.

The pool starts when first needed, with one thread per CPU this process may
use (at most MAX_THREADS), and shuts down when the interpreter exits. Nothing
here changes NumPy's, numba's or any other process-wide setting.
"""

from __future__ import annotations

import atexit
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from . import aligned, fused

#: from this many parameters on, the update runs on slices in parallel threads;
#: below it, threads cost more than they save
PARALLEL_MIN_SIZE = 1 << 20

#: the slice length: a slice of every array an update touches fits in a core's cache together
PART_SIZE = 1 << 17

#: from this many parameters on, Adam runs as one compiled pass when numba is installed: there
#: NumPy's passes are bound by memory traffic and the fused one is about twice as fast; below it,
#: the gain is smaller than the cost of loading numba (about 100 MiB, mostly its compiler's code)
FUSED_MIN_SIZE = 1 << 20

#: more threads than this gain nothing: the update is bound by memory bandwidth
MAX_THREADS = 4


def usable_cpus():
    """The CPUs this process may run on (its affinity mask, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads():
    return min(usable_cpus(), MAX_THREADS)


def parts(size):
    """Slices of ``size`` elements for the threads to take in turn (one slice if small)."""
    if size < PARALLEL_MIN_SIZE or threads() == 1:
        return [slice(0, size)]
    return [slice(start, min(start + PART_SIZE, size)) for start in range(0, size, PART_SIZE)]


class Scratch:
    """Work arrays of one optimizer, by name: one row per thread, reused from step to step."""

    def __init__(self):
        self.arrays = {}

    def rows(self, names, shape, dtype):
        if any(name not in self.arrays or self.arrays[name].shape != shape or self.arrays[name].dtype != dtype
               for name in names):
            self.arrays = {name: aligned.empty(shape, dtype) for name in names}
        return self.arrays


def run(update, p, g, state, scratch, scratch_names=()):
    """update(p[s], g[s], {name: a[s] for state}, {name: work array of s's length}) for slices s
    covering p, in threads for large p. ``scratch`` (a Scratch) keeps the work arrays."""
    slices = parts(p.size)
    shape = (1, p.size) if len(slices) == 1 else (threads(), PART_SIZE)
    work = scratch.rows(scratch_names, shape, p.dtype)

    def update_part(s, i):
        n = s.stop - s.start
        update(p[s], g[s], {name: a[s] for name, a in state.items()}, {name: a[i, :n] for name, a in work.items()})

    _run_parts(update_part, slices)


def fused_adam_kernel(flag, size):
    """The compiled Adam pass to use for ``size`` parameters, or None for NumPy's. ``flag`` is
    Adam's ``fused``: None from FUSED_MIN_SIZE on if numba is installed, True always, False never."""
    if flag is False or (flag is None and size < FUSED_MIN_SIZE):
        return None
    return fused.adam_kernel(required=flag is True)


def run_fused_adam(kernel, p, g, m_scaled, v_scaled, *scalars):
    """The compiled Adam pass of ``chainrule.fused``, on one slice per thread for large p
    (a single pass reads each element once, so its slices need not fit a cache)."""
    n = 1 if len(parts(p.size)) == 1 else threads()
    chunks = [slice(p.size * i // n, p.size * (i + 1) // n) for i in range(n)]
    _run_parts(lambda s, i: kernel(p[s], g[s], m_scaled[s], v_scaled[s], *scalars), chunks)


def _run_parts(fn, slices):
    """fn(slice, i) for every slice, i the number of the thread that runs it: the calling thread
    (0) and the pool's workers (1, 2, ...) take the slices in turn."""
    if len(slices) == 1:
        fn(slices[0], 0)
        return
    n = threads()
    queue = iter(slices)  # shared: next() on a list iterator is atomic under the GIL

    def work(i):
        for s in queue:
            fn(s, i)

    pool = _pool(n - 1)
    helpers = [pool.submit(work, i) for i in range(1, n)]
    work(0)
    for future in helpers:
        future.result()


_workers = None
_workers_lock = threading.Lock()


def _pool(size):
    """The worker threads, started at the first parallel update and stopped at exit."""
    global _workers
    with _workers_lock:
        if _workers is None:
            _workers = ThreadPoolExecutor(max_workers=size, thread_name_prefix="chainrule-optim")
            atexit.register(_shutdown)
        return _workers


def _shutdown():
    global _workers
    with _workers_lock:
        if _workers is not None:
            _workers.shutdown(wait=True)
            _workers = None
