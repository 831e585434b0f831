"""Loading a table from a CSV file: numeric features and a label column (numbers or text).

Fast path: NumPy's C parser (``np.loadtxt``) reads the whole body at once. Only
when it fails does a second, row-by-row pass find the first bad cell, so that
the error names the file, the line, the column and the cell. ``iter_csv`` reads the
body in blocks of rows instead, for files larger than memory (``chainrule data pack``).
"""

from __future__ import annotations

import csv
import functools
import itertools
import warnings
from pathlib import Path

import numpy as np

from .idx import DataFileError
from .labels import whole_numbers


def load_csv(path, label=-1, header=None, dtype=np.float32):
    """Read ``path`` into (X, y): every column but ``label`` as features, ``label`` as y.

    label   the label column, by name (needs a header) or index (negative counts from
            the end); None reads features only and returns (X, None)
    header  True, False, or None to detect: a first row whose cells are all non-numeric
            is a header; a first row of numbers (the label cell may be text) is data;
            anything in between is an error naming the cell

    X is (m, n_features) in ``dtype``. y is int64 when every label is a whole
    number, ``dtype`` for other numbers, and str for text labels (``setosa``).
    The file must be UTF-8 (a BOM is allowed). Errors name the file, the line, the
    column and the cell: a non-numeric cell, a ragged row, an empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no CSV file at {path}")
    try:
        return _load(path, label, header, dtype)
    except UnicodeDecodeError:
        raise DataFileError(_encoding_error(path)) from None


def _load(path, label, header, dtype):
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: drop the BOM Excel writes
        names, column, text_labels, header, skip = _layout(f, path, label, header)
        try:
            table, y = _parse(f, skip, len(names), column, text_labels)
            _check_width(table, names)
        except ValueError as err:
            raise DataFileError(_find_bad_cell(path, names, column, text_labels, header) or f"{path}: {err}") from None
    if column is None:
        return table.astype(dtype, copy=False), None
    X = _features(table, column, dtype)
    if y is None:
        y = table[:, column]
        y = y.astype(np.int64) if whole_numbers(y) else y.astype(dtype)
    return X, y


def iter_csv(path, label=-1, header=None, dtype=np.float32, block_cells=1 << 19):
    """``load_csv`` in blocks of rows (about ``block_cells`` cells each), for files larger than memory:
    yields (X, y) block by block.

    The same checks and errors as ``load_csv``; but y comes as read, before the file's whole label column
    is known: float64 numbers (``load_csv`` makes them int64 if every label of the file is whole, else
    ``dtype``) or str (each block as wide as its own longest label).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no CSV file at {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            names, column, text_labels, header, _ = _layout(f, path, label, header)
            rows = max(1, block_cells // len(names))
            f.seek(0)
            lines = (line for line in f if _has_cells(line))
            if header:
                next(lines)
            while block := list(itertools.islice(lines, rows)):
                try:
                    table, y = _split_labels(functools.partial(_loadtxt, block), len(names), column, text_labels)
                    if len(table) == 0:  # comment lines only
                        continue
                    _check_width(table, names)
                except ValueError as err:
                    raise DataFileError(_find_bad_cell(path, names, column, text_labels, header)
                                        or f"{path}: {err}") from None
                if column is None:
                    yield table.astype(dtype), None
                else:
                    yield _features(table, column, dtype), (table[:, column].copy() if y is None else y)
    except UnicodeDecodeError:
        raise DataFileError(_encoding_error(path)) from None


def _layout(f, path, label, header):
    """(column names, label column, whether labels are text, header, lines to skip) from the first rows."""
    first, first_line = _first_row(f)
    if first is None:
        raise DataFileError(f"{path}: the file holds no rows (expected a table of comma-separated numbers)")
    header = _detect_header(path, first, first_line, label, header)
    names = [c.strip() for c in first] if header else [str(i) for i in range(len(first))]
    column = _label_index(label, names, header, path)
    sample = _first_row(f)[0] if header else first  # the first data row
    if sample is None:
        raise DataFileError(f"{path}: the file has a header but no data rows")
    text_labels = column is not None and len(sample) > column and not _is_number(sample[column])
    return names, column, text_labels, header, first_line if header else 0


def _check_width(table, names):
    if table.shape[1] != len(names):  # every row alike, but not as wide as the header
        raise ValueError(f"rows of {table.shape[1]} cells; expected {len(names)} like the first row")


def _features(table, column, dtype):
    X = np.empty((len(table), table.shape[1] - 1), dtype)  # without a float64 copy of the whole table
    X[:, :column], X[:, column:] = table[:, :column], table[:, column + 1:]
    return X


def _loadtxt(lines, **kw):
    with warnings.catch_warnings():  # NumPy's note on blank lines and max_rows (unused here)
        warnings.simplefilter("ignore", UserWarning)
        return np.loadtxt(lines, delimiter=",", quotechar='"', **kw)


def _parse(f, skip, width, column, text_labels):
    """The body as a float64 table, and the labels as str if the label column holds text (else None).

    First the file itself goes to NumPy's parser (fastest); if that fails, its
    non-blank lines (a line of spaces trips the parser); a second failure is the
    caller's to explain.
    """
    def read(**kw):
        f.seek(0)
        try:
            return _loadtxt(f, skiprows=skip, **kw)
        except ValueError:
            f.seek(0)
            lines = (line for line in f if _has_cells(line))
            for _ in range(skip and 1):  # the header is the first non-blank line
                next(lines)
            return _loadtxt(lines, **kw)

    return _split_labels(read, width, column, text_labels)


def _split_labels(read, width, column, text_labels):
    """(table, None), or with text labels (table without them, the labels as str), through ``read``."""
    if not text_labels:
        return read(dtype=np.float64, ndmin=2), None
    features = [j for j in range(width) if j != column]
    values = read(dtype=np.float64, ndmin=2, usecols=features)
    y = np.char.strip(read(dtype=str, ndmin=1, usecols=[column]))
    table = np.empty((len(values), width))
    table[:, features] = values
    return table, y


def _first_row(f):
    """The first non-blank row's cells and its line number (None, 0 for an empty file)."""
    for number, line in enumerate(f, 1):
        if _has_cells(line):
            return next(csv.reader([line])), number
    return None, 0


def _detect_header(path, first, line, label, header):
    if header is not None:
        return bool(header)
    numeric = [_is_number(cell) for cell in first]
    if not any(numeric):
        return True
    skip = _label_index(label, first, False, path) if not isinstance(label, str) or label.lstrip("-").isdigit() else None
    for j, (cell, ok) in enumerate(zip(first, numeric)):
        if not ok and j != skip:
            raise DataFileError(f"{path}, line {line}, column {j + 1}: {cell.strip()!r} is not a number, but other "
                                f"cells of line {line} are, so it is not a header; fix the cell, or pass "
                                "header=True (--header yes) if the line is a header")
    return False


def _find_bad_cell(path, names, column, text_labels, header):
    """The first ragged row or non-numeric cell, as an error message (None if none is found)."""
    width = len(names)
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        seen_header = not header
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if not seen_header:
                seen_header = True
                continue
            where = f"{path}, line {reader.line_num}"
            if len(row) != width:
                return f"{where}: {len(row)} cells; expected {width} like the first row"
            cells = [c for j, c in enumerate(row) if not (text_labels and j == column)]
            try:
                np.array(cells, dtype=np.float64)
                continue
            except ValueError:
                pass
            for j, cell in enumerate(row):
                if not (text_labels and j == column) and not _is_number(cell):
                    name = f" ({names[j]!r})" if header else ""
                    what = "is empty" if not cell.strip() else "is not a number"
                    return f"{where}, column {j + 1}{name}: {cell!r} {what}"
    return None


def _encoding_error(path):
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
        return f"{path}: not UTF-8 text; save it as UTF-8 (with or without a BOM)"
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        return (f"{path}, line {line}: byte {data[err.start]:#04x} is not UTF-8; expected a UTF-8 file (with or "
                "without a BOM): save it as UTF-8, e.g. iconv -f latin1 -t utf-8")


def _label_index(label, names, header, path):
    if label is None:
        return None
    if isinstance(label, str) and not label.lstrip("-").isdigit():
        if not header:
            raise DataFileError(f"{path}: label column {label!r} named but the file has no header row")
        if label not in names:
            raise DataFileError(f"{path}: no column named {label!r}; the columns are {names}")
        return names.index(label)
    index = int(label)
    if not -len(names) <= index < len(names):
        raise DataFileError(f"{path}: label column {index} is out of range for {len(names)} columns")
    if len(names) < 2:
        raise DataFileError(f"{path}: one column only; expected feature columns beside the label column")
    return index % len(names)


def _has_cells(line):
    """False for a blank line, or one of empty cells only (" , ,")."""
    return bool(line.strip(" ,\t\r\n"))


def _is_number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False
