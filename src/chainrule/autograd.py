"""A scalar autograd engine: the chain rule, one number at a time.

This is the bridge from *derivatives and partial derivatives* to
*vectorisation*. Every number of a computation is a ``Value`` that remembers
the values it was made from and the local derivative of the operation that
made it. For c = a * b the local derivatives are dc/da = b and dc/db = a; the
chain rule then says that if the cost C depends on c, it depends on a through
c by::

    dC/da += dC/dc * dc/da          (+= : a may feed several nodes; the paths add up)

``cost.backward()`` applies that rule to every node, from the cost back to
the inputs, in reverse topological order (a node only after every node that
uses it), and leaves dC/dv in ``v.grad`` for every ``v`` in the graph.

``ScalarNetwork`` builds a chainrule ``Sequential`` out of Values, neuron by
neuron: z_k = b_k + sum_j a_j W[j][k], one multiply and one add per weight.
Its gradients are exactly the dW[l], db[l] that the vectorised backward pass
computes with one matrix product per layer (dW = A_prev.T @ dZ): the matrix
formulas are these scalar chain rules, summed over neurons and samples all at
once. Thousands of Python objects here against a few NumPy calls there is
why vectorisation matters.

    x = Value(2.0); w = Value(-3.0); b = Value(1.0)
    y = (x * w + b).tanh()
    y.backward()
    w.grad    # dy/dw = (1 - y^2) x
"""

from __future__ import annotations

import math

import numpy as np

from . import losses as losses_module
from .layers import Dense, ReLU, Sigmoid, Tanh, layer_numbers
from .reference import SUPPORTED_LAYERS, SUPPORTED_LOSSES
from .reference import sigmoid as scalar_sigmoid


class Value:
    """A scalar in a computation graph: ``data``, ``grad`` = dC/d(this) after backward,
    the ``children`` it was computed from and the ``op`` that computed it."""

    __slots__ = ("data", "grad", "children", "op", "_backward")

    def __init__(self, data, children=(), op=""):
        if isinstance(data, Value):
            raise TypeError("Value: data must be a number; received a Value (use it directly)")
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value: data must be a real number; received {type(data).__name__}: {data!r}") from None
        self.grad = 0.0
        self.children = tuple(children)
        self.op = op
        self._backward = _nothing  # pushes self.grad to the children's grads

    # -- the operations: each sets out._backward to its local chain rule ------

    def __add__(self, other):
        other = as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = as_value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / (other.data * other.data)

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or not isinstance(exponent, (int, float, np.integer, np.floating)) \
                or isinstance(exponent, bool):
            raise TypeError(f"Value ** p: p must be a plain number (int or float); received "
                            f"{type(exponent).__name__}. For a ** b with b a Value use (b * a.log()).exp()")
        p = float(exponent)
        out = Value(self.data ** p, (self,), f"**{exponent:g}")

        def _backward():  # d(a^p)/da = p a^(p-1)
            self.grad += p * self.data ** (p - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        out = Value(-self.data, (self,), "neg")

        def _backward():  # d(-a)/da = -1
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __sub__(self, other):
        other = as_value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():  # d(a - b)/da = 1, d(a - b)/db = -1
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):  # 2 + a
        return self + other

    def __rmul__(self, other):  # 2 * a
        return self * other

    def __rsub__(self, other):  # 2 - a
        return as_value(other) - self

    def __rtruediv__(self, other):  # 2 / a
        return as_value(other) / self

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():  # d(e^a)/da = e^a
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        if not self.data > 0:
            raise ValueError(f"Value.log: expected a positive number; received {self.data!r}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # d(log a)/da = 1/a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():  # d(tanh a)/da = 1 - tanh(a)^2
            self.grad += (1.0 - out.data * out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():  # d(max(a, 0))/da = [a > 0] (0 at the kink, as PyTorch)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        out = Value(scalar_sigmoid(self.data), (self,), "sigmoid")

        def _backward():  # d(sigma(a))/da = sigma(a) (1 - sigma(a))
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    def abs(self):
        out = Value(abs(self.data), (self,), "abs")

        def _backward():  # d|a|/da = sign(a) (0 at a = 0, as np.sign)
            self.grad += (1.0 if self.data > 0 else -1.0 if self.data < 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    __abs__ = abs

    # -- the backward pass ---------------------------------------------------------

    def topological_order(self):
        """Every node this one depends on (itself included), each after all of its children.

        Depth-first search with an explicit stack, so a chain of any length
        works (no recursion limit).
        """
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node.children if id(child) not in visited)
        return order

    def backward(self):
        """Fill ``v.grad`` = d(self)/dv for every node v of the graph.

        Every grad of the graph is reset to 0 first, then self.grad = 1 and each
        node, in reverse topological order, adds its share to its children's grads.
        So calling backward twice gives the same gradients, not twice them.
        """
        order = self.topological_order()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __float__(self):
        return self.data

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{', op=' + repr(self.op) if self.op else ''})"


def _nothing():
    pass


def as_value(x):
    """x itself if it is a Value, else a constant Value(x) (a leaf whose grad nobody reads)."""
    return x if isinstance(x, Value) else Value(x)


def value_grid(array):
    """A NumPy object array of leaf Values, shaped like ``array``: grid[j, k] = Value(array[j, k])."""
    array = np.asarray(array, dtype=np.float64)
    grid = np.empty(array.shape, dtype=object)
    for index, x in np.ndenumerate(array):
        grid[index] = Value(x)
    return grid


def grad_array(grid):
    """The gradients of a grid of Values as a float64 array of the same shape."""
    return np.array([v.grad for v in grid.flat], dtype=np.float64).reshape(grid.shape)


def total(values):
    """The sum of an iterable of Values (or numbers), left to right."""
    result = None
    for v in values:
        result = v if result is None else result + v
    return Value(0.0) if result is None else as_value(result)


def softplus(z):
    """log(1 + e^z) as Values, written per sign so that exp never overflows:
    z + log(1 + e^-z) for z >= 0, log(1 + e^z) otherwise (the derivative is sigma(z) on both)."""
    if z.data >= 0:
        return z + (1 + (-z).exp()).log()
    return (1 + z.exp()).log()


class ScalarNetwork:
    """A chainrule ``Sequential`` rebuilt out of ``Value`` scalars, neuron by neuron.

    ``params`` maps "W[l]" and "b[l]" (the tutorial's names, as ``gradient_report``
    uses them) to object arrays of Values shaped like W (n_in, n_out) and b (n_out,),
    copied from the model's weights. For one sample a[0] = x, layer by layer::

        Dense:       z_k = b_k + sum_j a_j W[j][k]
        activation:  a_k = g(z_k)

    ``cost(X, y, loss)`` runs every sample through and averages the loss exactly
    as the vectorised loss does (L1/L2 penalties of Dense layers included).
    After ``cost.backward()``, ``gradients()`` holds dC/dW, dC/db as arrays
    shaped like W and b: the same numbers as ``model.backward`` fills.
    """

    def __init__(self, layers, params):
        self.layers = layers
        self.numbers = layer_numbers(layers)  # l of each layer, for the names W[l], b[l]
        self.params = params
        self.inputs = None  # the grid of Values of X from the last forward

    @classmethod
    def from_sequential(cls, model):
        """Copy the layers and weights of ``model`` (Dense, Tanh, ReLU, Sigmoid, Identity only)."""
        params = {}
        numbers = layer_numbers(model.layers)
        for i, layer in enumerate(model.layers):
            if not isinstance(layer, SUPPORTED_LAYERS):
                raise TypeError(f"ScalarNetwork supports the layers {[c.__name__ for c in SUPPORTED_LAYERS]}; "
                                f"model.layers[{i}] is {type(layer).__name__}")
            if isinstance(layer, Dense):
                params[f"W[{numbers[i]}]"] = value_grid(layer.W)
                params[f"b[{numbers[i]}]"] = value_grid(layer.b)
        return cls(list(model.layers), params)

    def forward(self, X):
        """The outputs for the rows of X: a list of m lists of Values (one per output neuron)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"ScalarNetwork: X must be 2-D (m samples, n features); received shape {X.shape}")
        self.inputs = value_grid(X)
        return [self.forward_one(list(row)) for row in self.inputs]

    def forward_one(self, a):
        """One sample through the network: a is a list of Values (the features x_j)."""
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dense):
                W, b = self.params[f"W[{self.numbers[i]}]"], self.params[f"b[{self.numbers[i]}]"]
                if len(a) != W.shape[0]:
                    raise ValueError(f"ScalarNetwork: the Dense of layer {self.numbers[i]} expects {W.shape[0]} inputs; "
                                     f"received {len(a)}")
                a = [total([b[k]] + [a[j] * W[j, k] for j in range(W.shape[0])]) for k in range(W.shape[1])]
            elif isinstance(layer, Tanh):
                a = [z.tanh() for z in a]
            elif isinstance(layer, ReLU):
                a = [z.relu() for z in a]
            elif isinstance(layer, Sigmoid):
                a = [z.sigmoid() for z in a]
            # Identity: a = z
        return a

    def cost(self, X, y, loss):
        """C as one Value: the mean loss over the batch, plus the Dense layers' L1/L2 penalties."""
        loss = losses_module.get(loss)
        if not isinstance(loss, SUPPORTED_LOSSES):
            raise TypeError(f"ScalarNetwork supports the losses {[c.__name__ for c in SUPPORTED_LOSSES]}; "
                            f"received {type(loss).__name__}")
        A = self.forward(X)
        Y = loss.targets(y, (len(A), len(A[0])), np.float64)
        m, k = Y.shape
        if isinstance(loss, losses_module.MSE):  # C = (1/(m k)) sum_i sum_k (a_ik - y_ik)^2
            C = total((A[i][j] - Y[i, j]) ** 2 for i in range(m) for j in range(k)) / (m * k)
        elif isinstance(loss, losses_module.BinaryCrossEntropy):
            if loss.from_logits:  # -[y log sigma(z) + (1 - y) log(1 - sigma(z))] = softplus(z) - y z
                terms = (softplus(A[i][j]) - Y[i, j] * A[i][j] for i in range(m) for j in range(k))
            else:
                terms = (-(Y[i, j] * A[i][j].log() + (1 - Y[i, j]) * (1 - A[i][j]).log())
                         for i in range(m) for j in range(k))
            C = total(terms) / (m * k)
        else:  # CrossEntropy: C = -(1/m) sum_i sum_j Y_ij log p_ij
            rows = []
            for i in range(m):
                if loss.from_logits:  # log p_j = z_j - c - log sum_k e^(z_k - c), c = max_k z_k (a constant)
                    c = max(z.data for z in A[i])
                    log_norm = total((z - c).exp() for z in A[i]).log() + c
                    rows.append(total(Y[i, j] * (A[i][j] - log_norm) for j in range(k) if Y[i, j] != 0))
                else:
                    rows.append(total(Y[i, j] * A[i][j].log() for j in range(k) if Y[i, j] != 0))
            C = -total(rows) / m
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Dense) and (layer.l1 or layer.l2):
                W = self.params[f"W[{self.numbers[i]}]"]
                if layer.l2:  # + l2 sum W^2
                    C = C + layer.l2 * total(w * w for w in W.flat)
                if layer.l1:  # + l1 sum |W|
                    C = C + layer.l1 * total(w.abs() for w in W.flat)
        return C

    def gradients(self):
        """{"layer0.W": dC/dW, ...}: the grads of the parameter Values, as arrays shaped like W and b."""
        return {name: grad_array(grid) for name, grid in self.params.items()}


def scalar_forward(model, X, y, loss):
    """Build ``model`` neuron by neuron out of Values and return (cost, params).

    ``cost`` is the Value of C; after ``cost.backward()`` each Value in the
    grids of ``params`` ({"layer0.W": object array shaped like W, ...}) holds
    dC/d(that weight). ``grad_array(params["layer0.W"])`` reads them as an
    array, to compare with ``model.layers[0].dW`` from vectorised backprop.
    """
    net = ScalarNetwork.from_sequential(model)
    return net.cost(X, y, loss), net.params


__all__ = ["Value", "ScalarNetwork", "scalar_forward", "value_grid", "grad_array", "as_value",
           "total", "softplus"]
