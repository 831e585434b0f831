"""Loading a table of numbers from a CSV file: features and a label column."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .idx import DataFileError


def load_csv(path, label=-1, header=None, dtype=np.float32):
    """Read ``path`` into (X, y): every column but ``label`` as features, ``label`` as y.

    label   the label column, by name (needs a header) or index (negative counts from
            the end); None reads features only and returns (X, None)
    header  True, False, or None to detect: a first row with any non-numeric cell is a header

    Errors name the file, the line and the column: a non-numeric cell, a
    ragged row, a label column that is not there.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no CSV file at {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: drop the BOM Excel writes
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise DataFileError(f"{path}: the file holds no rows")
    if header is None:
        header = not all(_is_number(cell) for cell in rows[0])
    names = [c.strip() for c in rows[0]] if header else [str(i) for i in range(len(rows[0]))]
    body, first_line = (rows[1:], 2) if header else (rows, 1)
    if not body:
        raise DataFileError(f"{path}: the file has a header but no data rows")
    width = len(names)
    column = _label_index(label, names, header, path)
    table = np.empty((len(body), width), np.float64)
    for i, row in enumerate(body):
        if len(row) != width:
            raise DataFileError(f"{path}, line {first_line + i}: {len(row)} cells; expected {width} like the first row")
        for j, cell in enumerate(row):
            try:
                table[i, j] = float(cell)
            except ValueError:
                raise DataFileError(f"{path}, line {first_line + i}, column {j + 1} ({names[j]!r}): "
                                    f"{cell!r} is not a number") from None
    if column is None:
        return table.astype(dtype), None
    X = np.delete(table, column, axis=1).astype(dtype)
    y = table[:, column]
    return X, (y.astype(np.int64) if np.all(y == np.round(y)) else y.astype(dtype))


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
    return index % len(names)


def _is_number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False
