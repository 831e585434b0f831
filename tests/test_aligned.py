"""Arrays on 64-byte boundaries (chainrule.aligned), and the training arrays that use them."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import aligned


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8])
@pytest.mark.parametrize("shape", [0, 1, 7, (3, 5), (1, 235_146)])
def test_empty_zeros_and_copy_start_on_a_boundary(shape, dtype):
    for _ in range(5):  # malloc's addresses vary: several tries
        a = aligned.empty(shape, dtype)
        assert a.ctypes.data % 64 == 0 or a.size == 0  # an empty array has no first element to place
        assert a.shape == ((shape,) if isinstance(shape, int) else shape) and a.dtype == dtype
        assert a.flags.c_contiguous and a.flags.writeable
    z = aligned.zeros(shape, dtype)
    assert (z.ctypes.data % 64 == 0 or z.size == 0) and not z.any()
    source = np.arange(np.prod(shape), dtype=dtype).reshape(shape)
    c = aligned.copy(source)
    assert (c.ctypes.data % 64 == 0 or c.size == 0) and np.array_equal(c, source) and c.dtype == dtype
    c[...] = 0
    assert np.array_equal(source, np.arange(np.prod(shape), dtype=dtype).reshape(shape))  # a copy, not a view


def test_the_arrays_every_step_passes_over_are_aligned(tmp_path):
    """The flat parameters and gradients, Adam's moments and scratch, also after a resume."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 5)).astype(np.float32), rng.integers(0, 3, 64)
    model = cr.Sequential([cr.Dense(5, 7), cr.ReLU(), cr.Dense(7, 3)], rng=0)
    optimizer = cr.optim.Adam(1e-2)
    model.fit(X, y, loss="cross_entropy", optimizer=optimizer, epochs=1, batch_size=16, verbose=0)
    arrays = [model.params_, model.grads_, *optimizer.state.values(), *optimizer._scratch.arrays.values()]
    assert len(arrays) == 5 and all(a.ctypes.data % 64 == 0 for a in arrays)
    resumed = cr.optim.Adam(1e-2)
    resumed.load_state(optimizer.lr, optimizer.iterations, {k: v.copy() for k, v in optimizer.state.items()})
    assert all(a.ctypes.data % 64 == 0 for a in resumed.state.values())
    for name, a in resumed.state.items():
        np.testing.assert_array_equal(a, optimizer.state[name])
