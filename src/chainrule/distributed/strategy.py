"""DataParallel: the training loop's strategy hooks (see training.loop.OneProcess) over MPI.

On a global batch of B rows, rank r of N computes its contiguous share of b_r rows. Its loss is
the mean over those b_r rows, so dA[L] = dC_r/dA[L] carries a factor 1/b_r where the single
process has 1/B. Scaling dA[L] by N b_r / B gives every rank N times its part of the global
gradient (in BatchNorm's backward too, whose sums then add up across ranks), so

    dW = (1/N) sum_r dW_r        (one Allreduce of model.grads_, then a division by N)

is the single process's gradient, the layers' penalties (added in full on every rank) included.

The update is sharded (``shard_update=True``, the default): every optimizer's rule is elementwise
(chainrule.optim), so rank r needs only its slice s_r of the summed gradient. The Allreduce is
split into its two halves: a reduce-scatter gives rank r the sum g[s_r], rank r applies the
optimizer to its slice p[s_r] (with the slice of every state array), and an Allgather puts the
updated slices of p together on every rank. That is the traffic of one ring Allreduce (2 (N - 1)/N
x the gradient's bytes), each rank doing 1/N of the update, and the numbers of the whole update
(on 2 ranks to the bit; on more, MPI may add the ranks' terms in another order).
Gradient clipping needs ||g|| over all of g: with ``clipnorm``, the slices of g are gathered
first (one more Allgather) and the whole g is clipped, as the whole update would. The state
arrays stay full-size on every rank, but only a rank's own slice is current; ``end_epoch``
gathers the slices of the state and of g, so what every rank holds (the checkpoint rank 0 writes,
the diagnostics of the last gradient) at the end of an epoch is whole and current.
"""

from __future__ import annotations

import numpy as np

from .. import aligned
from ..layers import BatchNorm, Dropout
from ..optim import clip_by_global_norm
from ..training.callbacks import ModelCheckpoint
from ..training.checkpoint import Checkpoint
from ..validation import check_bool
from .mpi import import_mpi


def share(rows, rank, size):
    """(start, stop) of rank's contiguous share of ``rows`` rows: the first rows % size ranks take one more."""
    base, extra = divmod(rows, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


class SyncBatchStats:
    """BatchNorm's statistics over every rank's rows (as PyTorch's SyncBatchNorm)."""

    def __init__(self, comm):
        self.MPI, self.comm = import_mpi(), comm

    def rows(self, X):
        m = np.array([X.shape[0]], np.int64)
        self.comm.Allreduce(self.MPI.IN_PLACE, m)
        return int(m[0])

    def moments(self, X, m):
        """mu and the biased var over all m rows, in two passes as X.mean and X.var compute them."""
        mu = X.sum(axis=0)
        self.comm.Allreduce(self.MPI.IN_PLACE, mu)
        mu /= m
        var = np.sum((X - mu) ** 2, axis=0)
        self.comm.Allreduce(self.MPI.IN_PLACE, var)
        var /= m
        return mu, var

    def sum(self, sums):
        """sums (in place) over the ranks: the backward's sum_i dX_hat[i] and sum_i dX_hat[i] X_hat[i]."""
        self.comm.Allreduce(self.MPI.IN_PLACE, sums)


class DataParallel:
    """The strategy ``fit(..., strategy=DataParallel(comm))`` trains with on every rank of ``comm``
    (default MPI.COMM_WORLD). Dropout: rank 0 keeps the model's stream, every other rank draws its
    masks from a stream of its own (derived from the model's), so runs with dropout depend on N."""

    def __init__(self, comm=None, shard_update=True):
        self.MPI = import_mpi()
        self.comm = comm if comm is not None else self.MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.is_root = self.rank == 0
        self.shard_update = check_bool(shard_update, "shard_update", "DataParallel")
        self._received = None  # the reduce-scatter's receive buffer

    # -- the hooks of training.loop -----------------------------------------------------

    def training(self, model):
        return _Attached(self, model)

    def local_rows(self, batch):
        if len(batch) < self.size:
            raise ValueError(f"a batch of {len(batch)} rows cannot be shared by {self.size} MPI ranks (every rank "
                             f"needs at least 1 row): choose a batch_size, and a number of rows, so that the last "
                             f"batch of each epoch has at least {self.size} rows")
        start, stop = share(len(batch), self.rank, self.size)
        return batch[start:stop]

    def output_grad(self, dA, rows, batch_rows):
        scale = self.size * rows / batch_rows  # 1 when the batch divides evenly
        return dA if scale == 1 else dA * dA.dtype.type(scale)

    def reduce_gradients(self, model):
        g = model.grads_
        if not self.sharded:
            self.comm.Allreduce(self.MPI.IN_PLACE, g)
            g /= self.size
            return
        counts, starts = self._slices(g.size)
        self._reduce_scatter(g, counts, starts)
        g[starts[self.rank]:starts[self.rank] + counts[self.rank]] /= self.size

    def _reduce_scatter(self, g, counts, starts):
        """A ring reduce-scatter, in place: then g[s_r] on rank r is the sum over the ranks of their g[s_r].

        In step k = 0 .. N-2, rank r sends its partial sum of block r - k - 1 to rank r + 1, and adds
        the block r - k - 2 that rank r - 1 sends it into its own copy; after N - 1 steps block r holds
        every rank's term. Each rank sends (N - 1)/N of g, as in MPI's Reduce_scatter, but by plain
        Sendrecv of contiguous slices, which on one node takes about half the time of the collective
        (940 kB on 2 ranks: 0.11 against 0.20 ms).
        """
        n, r = self.size, self.rank
        if self._received is None or self._received.size < max(counts) or self._received.dtype != g.dtype:
            self._received = np.empty(max(counts), g.dtype)
        for k in range(n - 1):
            send, add = (r - k - 1) % n, (r - k - 2) % n
            received = self._received[:counts[add]]
            self.comm.Sendrecv(g[starts[send]:starts[send] + counts[send]], dest=(r + 1) % n,
                               recvbuf=received, source=(r - 1) % n)
            g[starts[add]:starts[add] + counts[add]] += received

    @property
    def sharded(self):
        return self.shard_update and self.size > 1

    def step(self, optimizer, model):
        """optimizer.step on this rank's slice of model.params_, then one Allgather of the slices."""
        if not self.sharded:
            optimizer.step(model)
            return
        p, g = model.params_, model.grads_
        if not optimizer.state:
            optimizer.state = {name: aligned.zeros_like(p) for name in optimizer.state_names}
        start, stop = share(p.size, self.rank, self.size)
        whole, clipnorm = optimizer.state, optimizer.clipnorm
        if clipnorm is not None:
            self._allgather(g)
            clip_by_global_norm(g, clipnorm)  # on the whole g, as optimizer.step would
        optimizer.state, optimizer.clipnorm = {name: a[start:stop] for name, a in whole.items()}, None
        try:
            optimizer.step(_Slice(p[start:stop], g[start:stop]))
        finally:
            optimizer.state, optimizer.clipnorm = whole, clipnorm
        self._allgather(p)

    def end_epoch(self, model, optimizer):
        """Every rank's slice of the optimizer's state and of the last gradient, on every rank."""
        if self.sharded:
            for array in (*optimizer.state.values(), model.grads_):
                self._allgather(array)

    def _slices(self, size):
        """The lengths and starts of every rank's slice of a flat array of ``size`` elements."""
        bounds = [share(size, r, self.size) for r in range(self.size)]
        return [stop - start for start, stop in bounds], [start for start, _ in bounds]

    def _allgather(self, flat):
        """flat[s_r] of every rank r into flat on every rank, in place."""
        from mpi4py.util.dtlib import from_numpy_dtype

        counts, starts = self._slices(flat.size)
        self.comm.Allgatherv(self.MPI.IN_PLACE, [flat, counts, starts, from_numpy_dtype(flat.dtype)])

    def mean(self, value, rows):
        total = np.array([value * rows, rows], np.float64)
        self.comm.Allreduce(self.MPI.IN_PLACE, total)
        return float(total[0] / total[1])

    def total(self, count):
        summed = np.array([count], np.int64)
        self.comm.Allreduce(self.MPI.IN_PLACE, summed)
        return int(summed[0])

    # -- outside the loop -----------------------------------------------------------------

    def broadcast_state(self, model):
        """Rank 0's weights, BatchNorm statistics and shuffling state on every rank."""
        for name, value in model.state_arrays().items():
            if not name.startswith("preprocessor."):  # every rank fits the same scaler on the same rows
                self.comm.Bcast(value, root=0)
        model.rng_.bit_generator.state = self.comm.bcast(model.rng_.bit_generator.state, root=0)


class _Slice:
    """What optimizer.step reads of a model: a slice of its flat parameters and gradients."""

    def __init__(self, params, grads):
        self.params_, self.grads_ = params, grads


class _Attached:
    """For the length of fit: the same start on every rank, synced BatchNorm, per-rank dropout."""

    def __init__(self, strategy, model):
        self.strategy, self.model = strategy, model

    def __enter__(self):
        s, layers = self.strategy, self.model.layers
        s.broadcast_state(self.model)
        self.saved = [(layer, layer.__dict__.get("rng")) for layer in layers if isinstance(layer, Dropout)]
        for layer, rng in self.saved:
            if s.rank and rng is not None:
                layer.rng = np.random.default_rng((s.rank, int(rng.integers(2 ** 63))))
        for layer in layers:
            if isinstance(layer, BatchNorm):
                layer.stats_reducer = SyncBatchStats(s.comm)
        return self

    def __exit__(self, *exc):
        for layer in self.model.layers:
            if isinstance(layer, BatchNorm):
                del layer.stats_reducer
        for layer, rng in self.saved:
            if rng is not None:
                layer.rng = rng
        return False


def fit(model, X, y, comm=None, **fit_kwargs):
    """``model.fit(X, y, **fit_kwargs)`` on every rank of ``comm`` (default MPI.COMM_WORLD), data parallel.

    Start every rank with ``mpirun -n N python -m mpi4py script.py`` (``-m mpi4py`` makes one failed
    rank end the job instead of leaving the others waiting). Every rank passes the same (X, y); only
    rank 0 prints, and callbacks that write files (ModelCheckpoint, Checkpoint) run on rank 0 only.
    """
    strategy = DataParallel(comm)
    if not strategy.is_root:
        writers = (ModelCheckpoint, Checkpoint)
        fit_kwargs["callbacks"] = [cb for cb in fit_kwargs.get("callbacks") or [] if not isinstance(cb, writers)]
    return model.fit(X, y, strategy=strategy, **fit_kwargs)
