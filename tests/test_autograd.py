"""The scalar autograd engine: every operation against finite differences and
PyTorch (float64), backward's bookkeeping, and whole networks built neuron by
neuron against chainrule's vectorised backprop."""

from __future__ import annotations

import math
import sys

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule import losses as L
from chainrule.autograd import ScalarNetwork, Value, grad_array, scalar_forward
from chainrule.reference import vectorised_gradients
from networks import random_network

H = 1e-6

# name -> (the Value operation, the same on a torch tensor)
UNARY = {
    "exp": (lambda v: v.exp(), torch.exp),
    "log": (lambda v: v.log(), torch.log),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "relu": (lambda v: v.relu(), torch.relu),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "neg": (lambda v: -v, lambda t: -t),
    "abs": (lambda v: abs(v), torch.abs),
    "pow2": (lambda v: v ** 2, lambda t: t ** 2),
    "pow3": (lambda v: v ** 3, lambda t: t ** 3),
    "pow_half": (lambda v: v ** 0.5, lambda t: t ** 0.5),
    "pow_minus1": (lambda v: v ** -1, lambda t: t ** -1),
    "pow_minus2.5": (lambda v: v ** -2.5, lambda t: t ** -2.5),
}
POSITIVE_ONLY = {"log", "pow_half", "pow_minus2.5"}
POINTS = [-2.3, -0.7, 0.4, 1.9, 3.1]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def torch_grad(f, *xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


def numeric(f, x):
    return (f(x + H) - f(x - H)) / (2 * H)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x", POINTS)
def test_unary_value_and_gradient(name, x):
    if name in POSITIVE_ONLY and x <= 0:
        x = -x
    op, torch_op = UNARY[name]
    a = Value(x)
    out = op(a)
    out.backward()
    expected, (expected_grad,) = torch_grad(torch_op, x)
    assert out.data == pytest.approx(expected, rel=1e-14, abs=1e-15)
    assert a.grad == pytest.approx(expected_grad, rel=1e-12, abs=1e-15)
    assert a.grad == pytest.approx(numeric(lambda t: op(Value(t)).data, x), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("x, y", [(1.5, -0.4), (-2.0, 3.0), (0.3, 0.7)])
def test_binary_value_and_gradients(name, x, y):
    op = BINARY[name]
    a, b = Value(x), Value(y)
    out = op(a, b)
    out.backward()
    expected, (ga, gb) = torch_grad(op, x, y)
    assert out.data == pytest.approx(expected, rel=1e-15)
    assert a.grad == pytest.approx(ga, rel=1e-14) and b.grad == pytest.approx(gb, rel=1e-14)
    assert a.grad == pytest.approx(numeric(lambda t: op(Value(t), Value(y)).data, x), rel=1e-6, abs=1e-9)
    assert b.grad == pytest.approx(numeric(lambda t: op(Value(x), Value(t)).data, y), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_operations_with_plain_numbers_on_either_side(name):
    op = BINARY[name]
    for x, c in [(1.5, 2.0), (-0.8, -3.0)]:
        for left in (True, False):
            a = Value(x)
            out = op(a, c) if left else op(c, a)  # a + 2 and 2 + a (radd, rsub, rmul, rtruediv)
            out.backward()
            f = (lambda t: op(t, c)) if left else (lambda t: op(c, t))
            expected, (g,) = torch_grad(f, x)
            assert isinstance(out, Value)
            assert out.data == pytest.approx(expected, rel=1e-15)
            assert a.grad == pytest.approx(g, rel=1e-14)


def test_a_composite_expression_matches_torch():
    def f(a, b, c, lib):
        exp = (lambda t: t.exp()) if lib == "value" else torch.exp
        tanh = (lambda t: t.tanh()) if lib == "value" else torch.tanh
        d = a * b + b ** 3 - 2 / c
        e = tanh(d) * exp(-a) + (c * c).log() if lib == "value" else tanh(d) * exp(-a) + torch.log(c * c)
        s = e.sigmoid() if lib == "value" else torch.sigmoid(e)
        r = (a - c).relu() if lib == "value" else torch.relu(a - c)
        return s * d + r / (1 + a * a) - 3 * e

    xs = (0.7, -1.3, 0.45)
    vs = [Value(x) for x in xs]
    out = f(*vs, "value")
    out.backward()
    expected, grads = torch_grad(lambda *t: f(*t, "torch"), *xs)
    assert out.data == pytest.approx(expected, rel=1e-13)
    for v, g in zip(vs, grads):
        assert v.grad == pytest.approx(g, rel=1e-12)


def test_a_reused_node_accumulates_every_path():
    a = Value(3.0)
    b = a * a + a  # db/da = 2a + 1
    b.backward()
    assert a.grad == 7.0
    c = Value(-2.0)
    d = c + c + c  # the same child twice in one node, and again
    d.backward()
    assert c.grad == 3.0


def test_backward_twice_gives_the_same_gradients():
    a, b = Value(0.5), Value(-1.5)
    c = (a * b).tanh() + a ** 2
    c.backward()
    first = (a.grad, b.grad, c.grad)
    c.backward()
    assert (a.grad, b.grad, c.grad) == first
    # a backward from an intermediate node also starts afresh on its own graph
    d = a * b
    e = d.exp() + d
    e.backward()
    e.backward()
    assert a.grad == pytest.approx((math.exp(-0.75) + 1) * -1.5, rel=1e-15)


def test_a_deep_chain_does_not_recurse():
    depth = 5000
    x = Value(0.1)
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.0  # two nodes per step: 10000 deep, far past the recursion limit
    assert 2 * depth > sys.getrecursionlimit()
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** depth, rel=1e-10)
    assert len(y.topological_order()) == 4 * depth + 1  # y, and per step a product, a sum and two constants
    repr(y)


def test_each_node_records_its_children_and_op():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert c.children == (a, b) and c.op == "*" and c.data == 6.0
    assert Value(1.0, (a,), "custom").op == "custom"
    assert float(c) == 6.0
    assert "6" in repr(c)


def test_clear_errors():
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="positive number; received -1.0"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="real number; received str"):
        Value("a")
    with pytest.raises(TypeError, match="received a Value"):
        Value(Value(1.0))


def test_sigmoid_and_exp_are_stable_at_large_inputs():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0
    v = Value(-40.0)
    v.sigmoid().backward()
    assert v.grad == pytest.approx(math.exp(-40.0), rel=1e-10)


# --- whole networks, neuron by neuron, against vectorised backprop ---------------------

def assert_same_gradients(model, X, y, loss):
    expected_cost, expected = vectorised_gradients(model, X, y, loss)
    cost, params = scalar_forward(model, X, y, loss)
    cost.backward()
    assert set(params) == set(expected)
    assert cost.data == pytest.approx(expected_cost, abs=1e-10)
    for name, grad in expected.items():
        assert params[name].shape == grad.shape, name
        np.testing.assert_allclose(grad_array(params[name]), grad, rtol=0, atol=1e-10, err_msg=name)
    assert any(np.any(g != 0) for g in expected.values())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), depth=st.integers(1, 3), data=st.data(),
       activation=st.sampled_from(["tanh", "relu", "sigmoid"]), loss_name=st.sampled_from(["mse", "ce"]))
def test_random_networks_match_vectorised_backprop(seed, depth, data, activation, loss_name):
    widths = data.draw(st.lists(st.integers(1, 5), min_size=depth, max_size=depth), label="widths")
    n_out = data.draw(st.integers(1 if loss_name == "mse" else 2, 5), label="n_out")
    m = data.draw(st.integers(1, 4), label="m")
    model = random_network(seed, widths, activation, n_out)
    rng = np.random.default_rng(seed + 2)
    X = rng.normal(size=(m, widths[0]))
    if loss_name == "mse":
        y, loss = rng.normal(size=(m, n_out)), L.MSE()
    else:
        y, loss = rng.integers(0, n_out, size=m), L.CrossEntropy(from_logits=True)
    assert_same_gradients(model, X, y, loss)


@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_cross_entropy_and_penalties(from_logits):
    layers = [cr.Dense(3, 4, l2=0.05), cr.Tanh(), cr.Dense(4, 2, l1=0.02)]
    if not from_logits:
        layers.append(cr.Sigmoid())
    model = cr.Sequential(layers, rng=3, dtype="float64")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(5, 3))
    X[0] = 0.0  # a logit of exactly 0 where the biases are zero: the softplus branch at z = 0
    y = rng.integers(0, 2, size=(5, 2))
    assert_same_gradients(model, X, y, L.BinaryCrossEntropy(from_logits=from_logits))


def test_cross_entropy_on_probabilities_and_one_hot_targets():
    model = cr.Sequential([cr.Dense(2, 3), cr.Sigmoid()], rng=5, dtype="float64")
    X = np.random.default_rng(6).normal(size=(4, 2))
    Y = np.eye(3)[[0, 2, 1, 2]]
    assert_same_gradients(model, X, Y, L.CrossEntropy(from_logits=False))


def test_scalar_network_api():
    model = cr.Sequential([cr.Dense(2, 3), cr.ReLU(), cr.Dense(3, 1), cr.Identity()], rng=7, dtype="float64")
    X = np.random.default_rng(8).normal(size=(3, 2))
    net = ScalarNetwork.from_sequential(model)
    out = net.forward(X)
    np.testing.assert_allclose([[v.data for v in row] for row in out], model.forward(X), atol=1e-12)
    cost = net.cost(X, np.zeros(3), "mse")
    cost.backward()
    grads = net.gradients()
    assert grads["W[1]"].shape == (2, 3) and grads["b[2]"].shape == (1,)
    assert net.inputs.shape == X.shape  # dC/dX is there too
    model.forward(X)
    loss = L.MSE()
    loss.forward(model.forward(X), np.zeros(3))
    dX = model.backward(loss.backward())
    np.testing.assert_allclose(grad_array(net.inputs), dX, atol=1e-12)


def test_unsupported_layers_and_losses_are_refused_clearly():
    with pytest.raises(TypeError, match=re.escape("model.layers[1] is Softmax")):
        ScalarNetwork.from_sequential(cr.Sequential([cr.Dense(2, 2), cr.Softmax()], rng=0))
    model = cr.Sequential([cr.Dense(2, 1)], rng=0, dtype="float64")
    with pytest.raises(TypeError, match="received Huber"):
        scalar_forward(model, np.zeros((1, 2)), np.zeros(1), L.Huber())
