"""What the commands share: the one-line error and loading a model from a run directory or file."""

from __future__ import annotations

from pathlib import Path


class CommandError(Exception):
    """A user-facing error: printed as one line."""


def load_model_or_run(path):
    """A model from a run directory or a model file, and the run's config if there is one."""
    from .. import load
    from ..training.config import TrainConfig

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no run directory or model file at {path}")
    if path.is_dir():
        if not (path / "model.chainrule").is_file():
            raise CommandError(f"{path} holds no model.chainrule (is it a finished run directory?)")
        config = TrainConfig.from_toml(path / "config.toml") if (path / "config.toml").is_file() else None
        return load(path / "model.chainrule"), config
    return load(path), None


def write_text(path, text):
    """Write a command's text output to ``path`` atomically."""
    from ..io.atomic import atomic_write

    with atomic_write(path, "w") as f:
        f.write(text)
