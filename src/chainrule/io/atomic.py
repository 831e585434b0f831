"""Atomic file writes: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path, mode="wb"):
    """Write to ``path`` all at once: readers see the old file or the whole new one, never a half.

    The data goes to a temporary file beside ``path``, is flushed to disk, and
    then replaces ``path`` by a rename (atomic on POSIX and Windows). On an
    error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:  # name the user's file, not the hidden temporary one
        raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
    try:
        os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600; give the file the mode open() would
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename == tmp:  # name the user's file, not the hidden temporary one
            raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
        if isinstance(err, OSError) and err.filename is None and err.errno is not None:
            raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
        raise


def _mode_for(path):
    """The existing file's permissions, else those of a new file under the current umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
