"""Model and checkpoint files are read within limits: hostile files fail fast, in words, without
allocating what they claim (zip bombs, edited sizes, NaN weights, devices, FIFOs, edited checkpoints)."""

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.io import serialize
from chainrule.training import callbacks as cbs
from chainrule.training.checkpoint import Checkpoint

MiB = 1 << 20


def small_model():
    return cr.Sequential([cr.Dense(20, 16), cr.BatchNorm(16), cr.ReLU(), cr.Dense(16, 3)], rng=0)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "m.chainrule"
    small_model().save(path)
    return path


def rebuild(source, target, header=None, replace=None, extra=None):
    """A copy of a model/checkpoint zip with its JSON header or members changed."""
    with zipfile.ZipFile(source) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    if header is not None:
        parts[serialize.CONFIG_NAME] = json.dumps(header).encode()
    parts.update(replace or {})
    parts.update(extra or {})
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return target


def header_of(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(serialize.CONFIG_NAME))


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def peak_bytes_of(function, *args):
    """The peak memory (traced by Python and NumPy) ``function`` uses, and the error it raised (or None)."""
    tracemalloc.start()
    error = None
    try:
        function(*args)
    except Exception as err:  # noqa: BLE001 - returned for the test to check
        error = err
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, error


def test_an_unneeded_huge_member_is_never_decompressed(model_file, tmp_path):
    bomb = rebuild(model_file, tmp_path / "bomb.chainrule", extra={"junk.npy": npy(np.zeros(64 * MiB, np.uint8))})
    assert bomb.stat().st_size < 2 * MiB
    peak, error = peak_bytes_of(cr.load, bomb)
    assert error is None and peak < 8 * MiB, (peak, error)


def test_a_huge_params_member_is_refused_from_its_header(model_file, tmp_path):
    bomb = rebuild(model_file, tmp_path / "bomb.chainrule", replace={"params.npy": npy(np.zeros(16 * MiB, np.float32))})
    peak, error = peak_bytes_of(cr.load, bomb)
    assert isinstance(error, cr.ModelFileError) and "array 'params' has shape (16777216,)" in str(error)
    assert peak < 8 * MiB, peak


def test_sizes_in_the_json_are_checked_before_anything_is_built(model_file, tmp_path):
    header = header_of(model_file)
    header["model"]["layers"][-1]["config"]["n_out"] = 15000
    header["model"]["layers"][-1]["config"]["n_in"] = 16
    edited = rebuild(model_file, tmp_path / "wide.chainrule", header=header)
    peak, error = peak_bytes_of(cr.load, edited)
    assert isinstance(error, cr.ModelFileError) and "params" in str(error) and str(edited) in str(error)
    assert peak < 4 * MiB, peak  # building first would allocate 16 x 15000 weights (and more)


def test_an_absurd_width_is_refused_by_the_bound(model_file, tmp_path):
    header = header_of(model_file)
    header["model"]["layers"][-1]["config"]["n_out"] = 10 ** 9
    edited = rebuild(model_file, tmp_path / "wide.chainrule", header=header)
    with pytest.raises(cr.ModelFileError, match="1000000000 wide; at most"):
        cr.load(edited)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused_naming_the_array(model_file, tmp_path, bad):
    model = cr.load(model_file)
    model.layers[1].running_var[3] = bad
    model.save(model_file)
    with pytest.raises(cr.ModelFileError, match=r"NaN or infinite values in its array 'layer1.running_var'"):
        cr.load(model_file)


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "zero.chainrule"
    link.symlink_to("/dev/zero")
    with pytest.raises(cr.ModelFileError, match="not a regular file"):
        cr.load(link)


def test_a_fifo_and_a_directory_are_refused_without_waiting(tmp_path):
    fifo = tmp_path / "fifo.chainrule"
    os.mkfifo(fifo)
    with pytest.raises(cr.ModelFileError, match="not a regular file"):
        cr.load(fifo)  # no writer: an ordinary open would block forever
    (tmp_path / "dir.chainrule").mkdir()
    with pytest.raises(cr.ModelFileError, match="is a directory"):
        cr.load(tmp_path / "dir.chainrule")


def test_a_file_over_the_size_cap_is_refused(model_file, monkeypatch):
    monkeypatch.setattr(serialize, "MAX_FILE_BYTES", 100)
    with pytest.raises(cr.ModelFileError, match="may hold at most 100 bytes"):
        cr.load(model_file)


def test_a_pickle_dtype_header_is_refused_before_reading(model_file, tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    edited = rebuild(model_file, tmp_path / "p.chainrule", replace={"params.npy": buffer.getvalue() + b"\x80\x04N."})
    with pytest.raises(cr.ModelFileError, match="Python objects are never loaded"):
        cr.load(edited)


def test_a_missing_model_entry_is_said_in_words(model_file, tmp_path):
    header = header_of(model_file)
    del header["model"]
    edited = rebuild(model_file, tmp_path / "h.chainrule", header=header)
    with pytest.raises(cr.ModelFileError, match="has no list of layers"):
        cr.load(edited)


# -- checkpoints -------------------------------------------------------------------------------------


@pytest.fixture
def checkpoint_file(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 20)).astype(np.float32)
    y = np.arange(40) % 3
    history = cbs.History()
    path = tmp_path / "run.ckpt"
    small_model().fit(X, y, loss="cross_entropy", optimizer=optim.Adam(), epochs=2, batch_size=8, verbose=0,
                      callbacks=[Checkpoint(path, history)], history=history)
    return path


def restore(path):
    return Checkpoint(path, cbs.History()).restore(small_model(), optim.Adam())


def test_a_checkpoint_restores(checkpoint_file):
    assert restore(checkpoint_file) == 2


@pytest.mark.parametrize("key, value, words", [
    ("epochs_done", -100, "epochs_done must be an integer >= 0; received -100"),
    ("epochs_done", "2", "epochs_done must be an integer >= 0"),
    ("stopped_early", "yes", "stopped_early must be True or False"),
    ("optimizer", None, "optimizer must be a table naming its class"),
    ("rng", [], "rng must be a table of generator states"),
    ("history", {"loss": [1.0]}, "history must be a table of lists of 2 values"),
])
def test_edited_checkpoint_values_are_refused_in_words(checkpoint_file, tmp_path, key, value, words):
    header = header_of(checkpoint_file)
    header[key] = value
    edited = rebuild(checkpoint_file, tmp_path / "edited.ckpt", header=header)
    with pytest.raises(cr.ModelFileError, match="edited.ckpt") as info:
        restore(edited)
    assert words in str(info.value)


def test_a_missing_rng_entry_is_said_in_words(checkpoint_file, tmp_path):
    header = header_of(checkpoint_file)
    header["rng"] = {}
    edited = rebuild(checkpoint_file, tmp_path / "edited.ckpt", header=header)
    with pytest.raises(cr.ModelFileError, match="does not fit this run: it has no entry 'shuffle'"):
        restore(edited)


def test_a_huge_optimizer_array_is_refused_from_its_header(checkpoint_file, tmp_path):
    with zipfile.ZipFile(checkpoint_file) as archive:
        name = next(n for n in archive.namelist() if n.startswith("optimizer."))
    bomb = rebuild(checkpoint_file, tmp_path / "bomb.ckpt", replace={name: npy(np.zeros(8 * MiB, np.float64))})
    peak, error = peak_bytes_of(restore, bomb)
    assert isinstance(error, cr.ModelFileError) and "allows at most" in str(error), error
    assert peak < 8 * MiB, peak
