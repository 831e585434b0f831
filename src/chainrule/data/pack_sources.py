"""What ``pack`` reads, one shard at a time: (X, y) arrays, IDX files, CSVs and image folders.

``open_source`` reads only what describes a source (IDX headers and label files, a CSV's first
block of rows, the list of image files and the first image) and returns its splits. A split's
``shards(rows)`` then yields (X, y) ``rows`` rows at a time out of one buffer it reuses: IDX bytes
straight from the file (raw or through a gzip stream), CSV rows parsed block by block, images
decoded one by one. So packing holds about one shard in memory, whatever the source's size.
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from pathlib import Path

import numpy as np

from .idx import DataFileError, length_error, parse_header, read_idx
from .labels import whole_numbers

READ_BYTES = 1 << 20  # one read from an IDX file (a gzip stream allocates this much per read)
CSV_BLOCK_CELLS = 1 << 16  # cells of a CSV parsed at once (float64: 512 KiB; NumPy's parser holds a few times that)


class Split:
    """One split of a source: X's dtype and row shape, y's (None without labels), and ``shards(rows)``.

    A CSV's ``y_dtype`` is final only once its shards are read (int64 if every label is whole).
    """

    def __init__(self, dtype, row_shape, shards, y_dtype=None, y_shape=None):
        self.dtype, self.row_shape, self.shards = np.dtype(dtype), tuple(row_shape), shards
        self.y_dtype, self.y_shape = y_dtype, y_shape

    @property
    def row_bytes(self):
        return self.dtype.itemsize * int(np.prod(self.row_shape))


def open_source(source, label):
    """{split: Split} and the class names (or None) of what ``pack`` was given (see its docstring)."""
    from . import mnist

    if isinstance(source, tuple):
        X, y = source
        X = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if y is not None and len(y) != len(X):
            raise ValueError(f"pack: X has {len(X)} rows but y has {len(y)}; expected one label per row")
        return {"train": _arrays(X, None if y is None else np.asarray(y))}, None
    path = Path(source)
    if path.is_dir() and (path / "train").is_dir():
        return _image_folders(path)
    if path.is_dir():
        splits = {}
        for split in ("train", "test"):
            files = [_idx_file(path, mnist.PARTS[f"{split}_{part}"]) for part in ("images", "labels")]
            if all(files):
                splits[split] = _idx(*files)
        if "train" not in splits:
            raise DataFileError(f"{path}: no {mnist.PARTS['train_images']}(.gz) and "
                                f"{mnist.PARTS['train_labels']}(.gz) in this folder; expected MNIST-family IDX files")
        return splits, mnist.CLASS_NAMES.get(path.name)
    if not path.is_file():
        raise FileNotFoundError(f"pack: no file or folder at {path}")
    if path.suffix.lower() == ".csv":
        return {"train": _csv(path, label)}, None
    if "idx3" in path.name:
        labels = path.with_name(path.name.replace("images-idx3", "labels-idx1"))
        return {"train": _idx(path, labels if labels.is_file() and labels != path else None)}, None
    raise DataFileError(f"{path}: expected a CSV file (.csv), an IDX images file (*-idx3-ubyte[.gz]), "
                        "a folder of MNIST-family IDX files or an image folder (DIR/train/<class>/*.png)")


def _arrays(X, y):
    def shards(rows):
        for start in range(0, len(X), rows):
            yield X[start:start + rows], None if y is None else y[start:start + rows]

    return Split(X.dtype, X.shape[1:], shards, *((None, None) if y is None else (y.dtype, y.shape[1:])))


# -- IDX -------------------------------------------------------------------------------------------


def _idx(images, labels=None):
    """The IDX images file ``images`` (and its labels, read whole: one byte a row), streamed."""
    with _open_idx(images) as f:
        shape, header = parse_header(images, _read(images, f.read, 16))
    expected = header + int(np.prod(shape))
    if images.suffix != ".gz" and images.stat().st_size != expected:  # a raw file's length is known up front
        raise DataFileError(length_error(images, shape, expected, images.stat().st_size))
    y = None if labels is None else read_idx(labels)
    if y is not None and len(y) != shape[0]:
        raise DataFileError(f"{labels}: {len(y)} labels, but {images} holds {shape[0]} images; "
                            "expected one label per image")

    def shards(rows):
        buffer = np.empty((min(rows, shape[0]), *shape[1:]), np.uint8)
        with _open_idx(images) as f:
            got = len(_read(images, f.read, header))
            for start in range(0, shape[0], rows):
                n = min(rows, shape[0] - start)
                view = memoryview(buffer[:n].reshape(-1))
                filled = 0
                while filled < len(view):
                    read = _read(images, f.readinto, view[filled:filled + READ_BYTES])
                    if not read:  # the data ends before the header's promise
                        raise DataFileError(length_error(images, shape, expected, got + filled))
                    filled += read
                got += filled
                yield buffer[:n], None if y is None else y[start:start + n]
            while more := _read(images, f.read, READ_BYTES):  # data past the promise: count it for the message
                got += len(more)
            if got != expected:
                raise DataFileError(length_error(images, shape, expected, got))

    return Split(np.uint8, shape[1:], shards, *((None, None) if y is None else (y.dtype, y.shape[1:])))


def _open_idx(path):
    if path.exists() and not path.is_file():
        raise DataFileError(f"{path}: not a regular file; expected an IDX file (.gz or raw)")
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    except OSError as err:
        raise DataFileError(f"{path}: cannot read the file ({err})") from err


def _read(path, method, argument):
    """``method(argument)`` (a file's read or readinto); a damaged file's error names ``path``."""
    try:
        return method(argument)
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataFileError(f"{path}: cannot read the file ({err})") from err


def _idx_file(folder, stem):
    for candidate in (folder / (stem + ".gz"), folder / stem):
        if candidate.is_file():
            return candidate
    return None


# -- CSV -------------------------------------------------------------------------------------------


def _csv(path, label):
    """A CSV file (``load_csv``'s checks and labels), parsed a block of rows at a time."""
    from .csv import iter_csv

    blocks = iter_csv(path, label=label, block_cells=CSV_BLOCK_CELLS)
    X0, y0 = next(blocks, (None, None))  # the first block tells the width (and whether there are labels)
    if X0 is None:
        raise DataFileError(f"{path}: no data rows, only comments (#); expected a table of comma-separated numbers")
    columns = X0.shape[1] + (y0 is not None)
    most_rows = path.stat().st_size // (2 * columns) + 1  # a row is at least "0," per cell
    text = y0 is not None and y0.dtype.kind == "U"

    def shards(rows):
        X = np.empty((min(rows, most_rows), X0.shape[1]), X0.dtype)
        ys, n, whole = [], 0, True
        for Xb, yb in itertools.chain([(X0, y0)], blocks):
            if yb is not None and text:
                split.y_dtype = np.result_type(split.y_dtype, yb.dtype)
            elif yb is not None:
                whole = whole and whole_numbers(yb)
                split.y_dtype = np.dtype(np.int64 if whole else X0.dtype)
            start = 0
            while start < len(Xb):
                take = min(rows - n, len(Xb) - start)
                X[n:n + take] = Xb[start:start + take]
                ys.append(None if yb is None else yb[start:start + take])
                n, start = n + take, start + take
                if n == rows:
                    yield X[:n], None if y0 is None else np.concatenate(ys)
                    ys, n = [], 0
        if n:
            yield X[:n], None if y0 is None else np.concatenate(ys)

    split = Split(X0.dtype, X0.shape[1:], shards, *((None, None) if y0 is None else (y0.dtype, ())))
    return split  # shards() sets its y_dtype as the labels come


# -- image folders ---------------------------------------------------------------------------------


def _image_folders(path):
    """DIR/train/<class>/*.png|jpg (and DIR/test/<class>/ if there), decoded an image at a time."""
    train, classes = _images(path / "train")
    splits = {"train": train}
    if (path / "test").is_dir():
        splits["test"] = _images(path / "test", classes)[0]
    return splits, [str(c) for c in classes]


def _images(folder, classes=None):
    from .images import image_folder_files, iter_images

    files, y, classes = image_folder_files(folder, classes)
    images = iter_images(files)
    first = next(images)  # the row shape

    def shards(rows):
        buffer = np.empty((min(rows, len(files)), *first.shape), np.uint8)
        pending = itertools.chain([first], images)
        for start in range(0, len(files), rows):
            n = min(rows, len(files) - start)
            for i, image in zip(range(n), pending):
                buffer[i] = image  # L or RGB pixels, whole numbers 0..255: exact in uint8, as before
            yield buffer[:n], y[start:start + n]

    return Split(np.uint8, first.shape, shards, y.dtype, ()), classes
