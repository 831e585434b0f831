"""The Layer interface that every layer of chainrule follows.

A layer maps its input ``A_prev`` to its output in ``forward`` and, in
``backward``, maps the gradient of the cost with respect to its output to the
gradient with respect to its input, filling the gradient of each of its
parameters on the way: parameter ``W`` has gradient ``dW``, always of the same
shape and dtype.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..init import as_generator


class ArrayAttribute:
    """A layer's parameter, gradient or state array (``W``, ``dW``, ``running_mean``, ...).

    Reading it is reading the array. Assigning to it once it exists copies the new
    values into the existing array, so that the model's flat parameter buffer, of
    which the layer's arrays are views, never goes stale: ``layer.W = W_new`` is
    ``layer.W[...] = W_new``. ``Layer.bind`` is the one way to replace the array
    itself. Every other attribute of a layer (the forward cache, ``A_prev``, ...)
    is a plain Python attribute.
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        try:
            return layer.__dict__[self.name]
        except KeyError:
            raise AttributeError(f"{type(layer).__name__}.{self.name} does not exist until the layer is built "
                                 "(Sequential builds its layers)") from None

    def __set__(self, layer, value):
        current = layer.__dict__.get(self.name)
        if current is None:
            layer.__dict__[self.name] = value
            return
        value = np.asarray(value)
        if value.shape != current.shape:
            raise ValueError(f"{type(layer).__name__}: {self.name} must have shape {current.shape}; "
                             f"received {value.shape}")
        current[...] = value


class ForwardFirstError(AttributeError, RuntimeError):
    """backward (or anything else) asked for what only forward computes; hasattr still says False."""


class Layer:
    #: trainable parameters; each has a gradient named "d" + name
    param_names: tuple[str, ...] = ()
    #: arrays saved with the model but not trained (BatchNorm's running statistics)
    state_names: tuple[str, ...] = ()
    #: what forward keeps for backward (A_prev, A, Z, ...): missing before the first forward
    cache_names: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in (*cls.param_names, *("d" + n for n in cls.param_names), *cls.state_names):
            if not isinstance(cls.__dict__.get(name), ArrayAttribute):
                attribute = ArrayAttribute()
                attribute.__set_name__(cls, name)
                setattr(cls, name, attribute)

    def __init__(self):
        self.dtype = None
        self.built = False

    # -- parameters ---------------------------------------------------------

    def build(self, rng=None, dtype="float32"):
        """Create the parameters (zeroed gradients beside them) in ``dtype``."""
        self.dtype = np.dtype(dtype)
        for name, value in self.init_params(as_generator(rng), self.dtype).items():
            self.bind(name, value)
            self.bind("d" + name, np.zeros_like(value))
        for name, value in self.init_state(self.dtype).items():
            self.bind(name, value)
        self.built = True
        return self

    def bind(self, name, array):
        """Make ``array`` the layer's parameter, gradient or state ``name`` (the model binds views
        of its flat buffers this way); assigning ``layer.name = ...`` copies into it instead."""
        if not isinstance(type(self).__dict__.get(name) or getattr(type(self), name, None), ArrayAttribute):
            raise AttributeError(f"{type(self).__name__} has no parameter, gradient or state named {name!r}")
        self.__dict__[name] = array

    def init_params(self, rng, dtype) -> dict:
        """Fresh parameters, by name. Layers without parameters return {}."""
        return {}

    def init_state(self, dtype) -> dict:
        return {}

    def params(self) -> dict:
        return {name: getattr(self, name) for name in self.param_names}

    def grads(self) -> dict:
        return {name: getattr(self, "d" + name) for name in self.param_names}

    def state(self) -> dict:
        return {name: getattr(self, name) for name in self.state_names}

    def penalty(self) -> float:
        """The regularisation this layer adds to the cost (0 for most layers)."""
        return 0.0

    # -- sizes --------------------------------------------------------------

    def input_size(self):
        """The number of input features this layer needs, or None for any."""
        return None

    def output_size(self, n_in):
        """The number of output features for ``n_in`` inputs (None: unknown)."""
        return n_in

    # -- the passes ---------------------------------------------------------

    def forward(self, A_prev, training=False):
        raise NotImplementedError

    def backward(self, dA, need_input_grad=True):
        raise NotImplementedError

    def __call__(self, A_prev, training=False):
        return self.forward(A_prev, training=training)

    def __getattr__(self, name):
        """Only for attributes that are missing (so the passes pay nothing): a parameter before
        build gets its descriptor's message, a forward cache before forward says to run forward."""
        descriptor = getattr(type(self), name, None)
        if isinstance(descriptor, ArrayAttribute):  # a parameter before build: the descriptor's own message
            return descriptor.__get__(self, type(self))
        if name in type(self).cache_names:
            raise ForwardFirstError(f"{type(self).__name__}.backward: call forward before backward (the layer has "
                                    f"no {name} from a forward pass yet)", name=name, obj=self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self)

    # -- configuration --------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor arguments, enough to build the same layer again."""
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        """The class and the constructor arguments that differ from their defaults."""
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()}
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if defaults.get(k) != v)
        return f"{type(self).__name__}({args})"
