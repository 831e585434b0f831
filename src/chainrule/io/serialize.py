"""The chainrule model file: a zip archive holding

- ``chainrule.json``: the format name and version, the chainrule version and
  the model's architecture (every layer's class and constructor arguments);
- one ``.npy`` member per array (the flat parameters, BatchNorm statistics),
  read back with ``allow_pickle=False``.

Structure comes from code, arrays from the file: nothing is unpickled, so a
model file cannot run code. Files are written atomically.

Reading stays within limits, whatever the file holds: only regular files up to
MAX_FILE_BYTES are opened; the JSON is read first and the architecture it
describes is checked (widths, parameter count) before anything is built; each
array's ``.npy`` header (shape, dtype) is compared with what the architecture
implies before its data is read, and only the members the model needs are read.
Weights must be finite. Every failure is a ModelFileError naming the file.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..data.preprocessing import BY_CLASS_NAME as SCALERS_BY_CLASS_NAME
from .atomic import atomic_write

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
CONFIG_NAME = "chainrule.json"

#: the largest model or checkpoint file read (bytes)
MAX_FILE_BYTES = 4 << 30
#: the largest chainrule.json read (bytes)
MAX_HEADER_BYTES = 16 << 20
#: the most layers, the widest layer and the most parameters a file may describe
MAX_LAYERS = 1000
MAX_WIDTH = 1 << 20
MAX_PARAMETERS = 1 << 28
#: the errors zipfile, zlib and the .npy reader raise on damaged data
READ_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError, KeyError,
               UnicodeDecodeError, RecursionError, TypeError, RuntimeError)


class ModelFileError(ValueError):
    """The file is not a chainrule model this version can read."""


def write_archive(path, header, arrays):
    """Write a JSON header and named arrays into one zip file at ``path``, atomically."""
    try:
        text = json.dumps(header, indent=2)
    except TypeError as err:  # e.g. Dense(init=some_function): only named initializers can be saved
        raise ValueError(f"cannot save to {path}: {err}; give layers their initializers by name "
                         "(init='he_uniform', ...), not as functions") from None
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CONFIG_NAME, text)
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(name + ".npy", buffer.getvalue())


# -- reading within limits -----------------------------------------------------------------------


def open_regular_file(path, what):
    """``path`` opened for reading if it is a regular file of at most MAX_FILE_BYTES; else ModelFileError.

    Opened without blocking (a FIFO would wait forever) and checked on the open descriptor, so
    a symlink to /dev/zero, a FIFO or a directory is refused before a byte is read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"no {what} file at {path}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path} is a directory, not a {what} file") from None
    except OSError as err:
        raise ModelFileError(f"cannot open {path}: {err.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, FIFO or socket)"
        raise ModelFileError(f"{path} is {kind}; a {what} file must be a regular file")
    if info.st_size > MAX_FILE_BYTES:
        os.close(fd)
        raise ModelFileError(f"{path} holds {info.st_size} bytes; a {what} file may hold at most "
                             f"{MAX_FILE_BYTES} bytes")
    return os.fdopen(fd, "rb")


class ArchiveReader:
    """A model or checkpoint file opened for checked reading: ``header`` first, then single arrays.

    ``with ArchiveReader(path, "chainrule-model", 1) as archive: archive.array("params", (n,), ...)``
    """

    def __init__(self, path, expected_format, version=FORMAT_VERSION):
        self.path, self.expected_format = Path(path), expected_format
        self._file = open_regular_file(path, expected_format)
        try:
            self._zip = zipfile.ZipFile(self._file)
            self.header = _read_header(self._zip, self.path, expected_format, version)
            self.names = {name[:-4] for name in self._zip.namelist() if name.endswith(".npy")}
        except ModelFileError:
            self.close()
            raise
        except READ_ERRORS as err:
            self.close()
            raise self.error(f"is not a readable {expected_format} file (truncated or corrupt?): {error_words(err)}") from None

    def error(self, text):
        return ModelFileError(f"{self.path} {text}")

    def array(self, name, shape=None, dtypes=None, max_bytes=None, finite=True):
        """The array ``name``, its header checked (shape, dtype, size) before its data is read."""
        if name not in self.names:
            raise self.error(f"is missing array {name!r} (no member {name}.npy)")
        try:
            with self._zip.open(name + ".npy") as stream:
                array = self._read_npy(stream, name, shape, dtypes, max_bytes)
        except ModelFileError:
            raise
        except READ_ERRORS as err:
            raise self.error(f"is not a readable {self.expected_format} file: its array {name!r} is damaged "
                             f"({error_words(err)})") from None
        if finite and array.dtype.kind in "fc" and not np.isfinite(array).all():
            count = int(array.size - np.isfinite(array).sum())
            raise self.error(f"holds {count} NaN or infinite values in its array {name!r}; a model's "
                             "numbers must be finite")
        return array

    def _read_npy(self, stream, name, shape, dtypes, max_bytes):
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            found_shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            found_shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise self.error(f"has array {name!r} in .npy format version {version}; expected 1.0 or 2.0")
        if dtype.hasobject or dtype.kind not in "biuf":
            raise self.error(f"has array {name!r} of dtype {dtype}; expected numbers (Python objects are never loaded)")
        if dtypes is not None and dtype not in [np.dtype(d) for d in dtypes]:
            raise self.error(f"has array {name!r} of dtype {dtype}; the model needs {' or '.join(map(str, dtypes))}")
        if shape is not None and tuple(found_shape) != tuple(shape):
            raise self.error(f"is inconsistent: array {name!r} has shape {tuple(found_shape)}; "
                             f"the model needs {tuple(shape)}")
        nbytes = math.prod(found_shape) * dtype.itemsize
        if max_bytes is not None and nbytes > max_bytes:
            raise self.error(f"has array {name!r} of {nbytes} bytes (shape {tuple(found_shape)}); what the "
                             f"model describes allows at most {max_bytes}")
        info = self._zip.getinfo(name + ".npy")
        if info.file_size != stream.tell() + nbytes:
            raise self.error(f"has array {name!r} whose stored size ({info.file_size} bytes) does not match "
                             f"its header (shape {tuple(found_shape)}, dtype {dtype})")
        data = stream.read(nbytes)
        if len(data) != nbytes or stream.read(1):  # the second read reaches the end: zipfile checks the CRC
            raise self.error(f"has array {name!r} cut short (truncated or corrupt?)")
        return np.frombuffer(bytearray(data), dtype).reshape(found_shape, order="F" if fortran else "C")

    def close(self):
        if getattr(self, "_zip", None) is not None:
            self._zip.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_archive(path, expected_format, version=FORMAT_VERSION, max_bytes=MAX_FILE_BYTES):
    """The header and every array of a file written by write_archive (each at most ``max_bytes``);
    ModelFileError naming the file if it cannot."""
    with ArchiveReader(path, expected_format, version) as archive:
        return archive.header, {name: archive.array(name, max_bytes=max_bytes, finite=False)
                                for name in sorted(archive.names)}


# -- the model's arrays, from its architecture ---------------------------------------------------


def model_layout(config, path):
    """The arrays the architecture ``config`` implies, {name: shape}, and their dtype; checked
    within MAX_LAYERS, MAX_WIDTH and MAX_PARAMETERS without building (allocating) anything."""
    from ..layers import LAYERS, BatchNorm, Dense
    from ..model import DTYPES

    def fail(text):
        return ModelFileError(f"{path}: the model in the file is inconsistent: {text}")

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise fail("it has no list of layers")
    if not 1 <= len(config["layers"]) <= MAX_LAYERS:
        raise fail(f"it has {len(config['layers'])} layers; expected 1 to {MAX_LAYERS}")
    if config.get("dtype") not in DTYPES:
        raise fail(f"its dtype must be one of {list(DTYPES)}; received {config.get('dtype')!r}")
    params, state, total = {}, {}, 0
    for i, spec in enumerate(config["layers"]):
        if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
            raise fail(f"layer {i} must be a table with a class and its arguments; received {spec!r}")
        if spec.get("class") not in LAYERS:
            raise fail(f"layer {i} has unknown layer class {spec.get('class')!r}; expected one of {sorted(LAYERS)}")
        try:
            layer = LAYERS[spec["class"]].from_config(spec["config"])  # checks the arguments, allocates nothing
        except (TypeError, ValueError) as err:
            raise fail(f"layer {i} ({spec['class']}): {err}") from None
        if isinstance(layer, Dense):
            widths, shapes = (layer.n_in, layer.n_out), {"W": (layer.n_in, layer.n_out), "b": (layer.n_out,)}
        elif isinstance(layer, BatchNorm):
            widths, shapes = (layer.features,), {"gamma": (layer.features,), "beta": (layer.features,)}
            state.update({f"layer{i}.{n}": (layer.features,) for n in layer.state_names})
        elif layer.param_names or layer.state_names:
            raise fail(f"layer {i} ({spec['class']}) has arrays of unknown size")
        else:
            continue
        if max(widths) > MAX_WIDTH:
            raise fail(f"layer {i} ({spec['class']}) is {max(widths)} wide; at most {MAX_WIDTH} is read")
        params.update({(i, name): shape for name, shape in shapes.items()})
        total += sum(math.prod(shape) for shape in shapes.values())
        if total > MAX_PARAMETERS:
            raise fail(f"it describes more than {MAX_PARAMETERS} parameters")
    return {"params": (total,), **state}, np.dtype(config["dtype"]), params


def read_model_arrays(archive, config, prefix=""):
    """The arrays of the model ``config`` from ``archive`` (members named ``prefix + name``), each
    checked against the architecture before it is read; the preprocessor's too, if there is one."""
    layout, dtype, _ = model_layout(config, archive.path)
    arrays = {name: archive.array(prefix + name, shape, [dtype]) for name, shape in layout.items()}
    scaler = config.get("preprocessor")
    if scaler:
        if scaler not in SCALERS_BY_CLASS_NAME:
            raise archive.error(f"names an unknown preprocessor {scaler!r}; expected one of "
                                f"{sorted(SCALERS_BY_CLASS_NAME)}")
        n_in = next((spec["config"]["n_in"] for spec in config["layers"] if spec["class"] == "Dense"), None)
        for name in ("offset", "scale"):
            arrays[f"preprocessor.{name}"] = archive.array(f"{prefix}preprocessor.{name}",
                                                           None if n_in is None else (n_in,), ["float32", "float64"],
                                                           max_bytes=8 * MAX_WIDTH)
    return arrays


def largest_array_bytes(config, path):
    """The most bytes one array of this model (or an optimizer or callback array beside it) needs."""
    layout, _, _ = model_layout(config, path)
    return 8 * max(math.prod(shape) for shape in layout.values()) + 1024


def save_model(model, path):
    """Write ``model`` to ``path`` (any name; ``.chainrule`` by convention), atomically."""
    from .. import __version__

    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": __version__,
              "model": model.get_config()}
    write_archive(path, header, model.state_arrays())


def load_model(path):
    """Read a model written by ``save_model``; raise ModelFileError naming the file if it cannot."""
    with ArchiveReader(path, FORMAT) as archive:
        config = archive.header.get("model")
        arrays = read_model_arrays(archive, config)
    return model_from(config, arrays, path)


def model_from(config, arrays, path):
    """Rebuild a Sequential from its config and arrays; ModelFileError naming ``path`` if they disagree."""
    from ..model import Sequential

    model_layout(config, path)  # bounds first: nothing is built from an unchecked architecture
    try:
        model = Sequential.from_config(config)
        if config.get("preprocessor"):
            model.preprocessor = SCALERS_BY_CLASS_NAME[config["preprocessor"]]()
        model.load_state_arrays(arrays)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: the model in the file is inconsistent: {error_words(err)}") from err
    return model


def error_words(err):
    """An exception as words: a KeyError's bare "'m'" becomes "no entry 'm'"."""
    if isinstance(err, KeyError):
        return f"it has no entry {err.args[0]!r}" if err.args else "an entry is missing"
    return str(err) or type(err).__name__


def _read_header(archive, path, expected_format, version):
    if CONFIG_NAME not in archive.namelist():
        raise ModelFileError(f"{path} is not a {expected_format} file (it has no {CONFIG_NAME})")
    size = archive.getinfo(CONFIG_NAME).file_size
    if size > MAX_HEADER_BYTES:
        raise ModelFileError(f"{path} has a {CONFIG_NAME} of {size} bytes; at most {MAX_HEADER_BYTES} is read")
    try:
        header = json.loads(archive.read(CONFIG_NAME).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ModelFileError(f"{path} is not a {expected_format} file: its {CONFIG_NAME} is not JSON ({err})") from None
    if not isinstance(header, dict) or header.get("format") != expected_format:
        found = header.get("format") if isinstance(header, dict) else None
        raise ModelFileError(f"{path} is not a {expected_format} file (format {found!r})")
    if header.get("format_version") != version:
        raise ModelFileError(f"{path} has {expected_format} format version {header.get('format_version')!r}; "
                             f"this chainrule reads version {version}. Upgrade chainrule, or re-save the file "
                             "with this version")
    return header
