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
from pathlib import Path

import numpy as np

from .atomic import atomic_write

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
CONFIG_NAME = "chainrule.json"


class ModelFileError(ValueError):
    """The file is not a chainrule model this version can read."""


def save_model(model, path):
    """Write ``model`` to ``path`` (any name; ``.chainrule`` by convention), atomically."""
    from .. import __version__

    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": __version__,
              "model": model.get_config()}
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CONFIG_NAME, json.dumps(header, indent=2))
        for name, array in model.state_arrays().items():
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(name + ".npy", buffer.getvalue())


def load_model(path):
    """Read a model written by ``save_model``; raise ModelFileError naming the file if it cannot."""
    from ..model import Sequential

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            header = _read_header(archive, path)
            arrays = {name[:-4]: _read_array(archive, name)
                      for name in archive.namelist() if name.endswith(".npy")}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        if isinstance(err, ModelFileError):
            raise
        raise ModelFileError(f"{path} is not a readable chainrule model file (truncated or corrupt?): {err}") from err
    try:
        model = Sequential.from_config(header["model"])
        model.load_state_arrays(arrays)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"{path}: the model in the file is inconsistent: {err}") from err
    return model


def _read_header(archive, path):
    if CONFIG_NAME not in archive.namelist():
        raise ModelFileError(f"{path} is not a chainrule model file (it has no {CONFIG_NAME})")
    header = json.loads(archive.read(CONFIG_NAME).decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a chainrule model file (format {header.get('format')!r})")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format version {version!r}; this chainrule reads version "
                             f"{FORMAT_VERSION}. Upgrade chainrule, or re-save the model with this version")
    return header


def _read_array(archive, name):
    return np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
