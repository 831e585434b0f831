"""TrainConfig: the shipped recipes load, defaults, errors that name the file, section and key, round trips."""

import dataclasses
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.training.config import DataConfig, ModelConfig, TrainConfig, TrainingConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
RECIPES = sorted(CONFIGS.glob("*.toml"))


def write(tmp_path, text, name="recipe.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path):
    with pytest.raises(ValueError) as info:
        TrainConfig.from_toml(path)
    return str(info.value)


# -- the shipped recipes ---------------------------------------------------------------------------


def test_the_recipes_folder_holds_the_promised_recipes():
    assert {p.stem for p in RECIPES} >= {"digits", "xor", "spirals", "mnist", "fashion-mnist"}


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_shipped_recipe_loads_and_round_trips(path):
    config = TrainConfig.from_toml(path)
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, values in raw.items():  # every key in the file arrives in the config
        for key, value in values.items():
            assert getattr(getattr(config, section), key) == value, (section, key)
    assert TrainConfig.from_dict(tomllib.loads(config.to_toml())) == config


def test_recipes_name_their_dataset():
    for path in RECIPES:
        if path.stem in ("digits", "xor", "spirals", "mnist", "fashion-mnist"):
            assert TrainConfig.from_toml(path).data.dataset == path.stem


# -- defaults ----------------------------------------------------------------------------------------


def test_defaults(tmp_path):
    config = TrainConfig()
    assert config == TrainConfig.from_dict({}) == TrainConfig.from_toml(write(tmp_path, "# nothing set\n"))
    assert config == TrainConfig.from_toml(write(tmp_path, "[data]\n[model]\n[train]\n", "empty-sections.toml"))
    assert config.data == DataConfig() and config.model == ModelConfig() and config.train == TrainingConfig()
    assert (config.data.dataset, config.data.scale, config.data.label, config.data.test_size) == \
        ("digits", "standardize", "-1", 0.2)
    assert (config.model.hidden, config.model.activation, config.model.dropout) == ([128], "relu", 0.0)
    assert (config.train.optimizer, config.train.lr, config.train.epochs, config.train.batch_size) == \
        ("adam", 0.001, 10, 32)
    assert (config.train.seed, config.train.dtype, config.train.schedule) == (0, "float32", "none")
    assert TrainConfig().model.hidden is not TrainConfig().model.hidden  # no shared mutable default


def test_a_partial_file_keeps_the_other_defaults(tmp_path):
    config = TrainConfig.from_toml(write(tmp_path, "[train]\nepochs = 3\nlr = 1\n"))
    assert config.train.epochs == 3 and config.train.lr == 1.0 and isinstance(config.train.lr, float)
    assert config.data == DataConfig() and config.model == ModelConfig()
    assert config.train.batch_size == 32


def test_friendly_type_conversions(tmp_path):
    config = TrainConfig.from_toml(write(tmp_path, '[data]\nlabel = 0\n[model]\nhidden = 64\n'))
    assert config.data.label == "0" and config.model.hidden == [64]


# -- errors name the file, the section and the key ---------------------------------------------------


def test_an_unknown_section(tmp_path):
    path = write(tmp_path, "[data]\ndataset = 'xor'\n[optimiser]\nlr = 0.1\n")
    message = error_of(path)
    assert str(path) in message and "unknown section [optimiser]" in message
    assert all(name in message for name in ("data", "model", "train"))


@pytest.mark.parametrize("section, key", [("data", "datset"), ("model", "layers"), ("train", "learning_rate")])
def test_an_unknown_key_names_it_and_lists_the_valid_ones(tmp_path, section, key):
    path = write(tmp_path, f"[{section}]\n{key} = 1\n")
    message = error_of(path)
    assert str(path) in message and f"[{section}]" in message and f"unknown key {key!r}" in message
    cls = {"data": DataConfig, "model": ModelConfig, "train": TrainingConfig}[section]
    for field in dataclasses.fields(cls):
        assert repr(field.name) in message


@pytest.mark.parametrize("section, line, key, expected", [
    ("train", 'epochs = "ten"', "epochs", "an integer"),
    ("train", "epochs = 10.5", "epochs", "an integer"),
    ("train", "epochs = true", "epochs", "an integer"),
    ("train", 'lr = "0.1"', "lr", "a number"),
    ("train", "nesterov = 1", "nesterov", "true or false"),
    ("model", 'hidden = "64"', "hidden", "a list"),
    ("model", 'hidden = [64, "32"]', "hidden", "integers >= 1"),
    ("model", "hidden = [64, 0]", "hidden", "integers >= 1"),
    ("model", "hidden = [true]", "hidden", "integers >= 1"),
    ("data", "dataset = 3", "dataset", "a string"),
    ("data", "test_size = [0.2]", "test_size", "a number"),
])
def test_a_wrong_type(tmp_path, section, line, key, expected):
    path = write(tmp_path, f"[{section}]\n{line}\n")
    message = error_of(path)
    assert str(path) in message and f"[{section}] {key}" in message and expected in message


@pytest.mark.parametrize("section, line, key", [
    ("train", "lr = 0", "lr"),
    ("train", "lr = -0.1", "lr"),
    ("train", "lr = nan", "lr"),
    ("model", "dropout = 1.5", "dropout"),
    ("model", "dropout = -0.1", "dropout"),
    ("model", "dropout = 1.0", "dropout"),
    ("model", 'activation = "swish2"', "activation"),
    ("model", "l2 = -1", "l2"),
    ("data", 'dataset = "imagenet"', "dataset"),
    ("data", 'scale = "zscore"', "scale"),
    ("data", "test_size = 0", "test_size"),
    ("data", "validation_split = 1", "validation_split"),
    ("data", "arms = 1", "arms"),
    ("train", "epochs = 0", "epochs"),
    ("train", "batch_size = -4", "batch_size"),
    ("train", 'optimizer = "lbfgs"', "optimizer"),
    ("train", 'loss = "hinge"', "loss"),
    ("train", 'dtype = "float16"', "dtype"),
    ("train", 'schedule = "linear"', "schedule"),
])
def test_an_out_of_range_value(tmp_path, section, line, key):
    path = write(tmp_path, f"[{section}]\n{line}\n")
    message = error_of(path)
    assert str(path) in message and f"[{section}] {key} must be" in message and "received" in message
    assert "received" in message


def test_the_dataset_error_lists_the_datasets(tmp_path):
    message = error_of(write(tmp_path, '[data]\ndataset = "imagenet"\n'))
    assert "'imagenet'" in message and all(f"'{name}'" in message for name in ("digits", "mnist", "fashion-mnist"))


def test_errors_across_keys_name_the_section_and_keys(tmp_path):
    message = error_of(write(tmp_path, '[train]\nschedule = "cosine"\nepochs = 5\nwarmup_epochs = 5\n'))
    assert "[train]" in message and "warmup_epochs" in message and "epochs" in message
    message = error_of(write(tmp_path, '[data]\ndataset = "csv"\n', "csv.toml"))
    assert "[data]" in message and "path" in message and "csv.toml" in message


def test_a_section_that_is_not_a_table(tmp_path):
    message = error_of(write(tmp_path, "data = 3\n"))
    assert "recipe.toml" in message and "[data]" in message and "table" in message


@pytest.mark.parametrize("text, line, where, shown", [
    ("[data]\ndataset = 'xor'\n[train]\nlr = \nepochs = 3\n", 4, "[train]", "lr ="),
    ("[train]\nlr = 0.1\nlr = 0.2\n", 3, "[train]", "lr = 0.2"),
    ("[model]\nhidden = [64 32]\n", 2, "[model]", "hidden = [64 32]"),
    ("[data\ndataset = 'xor'\n", 1, "[data", "[data"),
    ("epochs = 'ten\n", 1, "the top level", "epochs"),
])
def test_invalid_toml_syntax_names_the_file_line_section_and_key(tmp_path, text, line, where, shown):
    path = write(tmp_path, text)
    message = error_of(path)
    assert str(path) in message and "not valid TOML" in message
    assert f"line {line}" in message and where in message and shown in message


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config file"):
        TrainConfig.from_toml(tmp_path / "absent.toml")


def test_from_dict_rejects_a_non_table():
    with pytest.raises(ValueError, match="table of sections"):
        TrainConfig.from_dict(["data"])


# -- to_toml, with_overrides ------------------------------------------------------------------------------


def test_to_toml_round_trips_a_config_with_every_section_changed():
    config = TrainConfig.from_dict({
        "data": {"dataset": "csv", "path": 'C:\\data\\"quoted" table\tü.csv', "label": "species", "samples": 100},
        "model": {"hidden": [256, 128, 64], "activation": "tanh", "dropout": 0.25, "batchnorm": True, "l2": 1e-5},
        "train": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "schedule": "cosine",
                  "warmup_epochs": 2, "epochs": 12, "clipnorm": 1e300, "dtype": "float64"},
    })
    text = config.to_toml()
    assert TrainConfig.from_dict(tomllib.loads(text)) == config
    assert re.findall(r"^\[(\w+)\]$", text, re.M) == ["data", "model", "train"]


@settings(max_examples=60, deadline=None)
@given(path=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
       label=st.text(st.characters(blacklist_categories=("Cs",)), max_size=10),
       lr=st.floats(min_value=1e-12, max_value=1e12, allow_nan=False),
       hidden=st.lists(st.integers(1, 10_000), max_size=5),
       dropout=st.floats(0, 0.999))
def test_to_toml_round_trips_any_strings_and_numbers(path, label, lr, hidden, dropout):
    config = (TrainConfig().with_overrides("data", path=path, label=label)
              .with_overrides("model", hidden=hidden, dropout=dropout).with_overrides("train", lr=lr))
    assert TrainConfig.from_dict(tomllib.loads(config.to_toml())) == config


def test_to_toml_written_to_a_file_reads_back(tmp_path):
    config = TrainConfig.from_toml(CONFIGS / "spirals.toml").with_overrides("train", epochs=7)
    assert TrainConfig.from_toml(write(tmp_path, config.to_toml())) == config


def test_with_overrides_changes_one_section_and_ignores_none():
    base = TrainConfig.from_toml(CONFIGS / "digits.toml")
    changed = base.with_overrides("train", lr=0.5, epochs=3, batch_size=None)
    assert (changed.train.lr, changed.train.epochs, changed.train.batch_size) == (0.5, 3, base.train.batch_size)
    assert changed.data == base.data and changed.model == base.model
    assert base.train.lr == 0.001 and base.train.epochs == 40  # the original is untouched
    assert base.with_overrides("model") == base
    assert base.with_overrides("model", hidden=[8, 8]).model.hidden == [8, 8]
    assert base.with_overrides("train", lr=1).train.lr == 1.0


def test_with_overrides_validates():
    base = TrainConfig()
    with pytest.raises(ValueError, match=r"\[train\] lr"):
        base.with_overrides("train", lr=0)
    with pytest.raises(ValueError, match=r"\[train\] epochs must be an integer"):
        base.with_overrides("train", epochs="ten")
    with pytest.raises(ValueError, match=r"\[model\] dropout"):
        base.with_overrides("model", dropout=1.5)
    with pytest.raises(ValueError, match=r"\[data\] dataset"):
        base.with_overrides("data", dataset="imagenet")
    with pytest.raises(ValueError, match=r"unknown key 'epoch'"):
        base.with_overrides("train", epoch=3)
    with pytest.raises(ValueError, match=r"\[data\] path must name the CSV file"):
        base.with_overrides("data", dataset="csv")
    assert base.with_overrides("data", dataset="csv", path="t.csv").data.path == "t.csv"
