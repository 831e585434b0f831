"""Datasets larger than memory: ``.npy`` shards on disk, read back in contiguous chunks.

A packed dataset is a folder::

    index.json             format, version, dtypes, row shapes, class names, and per split the
                           shards with their rows and SHA-256
    train-00000-X.npy      the rows 0..r-1 of X (in the source's dtype: uint8 images stay uint8)
    train-00000-y.npy      the same rows of y
    ...                    more shards; a "test" split too when the source has one (MNIST)

``PackedDataset`` yields mini-batches with a chunked shuffle: the shards are cut into contiguous
chunks (32 MiB by default), the chunks are read in a random order, each with one contiguous
slice copy out of a memory map (never random row reads from a cold memory map), and the rows are
shuffled within a window of chunks held in memory. ``memory_budget_mib`` caps that window.

With MPI, ``rank`` and ``ranks`` give each rank its own chunks: every rank draws the same chunk
order from the same seed, and rank r reads the chunks at positions r, r + N, r + 2N, ... of it
(N = ranks), so across the ranks every row is read exactly once per epoch, each by one rank. The
rows of a rank's window are shuffled by a stream of that rank's own (derived from the shared one,
which every rank advances alike). A global batch is then the union of every rank's local batch:
a well-defined, seeded composition, but not the one a single process's chunked shuffle draws, so
N ranks on packed data are not bit-identical to one process (they are on in-memory arrays).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..init import as_generator
from ..io.atomic import atomic_write
from ..validation import check_int, check_number
from .download import sha256_of
from .idx import DataFileError

FORMAT, VERSION = "chainrule-packed", 1
INDEX = "index.json"
MIB = 1 << 20
SHARD_MIB = 256  # default shard size on disk; chunks subdivide shards


# -- packing ---------------------------------------------------------------------------------------


def pack(source, out, shard_rows=None, label=-1, class_names=None, overwrite=False):
    """Write ``source`` into the folder ``out`` as ``.npy`` shards and an index; return the index.

    source  (X, y) arrays (y may be None); a folder of MNIST-family IDX files (train-images-idx3-ubyte
            and the others, .gz or raw: packs a train and a test split); one IDX images file (its
            labels file beside it); an image folder DIR/train/<class>/*.png (and DIR/test/); or a CSV
            file (``label``: its label column, as load_csv)
    shard_rows  rows per shard (default: about 256 MiB of X per shard)

    The source is streamed (``pack_sources``): IDX bytes straight from the file (or its gzip
    stream), CSV rows parsed a block at a time, images decoded one by one, each shard written as
    soon as it is full, so packing holds about one shard in memory whatever the source's size.
    Every file is written atomically and the index last, so a folder with an index is complete;
    an error midway (a file cut short) removes the shards written and leaves no index.
    """
    from .pack_sources import open_source

    out = Path(out)
    if shard_rows is not None:
        check_int(shard_rows, "shard_rows", "pack", low=1)
    if (out / INDEX).exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a packed dataset ({INDEX}); pass overwrite=True "
                              "(--overwrite) to replace it, or choose another folder")
    splits, found_names = open_source(source, label)
    train = splits["train"]
    for split, src in splits.items():
        if src.row_shape != train.row_shape:
            raise DataFileError(f"{source}: the {split} rows have shape {src.row_shape}, the train rows "
                                f"{train.row_shape}; expected one shape")
    out.mkdir(parents=True, exist_ok=True)
    (out / INDEX).unlink(missing_ok=True)  # while the shards change, the folder is no packed dataset
    written, index_splits = [], {}
    try:
        for split, src in splits.items():
            index_splits[split] = _write_split(out, split, src, shard_rows, written)
    except BaseException:
        for file in written:
            file.unlink(missing_ok=True)
        raise
    index = {"format": FORMAT, "version": VERSION,
             "dtype": {"X": train.dtype.str, "y": None if train.y_dtype is None else np.dtype(train.y_dtype).str},
             "row_shape": {"X": list(train.row_shape), "y": None if train.y_dtype is None else list(train.y_shape)},
             "class_names": class_names or found_names, "splits": index_splits}
    with atomic_write(out / INDEX, "w") as f:
        json.dump(index, f, indent=1)
    return index


def _write_split(out, split, src, shard_rows, written):
    """Write the shards of one split as they come; return its entry of the index."""
    rows = shard_rows or max(1, SHARD_MIB * MIB // max(1, src.row_bytes))
    shards, total = [], 0
    for number, (X, y) in enumerate(src.shards(rows)):
        shard = {"rows": len(X), "sha256": {}}
        for part, array in (("X", X), ("y", y)):
            if array is not None:
                shard[part] = f"{split}-{number:05d}-{part}.npy"
                written.append(out / shard[part])
                shard["sha256"][part] = _save(out / shard[part], array)
        shards.append(shard)
        total += len(X)
    for shard in shards:  # a CSV's labels: int64 only if every one is whole, known at the end
        if "y" in shard and np.load(out / shard["y"], mmap_mode="r").dtype != src.y_dtype:
            shard["sha256"]["y"] = _save(out / shard["y"], np.load(out / shard["y"]).astype(src.y_dtype))
    return {"rows": total, "shards": shards}


def _save(file, array):
    with atomic_write(file) as f:
        np.save(f, np.ascontiguousarray(array))
    return sha256_of(file)


# -- reading ---------------------------------------------------------------------------------------


class PackedDataset:
    """Mini-batches from a packed folder, with a chunked shuffle (see the module's docstring).

    path               the folder ``pack`` wrote
    split              "train" (or "test" when the source had one)
    memory_budget_mib  the most data (MiB) held in memory at once: the window of chunks, and the
                       pages of the chunk being read (mapped while it is copied)
    chunk_mib          the size of one contiguous read (default 32 MiB; smaller if the budget demands)
    window             chunks held in memory and shuffled together (default 4)
    rng                a seed or Generator: the chunk order and the shuffles, epoch after epoch
    rank, ranks        with MPI: this rank (comm.Get_rank()) and their number (comm.Get_size()); every
                       rank passes the same seed and reads its own chunks (see the module's docstring)

    Index and shard headers are checked on opening (``verify()`` also checks the SHA-256).
    """

    def __init__(self, path, split="train", memory_budget_mib=None, chunk_mib=32, window=4, rng=None, rank=0,
                 ranks=1):
        self.path = Path(path)
        self.index = read_index(self.path)
        if split not in self.index["splits"]:
            raise DataFileError(f"{self.path / INDEX}: no split {split!r}; it has {sorted(self.index['splits'])}")
        self.split = split
        check_number(chunk_mib, "chunk_mib", "PackedDataset", low=0, low_open=True)
        self.window = check_int(window, "window", "PackedDataset", low=1)
        self.ranks = check_int(ranks, "ranks", "PackedDataset", low=1)
        self.rank = check_int(rank, "rank", "PackedDataset", low=0, high=self.ranks - 1)
        if memory_budget_mib is not None:
            check_number(memory_budget_mib, "memory_budget_mib", "PackedDataset", low=0, low_open=True)
            chunk_mib = min(chunk_mib, memory_budget_mib / (window + 1))  # + the chunk in flight (its mapped pages)
        self.memory_budget_mib = memory_budget_mib
        self.rng = as_generator(rng)
        self.shards = self.index["splits"][split]["shards"]
        self.has_labels = self.index["dtype"]["y"] is not None
        for shard in self.shards:
            for part in ("X", "y") if self.has_labels else ("X",):
                self._open(shard, part)  # checks the header against the index
        self.row_bytes = sum(np.dtype(self.index["dtype"][p]).itemsize * int(np.prod(self.index["row_shape"][p]))
                             for p in (("X", "y") if self.has_labels else ("X",)))
        self.chunk_rows = int(chunk_mib * MIB // self.row_bytes)
        if self.chunk_rows < 1:
            raise ValueError(f"PackedDataset: memory_budget_mib={memory_budget_mib} leaves chunks of "
                             f"{chunk_mib * MIB:.0f} bytes, less than one row ({self.row_bytes} bytes) of {self.path}; "
                             f"expected a budget of at least {self.row_bytes * window / MIB:.3g} MiB")
        self.chunks = [(s, start, min(start + self.chunk_rows, shard["rows"]))
                       for s, shard in enumerate(self.shards) for start in range(0, shard["rows"], self.chunk_rows)]

    def __len__(self):
        """The rows of the split (on every rank: the whole split, not this rank's part)."""
        return self.index["splits"][self.split]["rows"]

    @property
    def class_names(self):
        return self.index["class_names"]

    @property
    def window_bytes(self):
        """The data held in memory while iterating: ``window`` chunks of X and y, and one chunk in flight."""
        return (self.window + 1) * self.chunk_rows * self.row_bytes

    def _open(self, shard, part):
        """A memory map of one shard's X or y, its header checked against the index."""
        file = self.path / shard[part]
        try:
            array = np.load(file, mmap_mode="r")
        except FileNotFoundError:
            raise DataFileError(f"{file}: shard missing (listed in {self.path / INDEX})") from None
        except (ValueError, OSError) as err:
            raise DataFileError(f"{file}: not a readable .npy shard ({err})") from None
        expected = (shard["rows"], *self.index["row_shape"][part])
        if array.shape != expected or array.dtype != np.dtype(self.index["dtype"][part]):
            raise DataFileError(f"{file}: holds {array.dtype} {array.shape}; {self.path / INDEX} expects "
                                f"{np.dtype(self.index['dtype'][part])} {expected} (a shard from another pack?)")
        return array

    def _read(self, chunk, part, out):
        """One contiguous slice of a shard into ``out``; the map is dropped at once, so the pages
        read do not stay in this process's resident memory."""
        s, start, stop = chunk
        array = self._open(self.shards[s], part)
        out[:stop - start] = array[start:stop]
        del array
        return stop - start

    def verify(self):
        """Check every shard's SHA-256 against the index; raise DataFileError naming the first that differs."""
        for shard in self.shards:
            for part, expected in shard["sha256"].items():
                actual = sha256_of(self.path / shard[part])
                if actual != expected:
                    raise DataFileError(f"{self.path / shard[part]}: checksum mismatch (sha256 {actual}, "
                                        f"{self.path / INDEX} says {expected}); the shard is corrupt: pack again")
        return self

    def arrays(self):
        """The whole split as (X, y) in memory (for small splits, e.g. a test set)."""
        parts = [[self._open(shard, p)[:] for shard in self.shards] for p in ("X", "y") if self.has_labels or p == "X"]
        X = np.concatenate(parts[0])
        return X, (np.concatenate(parts[1]) if self.has_labels else None)

    def head(self, rows=1):
        """The first ``rows`` rows (of the first shard) as (X, y) copies."""
        shard = self.shards[0]
        return (np.array(self._open(shard, "X")[:rows]),
                np.array(self._open(shard, "y")[:rows]) if self.has_labels else None)

    def chunk_arrays(self, shuffle=False):
        """(X, y) of every chunk in turn, in file order (or a random one); each valid until the next."""
        X, y = self._buffers(self.chunk_rows)
        order = self.rng.permutation(len(self.chunks)) if shuffle else range(len(self.chunks))
        for c in order:
            n = self._read(self.chunks[c], "X", X)
            if y is not None:
                self._read(self.chunks[c], "y", y)
            yield X[:n], (y[:n] if y is not None else None)

    def _buffers(self, rows):
        shape = {p: (rows, *self.index["row_shape"][p]) for p in ("X", "y") if self.index["dtype"][p]}
        X = np.empty(shape["X"], np.dtype(self.index["dtype"]["X"]))
        return X, (np.empty(shape["y"], np.dtype(self.index["dtype"]["y"])) if self.has_labels else None)

    def batches(self, batch_size, shuffle=True):
        """One epoch of mini-batches (X_b, y_b): every row exactly once; every batch full but the last.

        With ``shuffle``, chunks come in a random order, ``window`` at a time, and the rows of a window
        in a random order (batches run on across windows); without, in file order. With ``ranks``,
        this rank's chunks only (every ``ranks``-th of the order). The arrays are buffers reused by
        the next batch: copy them to keep them.
        """
        check_int(batch_size, "batch_size", "PackedDataset.batches", low=1)
        X, y = self._buffers(self.window * self.chunk_rows)
        Xb, yb = self._buffers(batch_size)
        order = self.rng.permutation(len(self.chunks)) if shuffle else np.arange(len(self.chunks))
        row_rng = self.rng
        if self.ranks > 1:  # the shared stream advances alike on every rank; the row shuffles are this rank's
            order = order[self.rank::self.ranks]
            row_rng = np.random.default_rng([int(self.rng.integers(2 ** 63)), self.rank]) if shuffle else None
        pending = 0
        for w in range(0, len(order), self.window):
            n = 0
            for c in order[w:w + self.window]:
                if y is not None:
                    self._read(self.chunks[c], "y", y[n:])
                n += self._read(self.chunks[c], "X", X[n:])
            rows = row_rng.permutation(n) if shuffle else np.arange(n)
            start = 0
            while start < n:
                take = min(batch_size - pending, n - start)
                idx = rows[start:start + take]
                np.take(X, idx, axis=0, out=Xb[pending:pending + take])
                if y is not None:
                    np.take(y, idx, axis=0, out=yb[pending:pending + take])
                pending, start = pending + take, start + take
                if pending == batch_size:
                    yield Xb, yb
                    pending = 0
        if pending:
            yield Xb[:pending], (yb[:pending] if yb is not None else None)

    def fit(self, model, **kwargs):
        """Train ``model`` on this dataset; see ``chainrule.training.stream.fit_stream``."""
        from ..training.stream import fit_stream

        return fit_stream(model, self, **kwargs)

    def __repr__(self):
        return (f"PackedDataset({str(self.path)!r}, split={self.split!r}, rows={len(self)}, "
                f"chunks={len(self.chunks)} of {self.chunk_rows} rows, window={self.window})")


def read_index(path):
    """The index of the packed folder ``path``, checked; DataFileError naming the file if it is wrong."""
    file = Path(path) / INDEX
    if not file.is_file():
        raise DataFileError(f"{path}: no {INDEX}, so not a packed dataset (make one with: chainrule data pack SRC {path})")
    try:
        index = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise DataFileError(f"{file}: not valid JSON ({err}); pack the dataset again") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise DataFileError(f"{file}: not a {FORMAT} index (format {index.get('format') if isinstance(index, dict) else None!r})")
    if index.get("version") != VERSION:
        raise DataFileError(f"{file}: {FORMAT} version {index.get('version')!r}; this chainrule reads version {VERSION}")
    missing = [key for key in ("dtype", "row_shape", "splits") if key not in index]
    if missing:
        raise DataFileError(f"{file}: the index lacks {', '.join(missing)}; pack the dataset again")
    index.setdefault("class_names", None)
    return index
