import numpy as np

import chainrule as cr


def test_digits_demo_reaches_97_percent():
    from chainrule.demo import train_digits

    _, accuracy, _ = train_digits(epochs=40, seed=0)
    assert accuracy >= 0.97


def test_xor_is_learnt_by_a_2_4_1_network():
    X, y = cr.data.make_xor()
    model = cr.Sequential([cr.Dense(2, 4, init="glorot_uniform"), cr.Tanh(), cr.Dense(4, 1, init="glorot_uniform")],
                          rng=0, dtype="float64")
    model.fit(X, y, loss="bce", optimizer=cr.optim.Adam(lr=0.05), epochs=500, batch_size=4, verbose=0)
    assert np.array_equal(model.predict(X), y)
