"""Where the tests find the MNIST-family files: CHAINRULE_DATA, else the shared folder beside the checkout."""

import os
from pathlib import Path


def shared_data():
    """The first folder holding both mnist/ and fashion-mnist/ (or the shared folder, absent or not)."""
    beside = Path(__file__).resolve().parents[2] / "shared" / "data"
    for folder in (os.environ.get("CHAINRULE_DATA"), beside):
        if folder and all((Path(folder) / name).is_dir() for name in ("mnist", "fashion-mnist")):
            return Path(folder)
    return beside
