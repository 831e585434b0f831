"""Run directories that are never lost or mixed.

- One run at a time: ``lock_run_dir`` holds an ``fcntl.flock`` on ``.chainrule.lock`` for as
  long as the run writes; the kernel drops it when the process ends, however it ends, so a
  killed run never blocks the next. A second run is refused, naming the holder's PID.
- ``--overwrite`` keeps the old run: ``new_run_dir`` moves its files aside and brings them back
  if the new run fails before its first checkpoint; only then are they deleted.
- Only chainrule's own files are touched: its outputs and its own ``.NAME.*.tmp`` leftovers.
- ``data.sha256`` records the training data a run started on, for ``--resume`` to compare.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from ..io.atomic import atomic_write

#: every file a run writes (plots/ is drawn by the CLI)
OUTPUTS = ("checkpoint.chainrule", "model.chainrule", "history.csv", "history.json", "run.json",
           "config.toml", "data.sha256")
LOCK_NAME = ".chainrule.lock"


class RunDirectoryError(RuntimeError):
    """A run directory is in use, or not in a state the request can use."""


@contextmanager
def lock_run_dir(run_dir):
    """Hold the run directory's lock; RunDirectoryError naming the holder's PID if another run has it.

    The lock file is removed on release; a lock taken on a file that was removed meanwhile (its
    inode no longer the path's) is retaken on the new file, so two runs never both hold it.
    """
    import fcntl

    path = Path(run_dir) / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise RunDirectoryError(f"{run_dir} is in use by another chainrule run (PID {holder}); wait for it "
                                    "to finish, or choose another --out") from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        path.unlink(missing_ok=True)  # still locked: nobody else can be using it
        os.close(fd)  # releases the lock (a killed process's is released by the kernel)


def sweep_own_temp_files(run_dir):
    """Remove the ``.NAME.*.tmp`` files an interrupted atomic write of one of the run's outputs left."""
    for name in OUTPUTS:
        for leftover in Path(run_dir).glob(f".{name}.*.tmp"):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink()


@contextmanager
def new_run_dir(run_dir, overwrite=False):
    """Create (or take over, with ``overwrite``) ``run_dir`` for a new run, locked while it runs.

    Yields ``started()``, to call once the first checkpoint is written. A failure or interrupt
    before that removes what the new run wrote and brings the old run back (or, if the folder
    was new, removes it); after it, the old run's files are deleted.
    """
    run_dir = Path(run_dir)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with lock_run_dir(run_dir):
            sweep_own_temp_files(run_dir)
            aside = _set_aside(run_dir) if overwrite else None
            state = {"started": False}

            def started():
                if not state["started"]:
                    state["started"] = True
                    if aside is not None:
                        shutil.rmtree(aside)

            try:
                yield started
            except BaseException:
                if not state["started"]:
                    _remove_outputs(run_dir)
                    if aside is not None:
                        _bring_back(aside, run_dir)
                raise
    except BaseException:
        if created and run_dir.is_dir() and not any(run_dir.iterdir()):
            shutil.rmtree(run_dir)  # a run that never started leaves no folder behind
        raise


def _set_aside(run_dir):
    aside = run_dir / f".previous-run.{os.getpid()}"
    aside.mkdir()
    for name in (*OUTPUTS, "plots"):
        source = run_dir / name
        if source.exists() or source.is_symlink():
            os.replace(source, aside / name)
    return aside


def _bring_back(aside, run_dir):
    for item in aside.iterdir():
        os.replace(item, run_dir / item.name)
    aside.rmdir()


def _remove_outputs(run_dir):
    for name in OUTPUTS:
        (run_dir / name).unlink(missing_ok=True)
    sweep_own_temp_files(run_dir)


# -- the training data's fingerprint -------------------------------------------------------------


def write_data_digest(run_dir, digest):
    with atomic_write(Path(run_dir) / "data.sha256", "w") as f:
        f.write(f"{digest}  training data (after the split)\n")


def recorded_data_digest(run_dir, card=None):
    """The SHA-256 the run started on: from data.sha256, else from a finished run's run card."""
    path = Path(run_dir) / "data.sha256"
    if path.is_file():
        return path.read_text(encoding="ascii", errors="replace").split()[0] if path.stat().st_size else None
    return (card or {}).get("train_data_sha256")


def check_data_digest(run_dir, digest, accept_changed, log, card=None):
    """Refuse to resume on other training data than the run started on, unless ``accept_changed``."""
    before = recorded_data_digest(run_dir, card)
    if before is None or before == digest:
        return
    if not accept_changed:
        raise RunDirectoryError(f"{run_dir}: the training data changed since the run started (SHA-256 "
                                f"{before[:16]}... then, {digest[:16]}... now); pass --accept-changed-data to "
                                "continue on the new data, or start a new run")
    log(f"{run_dir}: continuing on changed training data (SHA-256 {digest[:16]}..., was {before[:16]}...)")
    write_data_digest(run_dir, digest)


def outside_link(run_dir, name):
    """Where ``run_dir/name`` points if it is a symbolic link (writing there would leave the run)."""
    path = Path(run_dir) / name
    return os.readlink(path) if path.is_symlink() else None
