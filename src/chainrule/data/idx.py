"""The IDX file format of MNIST and Fashion-MNIST (gzip-compressed or raw).

Header: two zero bytes, a type code (0x08 = unsigned byte), the number of
dimensions d, then d big-endian uint32 sizes; then the data, row-major.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np


#: the most bytes an IDX file may hold once decompressed (MNIST's largest is 47 MB)
MAX_IDX_BYTES = 1 << 30


class DataFileError(ValueError):
    """A data file is missing, truncated, corrupt or not what it should be."""


def read_idx(path):
    """Read an IDX file (``.gz`` or raw) into a uint8 array, checking magic number, sizes and length."""
    path = Path(path)
    if path.exists() and not path.is_file():
        raise DataFileError(f"{path}: not a regular file; expected an IDX file (.gz or raw)")
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            raw = f.read(MAX_IDX_BYTES + 1)  # never more than the cap, however well it compresses
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataFileError(f"{path}: cannot read the file ({err})") from err
    if len(raw) > MAX_IDX_BYTES:
        raise DataFileError(f"{path}: holds more than {MAX_IDX_BYTES} bytes (decompressed); an IDX file of "
                            "MNIST's kind holds at most 47 MB")
    shape, header = parse_header(path, raw)
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataFileError(length_error(path, shape, expected, len(raw)))
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def parse_header(path, raw):
    """(shape, header bytes) of the IDX file ``path`` from its first bytes ``raw`` (16 are enough), checked."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise DataFileError(f"{path}: not an IDX file of unsigned bytes (magic number {raw[:4].hex() or 'missing'}; "
                            "expected 00000801 for labels or 00000803 for images)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path}: the header is cut short ({len(raw)} bytes)")
    return tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)), header


def length_error(path, shape, expected, actual):
    return (f"{path}: the header promises shape {shape} ({expected} bytes) but the file has "
            f"{actual} bytes (truncated or corrupt?)")
