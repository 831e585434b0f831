"""Bounded fuzzing of the file readers (about 20 s in all; scripts/fuzz.py runs for longer) and
property tests over random architectures, dtypes and batch sizes."""

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import chainrule as cr

spec = importlib.util.spec_from_file_location("fuzz", Path(__file__).parents[1] / "scripts" / "fuzz.py")
fuzz = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz)

FOLDER = tempfile.TemporaryDirectory()
VALID = fuzz.seeds(FOLDER.name)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.mark.parametrize("kind", ["idx", "csv", "toml", "model", "checkpoint"])
@FUZZ
@given(seed=st.integers(0, 2**32 - 1))
def test_damaged_files_raise_only_the_documented_errors(kind, seed):
    data = fuzz.mutate(VALID[kind], np.random.default_rng(seed))
    assert fuzz.check(kind, data, FOLDER.name) is None


# -- properties ----------------------------------------------------------------------------------------

architectures = st.lists(st.integers(1, 9), min_size=1, max_size=4)
ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "identity"]


def network(widths, activation, dtype, seed, batchnorm=False):
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers.append(cr.Dense(n_in, n_out, init="glorot_uniform"))
        if n_out != widths[-1] or len(layers) < 2 * (len(widths) - 1) - 1:
            if batchnorm:
                layers.append(cr.BatchNorm(n_out))
            layers.append(cr.layers.activation(activation))
    return cr.Sequential(layers[:-1] if isinstance(layers[-1], cr.layers.Activation) else layers, rng=seed,
                         dtype=dtype)


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@PROPERTY
@given(widths=st.lists(st.integers(1, 9), min_size=2, max_size=5), activation=st.sampled_from(ACTIVATIONS),
       dtype=st.sampled_from(["float32", "float64"]), batch=st.integers(1, 17), seed=st.integers(0, 1000),
       batchnorm=st.booleans())
def test_output_shape_dtype_and_save_load_identity(widths, activation, dtype, batch, seed, batchnorm):
    model = network(widths, activation, dtype, seed, batchnorm)
    X = np.random.default_rng(seed).normal(size=(batch, widths[0]))
    out = model.predict_output(X)
    assert out.shape == (batch, widths[-1]) and out.dtype == np.dtype(dtype)
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "m.chainrule")
        loaded = cr.load(Path(folder) / "m.chainrule")
    assert np.array_equal(loaded.params_, model.params_)
    assert np.array_equal(loaded.predict_output(X), out)


@PROPERTY
@given(widths=st.lists(st.integers(1, 6), min_size=2, max_size=4), activation=st.sampled_from(ACTIVATIONS),
       batch=st.integers(1, 6), seed=st.integers(0, 1000))
def test_backprop_matches_finite_differences(widths, activation, batch, seed):
    model = network(widths, activation, "float64", seed)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(batch, widths[0])), rng.normal(size=(batch, widths[-1]))
    report = cr.gradient_report(model, X, y, cr.losses.MSE())
    assert max(report.values()) < 1e-5, report


@PROPERTY
@given(widths=st.lists(st.integers(1, 9), min_size=2, max_size=4), seed=st.integers(0, 2**31),
       dtype=st.sampled_from(["float32", "float64"]))
def test_same_seed_same_weights(widths, seed, dtype):
    a, b = network(widths, "relu", dtype, seed), network(widths, "relu", dtype, seed)
    assert np.array_equal(a.params_, b.params_)
