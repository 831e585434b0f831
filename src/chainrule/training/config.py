"""TrainConfig: one training recipe, from a TOML file, flags, or code.

A recipe has three sections (every key optional, defaults below)::

    [data]
    dataset = "digits"       # digits, mnist, fashion-mnist, csv, images, xor, spirals, moons, circles, blobs, sine
    path = ""                # the CSV file (dataset = "csv") or the image folder (dataset = "images")
    label = "-1"             # the CSV label column: a name or an index
    header = "auto"          # the CSV's first row: auto (a header if every cell is text), yes or no
    task = "auto"            # auto, classification or regression (auto: text or <= 50 whole numbers are classes)
    image_size = []          # images: [H, W] to resize every image to ([]: they must share one size)
    color = false            # images: keep colour (3 values per pixel) instead of gray levels
    data_dir = ""            # where MNIST-family files are (else CHAINRULE_DATA, the cache, a download)
    test_size = 0.2          # held-out share, for datasets without a fixed test split
    validation_split = 0.1   # share of the training rows used as validation data
    scale = "standardize"    # standardize, minmax, divide255 or none (fitted on training rows only)
    samples = 0              # use only this many training rows (0: all), for quick runs
    n_samples = 600          # size of a generated dataset
    noise = 0.2              # noise of a generated dataset
    arms = 3                 # spirals: number of arms (classes)

    [model]
    hidden = [128]           # widths of the hidden Dense layers
    activation = "relu"
    dropout = 0.0            # Dropout(p) after each hidden activation
    batchnorm = false        # BatchNorm after each hidden Dense
    init = ""                # weight initializer ("": he_uniform for the ReLU family, else glorot_uniform)
    l2 = 0.0                 # L2 penalty on every weight matrix

    [train]
    loss = ""                # "": cross_entropy for classes, mse for regression
    optimizer = "adam"       # sgd, adagrad, rmsprop, adam, adamw
    lr = 0.001
    momentum = 0.0           # sgd and rmsprop
    nesterov = false
    weight_decay = 0.0
    clipnorm = 0.0           # clip gradients to this global norm (0: off)
    epochs = 10
    batch_size = 32
    seed = 0                 # fixes the split, the weights, the dropout masks and the batch order
    dtype = "float32"
    schedule = "none"        # none, step, exponential, cosine, plateau
    step_size = 10           # step: epochs between drops
    gamma = 0.1              # step and plateau: the factor lr is multiplied by; exponential: the share
                             # lr loses each epoch (lr = base_lr (1 - gamma)^epoch)
    warmup_epochs = 0        # cosine
    patience = 0             # early stopping on val_loss after this many epochs without progress (0: off)
"""

from __future__ import annotations

import dataclasses
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..data.datasets import GENERATED
from ..validation import check_fraction, check_int, check_number, check_one_of, check_positive
from ..data.mnist import DATASETS as MNIST_DATASETS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: the widest hidden layer and the most hidden layers a recipe may ask for (a sanity bound: a
#: typo such as hidden = [100000000] is refused before anything is allocated)
MAX_WIDTH = 65536
MAX_DEPTH = 100
#: the largest seed (NumPy takes any non-negative integer; this keeps it within an int64)
MAX_SEED = 2**63 - 1
MAX_RECIPE_BYTES = 1 << 20

#: every dataset a recipe can name: the bundled digits, the MNIST family, a CSV file, the generated ones
DATASETS = ("digits", *MNIST_DATASETS, "csv", "images", *GENERATED)


@dataclass
class DataConfig:
    dataset: str = "digits"
    path: str = ""
    label: str = "-1"
    header: str = "auto"
    task: str = "auto"
    image_size: list = field(default_factory=list)
    color: bool = False
    data_dir: str = ""
    test_size: float = 0.2
    validation_split: float = 0.1
    scale: str = "standardize"
    samples: int = 0
    n_samples: int = 600
    noise: float = 0.2
    arms: int = 3

    def check(self):
        from ..data.preprocessing import SCALERS

        _one_of("data", "dataset", self.dataset, DATASETS)
        _one_of("data", "scale", self.scale, (*SCALERS, "none"))
        _fraction("data", "test_size", self.test_size, allow_zero=False)
        _fraction("data", "validation_split", self.validation_split)
        _at_least("data", "samples", self.samples, 0)
        _at_least("data", "n_samples", self.n_samples, 4)
        _at_least("data", "arms", self.arms, 2)
        _at_least("data", "noise", self.noise, 0)
        _one_of("data", "header", self.header, ("auto", "yes", "no"))
        _one_of("data", "task", self.task, ("auto", "classification", "regression"))
        if self.image_size and (len(self.image_size) != 2 or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in self.image_size)):
            raise ValueError(f"config: [data] image_size must be [H, W], two integers >= 1; received {self.image_size!r}")
        if self.dataset in ("csv", "images") and not self.path:
            what = "CSV file" if self.dataset == "csv" else "image folder"
            raise ValueError(f"config: [data] path must name the {what} when dataset = '{self.dataset}'; received ''")


@dataclass
class ModelConfig:
    hidden: list = field(default_factory=lambda: [128])
    activation: str = "relu"
    dropout: float = 0.0
    batchnorm: bool = False
    init: str = ""
    l2: float = 0.0

    def check(self):
        from ..layers import ACTIVATIONS

        from ..init import INITIALIZERS

        if not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_WIDTH for h in self.hidden):
            raise ValueError(f"config: [model] hidden must be a list of integers >= 1 and <= {MAX_WIDTH}; "
                             f"received {self.hidden!r}")
        if len(self.hidden) > MAX_DEPTH:
            raise ValueError(f"config: [model] hidden must list at most {MAX_DEPTH} widths; "
                             f"received {len(self.hidden)}")
        if self.init:
            _one_of("model", "init", self.init, tuple(INITIALIZERS))
        _one_of("model", "activation", self.activation, tuple(ACTIVATIONS))
        _fraction("model", "dropout", self.dropout)
        _at_least("model", "l2", self.l2, 0)


@dataclass
class TrainingConfig:
    loss: str = ""
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    clipnorm: float = 0.0
    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    dtype: str = "float32"
    schedule: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    warmup_epochs: int = 0
    patience: int = 0

    def check(self):
        from ..losses import LOSSES
        from ..model import DTYPES
        from ..optim import OPTIMIZERS

        if self.loss:
            _one_of("train", "loss", self.loss, tuple(LOSSES))
        _one_of("train", "optimizer", self.optimizer, tuple(OPTIMIZERS))
        _one_of("train", "dtype", self.dtype, DTYPES)
        _one_of("train", "schedule", self.schedule, ("none", "step", "exponential", "cosine", "plateau"))
        check_positive(self.lr, "[train] lr", "config")
        check_fraction(self.momentum, "[train] momentum", "config")
        check_positive(self.gamma, "[train] gamma", "config")
        _at_least("train", "epochs", self.epochs, 1)
        _at_least("train", "batch_size", self.batch_size, 1)
        check_int(self.seed, "[train] seed", "config", low=0, high=MAX_SEED)
        _at_least("train", "step_size", self.step_size, 1)
        _at_least("train", "warmup_epochs", self.warmup_epochs, 0)
        _at_least("train", "patience", self.patience, 0)
        _at_least("train", "clipnorm", self.clipnorm, 0)
        _at_least("train", "weight_decay", self.weight_decay, 0)
        if self.schedule == "cosine" and self.warmup_epochs >= self.epochs:
            raise ValueError(f"config: [train] warmup_epochs must be below epochs ({self.epochs}); "
                             f"received {self.warmup_epochs}")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainingConfig}


@dataclass
class TrainConfig:
    """A whole recipe: ``TrainConfig.from_toml("configs/digits.toml")``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainingConfig = field(default_factory=TrainingConfig)

    @classmethod
    def from_dict(cls, raw):
        if not isinstance(raw, dict):
            raise ValueError(f"a config must be a table of sections; received {type(raw).__name__}")
        unknown = set(raw) - set(SECTIONS)
        if unknown:
            raise ValueError(f"config: unknown section [{sorted(unknown)[0]}]; expected {list(SECTIONS)}")
        config = cls(**{name: _section(name, section_cls, raw.get(name, {}))
                        for name, section_cls in SECTIONS.items()})
        config.check()
        return config

    @classmethod
    def from_toml(cls, path):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no config file at {path}")
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise ValueError(f"{path}: a recipe of {path.stat().st_size} bytes; expected a TOML text file of at "
                             f"most {MAX_RECIPE_BYTES} bytes")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: not a text file (byte {err.start} is not UTF-8); a recipe is a TOML "
                             "text file such as configs/digits.toml") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML ({err}){_toml_context(text, err)}") from None
        try:
            return cls.from_dict(raw)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None

    def with_overrides(self, section, **values):
        """A copy with some keys of one section changed (None values are ignored)."""
        raw = self.to_dict()
        raw[section].update({k: v for k, v in values.items() if v is not None})
        return TrainConfig.from_dict(raw)

    def check(self):
        for name in SECTIONS:
            getattr(self, name).check()

    def memory_bytes(self, n_in, n_out):
        """What training needs in memory, in bytes, by part: parameters, gradients, optimizer state
        (and the best weights early stopping keeps) and one batch's activations (Z and A of every
        layer, forward and backward, plus dropout masks and BatchNorm's X_hat)."""
        m, t = self.model, self.train
        size = 8 if t.dtype == "float64" else 4
        widths = [n_in, *m.hidden, n_out]
        params = sum(a * b + b for a, b in zip(widths[:-1], widths[1:])) + 2 * sum(m.hidden) * m.batchnorm
        copies = {"sgd": 1 if t.momentum else 0, "adagrad": 1, "rmsprop": 2 if t.momentum else 1}
        state = copies.get(t.optimizer, 2) + (1 if t.patience else 0)
        per_row = 4 * sum(widths) + (2 * sum(m.hidden) if m.dropout or m.batchnorm else 0)
        return {"parameters": params * size, "gradients": params * size, "optimizer state": state * params * size,
                "activations": per_row * max(t.batch_size, 1024) * size}  # evaluation runs in batches of 1024

    def to_dict(self):
        return {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}

    def to_toml(self):
        lines = []
        for name, values in self.to_dict().items():
            lines.append(f"[{name}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
            lines.append("")
        return "\n".join(lines)


def _section(name, section_cls, values):
    if not isinstance(values, dict):
        raise ValueError(f"config: [{name}] must be a table of keys; received {values!r}")
    values = dict(values)  # never change the caller's table
    fields = {f.name: f for f in dataclasses.fields(section_cls)}
    for key, value in values.items():
        if key not in fields:
            raise ValueError(f"config: [{name}] unknown key {key!r}; expected one of {sorted(fields)}")
        values[key] = _typed(name, key, value, fields[key])
    return section_cls(**values)


def _typed(section, key, value, spec):
    default = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
    kind = type(default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, int) and not isinstance(value, bool) and key == "label":
        return str(value)
    if kind is list and isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list"}
        raise ValueError(f"config: [{section}] {key} must be {names[kind]}; received {value!r}")
    return value


def _one_of(section, key, value, options):
    check_one_of(value, f"[{section}] {key}", "config", options)


def _fraction(section, key, value, allow_zero=True):
    check_fraction(value, f"[{section}] {key}", "config", include_zero=allow_zero)


def _at_least(section, key, value, low):
    if isinstance(value, int) and not isinstance(value, bool):
        check_int(value, f"[{section}] {key}", "config", low=low)
    else:
        check_number(value, f"[{section}] {key}", "config", low=low)


def _toml_context(text, err):
    """Where a TOML syntax error is: the section it falls in and the text of its line."""
    lines = text.splitlines()
    found = re.search(r"at line (\d+)", str(err))
    number = int(found.group(1)) if found else len(lines)
    if not 1 <= number <= len(lines):
        return ""
    sections = [line.strip() for line in lines[:number] if line.strip().startswith("[")]
    return f" in {sections[-1] if sections else 'the top level'}, line {number}: {lines[number - 1].strip()!r}"


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        # TOML strings cannot hold control characters (but tab) as they are
        return '"' + re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
