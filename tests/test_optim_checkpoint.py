"""The optimizer's state in checkpoints: named for what it holds (format version 2), and a
version-1 checkpoint, which saved Adam's scaled moments as ``m`` and ``v``, read and converted."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import callbacks as cbs
from chainrule import optim
from chainrule.io.serialize import ModelFileError, read_archive, write_archive
from chainrule.training.checkpoint import FORMAT, Checkpoint, read_checkpoint

OPTIMIZERS = {
    "adam": (lambda: optim.Adam(lr=0.01), {"m_scaled", "v_scaled"}),
    "adamw": (lambda: optim.AdamW(lr=0.01), {"m_scaled", "v_scaled"}),
    "sgd": (lambda: optim.SGD(lr=0.05, momentum=0.9), {"velocity"}),
    "rmsprop": (lambda: optim.RMSProp(momentum=0.5), {"mean_sq", "velocity"}),
    "adagrad": (lambda: optim.Adagrad(), {"sum_sq"}),
}


def network():
    return cr.Sequential([cr.Dense(6, 5), cr.ReLU(), cr.Dense(5, 3)], rng=0, dtype="float64")


def trained(make, path, epochs=2):
    """A model and optimizer after ``epochs`` epochs, with a checkpoint written to path."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6)), rng.integers(0, 3, 40)
    model, opt, history = network(), make(), cbs.History()
    model.fit(X, y, loss="cross_entropy", optimizer=opt, epochs=epochs, batch_size=8, verbose=0,
              callbacks=[Checkpoint(path, history)], history=history)
    return model, opt


def as_version_1(path, out):
    """The checkpoint at path rewritten as version 1 wrote it: Adam's moments named m and v."""
    header, arrays = read_archive(path, FORMAT, version=2)
    old_names = {"optimizer.m_scaled": "optimizer.m", "optimizer.v_scaled": "optimizer.v"}
    write_archive(out, {**header, "format_version": 1}, {old_names.get(k, k): a for k, a in arrays.items()})
    return out


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_is_saved_under_the_names_of_what_it_holds(name, tmp_path):
    make, names = OPTIMIZERS[name]
    _, opt = trained(make, tmp_path / "run.ckpt")
    header, arrays = read_archive(tmp_path / "run.ckpt", FORMAT, version=2)
    assert header["format_version"] == 2
    assert {k for k in arrays if k.startswith("optimizer.")} == {f"optimizer.{n}" for n in names}
    for n in names:
        assert np.array_equal(arrays[f"optimizer.{n}"], opt.state[n])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_version_1_checkpoint_is_converted_on_reading(name, tmp_path):
    make, names = OPTIMIZERS[name]
    model, opt = trained(make, tmp_path / "run.ckpt")
    old = as_version_1(tmp_path / "run.ckpt", tmp_path / "v1.ckpt")
    if name.startswith("adam"):
        assert {"optimizer.m", "optimizer.v"} <= set(read_archive(old, FORMAT, version=1)[1])
    header, _ = read_checkpoint(old)
    assert header["format_version"] == 2

    fresh, fresh_opt = network(), make()
    assert Checkpoint(old, cbs.History()).restore(fresh, fresh_opt) == 2
    assert np.array_equal(fresh.params_, model.params_) and fresh_opt.iterations == opt.iterations
    assert fresh_opt.state.keys() == opt.state.keys() == names
    for n in names:
        assert np.array_equal(fresh_opt.state[n], opt.state[n])


def test_a_newer_or_broken_checkpoint_is_refused_with_the_reason(tmp_path):
    trained(lambda: optim.Adam(), tmp_path / "run.ckpt", epochs=1)
    header, arrays = read_archive(tmp_path / "run.ckpt", FORMAT, version=2)
    write_archive(tmp_path / "v3.ckpt", {**header, "format_version": 3}, arrays)
    with pytest.raises(ModelFileError, match="v3.ckpt has chainrule-checkpoint format version 3; "
                                             "this chainrule reads version 2"):
        Checkpoint(tmp_path / "v3.ckpt", cbs.History()).restore(network(), optim.Adam())

    del arrays["optimizer.v_scaled"]  # a version-2 file without one of Adam's arrays
    write_archive(tmp_path / "partial.ckpt", header, arrays)
    with pytest.raises(ValueError, match="Adam: the saved state has no v_scaled "
                                         r"\(it holds m_scaled\)"):
        Checkpoint(tmp_path / "partial.ckpt", cbs.History()).restore(network(), optim.Adam())
