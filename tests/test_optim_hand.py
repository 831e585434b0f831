"""Each optimizer's first step or two, worked out by hand.

The model is one neuron, Dense(2, 1), with W = [0.5, -0.25], b = 0.1, one
sample x = [1, 2] with target y = 1, and the MSE loss (one element, so n = 1):

    z  = 0.5 * 1 + (-0.25) * 2 + 0.1 = 0.1
    dz = 2 (z - y) = 2 (0.1 - 1) = -1.8
    g  = (dW0, dW1, db) = (x1 dz, x2 dz, dz) = (-1.8, -3.6, -1.8)

Parameters below are listed as p = (W0, W1, b), in the model's flat order.
"""

import numpy as np
import pytest

import chainrule as cr

RTOL = 1e-10


def neuron():
    model = cr.Sequential([cr.Dense(2, 1)], rng=0, dtype="float64")
    model.layers[0].W = [[0.5], [-0.25]]
    model.layers[0].b = [0.1]
    return model


def train(opt, steps):
    """``steps`` rounds of forward, MSE, backward and opt.step on the one sample; the flat (W0, W1, b)."""
    model, loss = neuron(), cr.losses.MSE()
    X, y = np.array([[1.0, 2.0]]), np.array([1.0])
    for _ in range(steps):
        loss(model.forward(X, training=True), y)
        model.backward(loss.backward(), need_input_grad=False)
        opt.step(model)
    return model.params_.copy()


def test_start():
    model, loss = neuron(), cr.losses.MSE()
    assert loss(model.forward(np.array([[1.0, 2.0]])), np.array([1.0])) == pytest.approx(0.81)  # (0.1 - 1)^2
    model.backward(loss.backward())
    np.testing.assert_allclose(model.grads_, [-1.8, -3.6, -1.8], rtol=RTOL)


def test_sgd_one_step():
    # p <- p - lr g = (0.5, -0.25, 0.1) - 0.1 (-1.8, -3.6, -1.8)
    #                = (0.5 + 0.18, -0.25 + 0.36, 0.1 + 0.18) = (0.68, 0.11, 0.28)
    np.testing.assert_allclose(train(cr.optim.SGD(lr=0.1), 1), [0.68, 0.11, 0.28], rtol=RTOL)


def test_sgd_momentum_two_steps():
    # step 1: v1 = g1 = (-1.8, -3.6, -1.8);  p1 = p0 - 0.1 v1 = (0.68, 0.11, 0.28)  (as plain SGD)
    # step 2: z = 0.68 + 0.11 * 2 + 0.28 = 1.18;  dz = 2 (1.18 - 1) = 0.36;  g2 = (0.36, 0.72, 0.36)
    #         v2 = 0.9 v1 + g2 = (-1.62 + 0.36, -3.24 + 0.72, -1.62 + 0.36) = (-1.26, -2.52, -1.26)
    #         p2 = p1 - 0.1 v2 = (0.68 + 0.126, 0.11 + 0.252, 0.28 + 0.126) = (0.806, 0.362, 0.406)
    # (plain SGD would give p1 - 0.1 g2 = (0.644, 0.038, 0.244): the velocity matters)
    np.testing.assert_allclose(train(cr.optim.SGD(lr=0.1, momentum=0.9), 2), [0.806, 0.362, 0.406], rtol=RTOL)


def test_sgd_nesterov_two_steps():
    # step 1: v1 = g1 = (-1.8, -3.6, -1.8);  p <- p - lr (g1 + 0.9 v1) = p - 0.1 * 1.9 g1
    #         p1 = (0.5 + 0.342, -0.25 + 0.684, 0.1 + 0.342) = (0.842, 0.434, 0.442)
    # step 2: z = 0.842 + 0.434 * 2 + 0.442 = 2.152;  dz = 2 (2.152 - 1) = 2.304;  g2 = (2.304, 4.608, 2.304)
    #         v2 = 0.9 v1 + g2 = (-1.62 + 2.304, -3.24 + 4.608, -1.62 + 2.304) = (0.684, 1.368, 0.684)
    #         g2 + 0.9 v2 = (2.304 + 0.6156, 4.608 + 1.2312, 2.304 + 0.6156) = (2.9196, 5.8392, 2.9196)
    #         p2 = p1 - 0.1 (g2 + 0.9 v2) = (0.842 - 0.29196, 0.434 - 0.58392, 0.442 - 0.29196)
    #            = (0.55004, -0.14992, 0.15004)
    np.testing.assert_allclose(train(cr.optim.SGD(lr=0.1, momentum=0.9, nesterov=True), 2),
                               [0.55004, -0.14992, 0.15004], rtol=RTOL)


def test_adagrad_two_steps():
    # lr = 0.525 so that the second gradient is -4/3 of the first, and sqrt(s) comes out whole.
    # step 1: s1 = g1^2 = (3.24, 12.96, 3.24);  sqrt(s1) = |g1|, so p moves by lr sign(-g1) = +0.525:
    #         p1 = (1.025, 0.275, 0.625)
    # step 2: z = 1.025 + 0.275 * 2 + 0.625 = 2.2;  dz = 2 (2.2 - 1) = 2.4;  g2 = (2.4, 4.8, 2.4)
    #         s2 = s1 + g2^2 = (3.24 + 5.76, 12.96 + 23.04, 3.24 + 5.76) = (9, 36, 9);  sqrt = (3, 6, 3)
    #         p2 = p1 - 0.525 (2.4 / 3, 4.8 / 6, 2.4 / 3) = p1 - 0.525 * 0.8 = p1 - 0.42
    #            = (0.605, -0.145, 0.205)
    # eps = 1e-10 (in sqrt(s) + eps) shifts each of these by about 4e-12 only.
    np.testing.assert_allclose(train(cr.optim.Adagrad(lr=0.525), 2), [0.605, -0.145, 0.205], rtol=RTOL)


def test_rmsprop_one_step():
    # s = 0.99 * 0 + 0.01 g^2, so sqrt(s) = 0.1 |g| = (0.18, 0.36, 0.18)
    # p <- p - lr g / (sqrt(s) + eps) with lr = 0.01, eps = 1e-8:
    #   W0: 1.8 / (0.18 + 1e-8) = 10 / (1 + 1e-8 / 0.18) = 10 (1 - 5.5556e-8) = 9.99999944444
    #       W0 = 0.5 + 0.01 * 9.99999944444 = 0.599999994444
    #   W1: 3.6 / (0.36 + 1e-8) = 10 (1 - 2.7778e-8) = 9.99999972222
    #       W1 = -0.25 + 0.0999999972222 = -0.150000002778
    #   b:  as W0, 0.1 + 0.0999999944444 = 0.199999994444
    # (eps sits outside the square root, as in torch: inside it, W0 would be
    #  0.5 + 0.018 / sqrt(0.0324 + 1e-8) = 0.59999998457)
    np.testing.assert_allclose(train(cr.optim.RMSProp(lr=0.01), 1),
                               [0.599999994444444753, -0.150000002777777701, 0.199999994444444753], rtol=RTOL)


def test_adam_two_steps():
    # lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8.
    # step 1: m1 = 0.1 g1 = (-0.18, -0.36, -0.18);  v1 = 0.001 g1^2 = (0.00324, 0.01296, 0.00324)
    #         bias-corrected: m1 / (1 - 0.9) = g1 and v1 / (1 - 0.999) = g1^2, so the first step is
    #         lr g1 / (|g1| + eps) = -0.1 (1 - eps / |g1|):  W0 = 0.5 + 0.1 (1 - 5.6e-9) = 0.59999999944,
    #         p1 = (0.59999999944, -0.15000000028, 0.19999999944)
    # step 2: z = 0.6 - 0.3 + 0.2 = 0.5 (+ 1.7e-9);  dz = 2 (0.5 - 1) = -1;  g2 = (-1, -2, -1)
    #         m2 = 0.9 m1 + 0.1 g2 = (-0.162 - 0.1, -0.324 - 0.2, ...) = (-0.262, -0.524, -0.262)
    #         v2 = 0.999 v1 + 0.001 g2^2 = (0.00323676 + 0.001, 0.01294704 + 0.004, ...)
    #            = (0.00423676, 0.01694704, 0.00423676)
    #         m_hat = m2 / (1 - 0.9^2) = m2 / 0.19 = (-1.3789474, -2.7578947, -1.3789474)
    #         v_hat = v2 / (1 - 0.999^2) = v2 / 0.001999 = (2.1194397, 8.4777589, 2.1194397)
    #         sqrt(v_hat) = (1.4558296, 2.9116591, 1.4558296)
    #         step = 0.1 m_hat / (sqrt(v_hat) + eps) = -0.1 * 0.947190 = -0.0947190 for all three
    #         (each coordinate's gradients scale with its own x_i, and Adam is scale-invariant)
    #         p2 = (0.6 + 0.0947190, -0.15 + 0.0947190, 0.2 + 0.0947190) = (0.6947190, -0.0552810, 0.2947190)
    np.testing.assert_allclose(train(cr.optim.Adam(lr=0.1), 2),
                               [0.694719010074067552, -0.0552809893228452658, 0.294719010074067552], rtol=RTOL)


def test_adamw_one_step():
    # lr = 0.1, weight_decay = 0.1: first p <- p (1 - lr wd) = 0.99 p = (0.495, -0.2475, 0.099)
    # (the gradient g1 = (-1.8, -3.6, -1.8) was taken before, at the undecayed p),
    # then the first Adam step, lr g / (|g| + eps) = -0.1 (1 - eps / |g|), as in test_adam_two_steps:
    #   W0 = 0.495 + 0.1 (1 - 1e-8 / 1.8) = 0.595 - 5.6e-10 = 0.59499999944
    #   W1 = -0.2475 + 0.1 (1 - 1e-8 / 3.6) = -0.1475 - 2.8e-10 = -0.14750000028
    #   b  = 0.099 + 0.1 (1 - 1e-8 / 1.8) = 0.199 - 5.6e-10 = 0.19899999944
    # (Adam with weight_decay=0.1 would instead add 0.1 p to g before the step)
    np.testing.assert_allclose(train(cr.optim.AdamW(lr=0.1, weight_decay=0.1), 1),
                               [0.594999999444444448, -0.147500000277777777, 0.198999999444444448], rtol=RTOL)


def test_adam_l2_weight_decay_one_step():
    # Adam(weight_decay=0.1) folds 0.1 p into g: g' = g + 0.1 p
    #   = (-1.8 + 0.05, -3.6 - 0.025, -1.8 + 0.01) = (-1.75, -3.625, -1.79)
    # and the first step is still lr g' / (|g'| + eps) = -0.1 (1 - eps / |g'|):
    #   W0 = 0.5 + 0.1 (1 - 1e-8 / 1.75) = 0.6 - 5.714e-10 = 0.59999999942857
    #   W1 = -0.25 + 0.1 (1 - 1e-8 / 3.625) = -0.15 - 2.759e-10 = -0.15000000027586
    #   b  = 0.1 + 0.1 (1 - 1e-8 / 1.79) = 0.2 - 5.587e-10 = 0.19999999944134
    np.testing.assert_allclose(train(cr.optim.Adam(lr=0.1, weight_decay=0.1), 1),
                               [0.599999999428571429, -0.150000000275862069, 0.199999999441340782], rtol=RTOL)
