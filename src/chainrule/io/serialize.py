"""The chainrule model file: a zip archive holding

- ``chainrule.json``: the format name and version, the chainrule version and
  the model's architecture (every layer's class and constructor arguments);
- one ``.npy`` member per array (the flat parameters, BatchNorm statistics),
  read back with ``allow_pickle=False``.

Structure comes from code, arrays from the file: nothing is unpickled, so a
model file cannot run code. Files are written atomically.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..data.preprocessing import BY_CLASS_NAME as SCALERS_BY_CLASS_NAME
from .atomic import atomic_write

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
CONFIG_NAME = "chainrule.json"


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


def read_archive(path, expected_format, version=FORMAT_VERSION):
    """The header and the arrays of a file written by write_archive; ModelFileError naming the file if it cannot."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no {expected_format} file at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            header = _read_header(archive, path, expected_format, version)
            arrays = {name[:-4]: np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
                      for name in archive.namelist() if name.endswith(".npy")}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError, KeyError) as err:
        raise ModelFileError(f"{path} is not a readable {expected_format} file (truncated or corrupt?): {err}") from err
    return header, arrays


def save_model(model, path):
    """Write ``model`` to ``path`` (any name; ``.chainrule`` by convention), atomically."""
    from .. import __version__

    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": __version__,
              "model": model.get_config()}
    write_archive(path, header, model.state_arrays())


def load_model(path):
    """Read a model written by ``save_model``; raise ModelFileError naming the file if it cannot."""
    header, arrays = read_archive(path, FORMAT)
    return model_from(header.get("model"), arrays, path)  # a missing "model" fails in model_from, naming path


def model_from(config, arrays, path):
    """Rebuild a Sequential from its config and arrays; ModelFileError naming ``path`` if they disagree."""
    from ..model import Sequential

    try:
        model = Sequential.from_config(config)
        if config.get("preprocessor"):
            model.preprocessor = SCALERS_BY_CLASS_NAME[config["preprocessor"]]()
        model.load_state_arrays(arrays)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: the model in the file is inconsistent: {err}") from err
    return model


def _read_header(archive, path, expected_format, version):
    if CONFIG_NAME not in archive.namelist():
        raise ModelFileError(f"{path} is not a {expected_format} file (it has no {CONFIG_NAME})")
    header = json.loads(archive.read(CONFIG_NAME).decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != expected_format:
        found = header.get("format") if isinstance(header, dict) else None
        raise ModelFileError(f"{path} is not a {expected_format} file (format {found!r})")
    if header.get("format_version") != version:
        raise ModelFileError(f"{path} has {expected_format} format version {header.get('format_version')!r}; "
                             f"this chainrule reads version {version}. Upgrade chainrule, or re-save the file "
                             "with this version")
    return header
