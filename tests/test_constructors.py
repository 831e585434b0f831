"""Every public constructor (and fit) refuses NaN, infinity, a negative, a wrong type and a bool
where a number is meant, in the library's one wording:

    Owner: name must be <what was expected>; received <what arrived>

ValueError for a value of the right kind out of range, TypeError for a value of the wrong kind.
"""

import math
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule import callbacks as cbs
from chainrule import data, losses, optim, schedules

NAN, INF = float("nan"), float("inf")

# (owner as it appears in the message, a function building the object from keyword arguments,
#  the argument, its kind, whether negatives are allowed, whether it may be infinite)
CASES = [
    ("Dense", lambda **k: cr.Dense(**{"n_in": 3, "n_out": 2, **k}), "n_in", "int", False),
    ("Dense", lambda **k: cr.Dense(**{"n_in": 3, "n_out": 2, **k}), "n_out", "int", False),
    ("Dense", lambda **k: cr.Dense(3, 2, **k), "l1", "number", False),
    ("Dense", lambda **k: cr.Dense(3, 2, **k), "l2", "number", False),
    ("BatchNorm", lambda **k: cr.BatchNorm(**{"features": 3, **k}), "features", "int", False),
    ("BatchNorm", lambda **k: cr.BatchNorm(3, **k), "momentum", "number", False),
    ("BatchNorm", lambda **k: cr.BatchNorm(3, **k), "eps", "number", False),
    ("Dropout", lambda **k: cr.Dropout(**k), "p", "number", False),
    ("LeakyReLU", lambda **k: cr.LeakyReLU(**k), "negative_slope", "number", True),
    ("ELU", lambda **k: cr.ELU(**k), "alpha", "number", True),
    ("Huber", lambda **k: losses.Huber(**k), "delta", "number", False),
    ("BinaryCrossEntropy", lambda **k: losses.BinaryCrossEntropy(**k), "from_logits", "bool", None),
    ("CrossEntropy", lambda **k: losses.CrossEntropy(**k), "from_logits", "bool", None),
    *[(name, (lambda cls: lambda **k: cls(**k))(cls), arg, "number", False)
      for name, cls in (("SGD", optim.SGD), ("Adagrad", optim.Adagrad), ("RMSProp", optim.RMSProp),
                        ("Adam", optim.Adam), ("AdamW", optim.AdamW))
      for arg in ("lr", "weight_decay", "clipnorm")],
    ("SGD", lambda **k: optim.SGD(**k), "momentum", "number", False),
    ("SGD", lambda **k: optim.SGD(momentum=0.9, **k), "nesterov", "bool", None),
    ("Adagrad", lambda **k: optim.Adagrad(**k), "eps", "number", False),
    ("RMSProp", lambda **k: optim.RMSProp(**k), "alpha", "number", False),
    ("RMSProp", lambda **k: optim.RMSProp(**k), "eps", "number", False),
    ("RMSProp", lambda **k: optim.RMSProp(**k), "momentum", "number", False),
    ("Adam", lambda **k: optim.Adam(**k), "eps", "number", False),
    ("AdamW", lambda **k: optim.AdamW(**k), "eps", "number", False),
    ("StepDecay", lambda **k: schedules.StepDecay(**{"step_size": 2, **k}), "step_size", "int", False),
    ("StepDecay", lambda **k: schedules.StepDecay(2, **k), "gamma", "number", False),
    ("ExponentialDecay", lambda **k: schedules.ExponentialDecay(**k), "gamma", "number", False),
    ("CosineDecay", lambda **k: schedules.CosineDecay(**{"total_epochs": 10, **k}), "total_epochs", "int", False),
    ("CosineDecay", lambda **k: schedules.CosineDecay(10, **k), "warmup_epochs", "int", False),
    ("CosineDecay", lambda **k: schedules.CosineDecay(10, **k), "min_lr", "number", False),
    ("EarlyStopping", lambda **k: cbs.EarlyStopping(**k), "patience", "int", False),
    ("EarlyStopping", lambda **k: cbs.EarlyStopping(**k), "min_delta", "number", False),
    ("EarlyStopping", lambda **k: cbs.EarlyStopping(**k), "restore_best_weights", "bool", None),
    ("ReduceLROnPlateau", lambda **k: cbs.ReduceLROnPlateau(**k), "factor", "number", False),
    ("ReduceLROnPlateau", lambda **k: cbs.ReduceLROnPlateau(**k), "patience", "int", False),
    ("ReduceLROnPlateau", lambda **k: cbs.ReduceLROnPlateau(**k), "min_delta", "number", False),
    ("ReduceLROnPlateau", lambda **k: cbs.ReduceLROnPlateau(**k), "min_lr", "number", False),
    ("ModelCheckpoint", lambda **k: cbs.ModelCheckpoint("m.chainrule", **k), "save_best_only", "bool", None),
    ("top_k_accuracy", lambda **k: cr.metrics.top_k_accuracy([0, 1], np.eye(2), **k), "k", "int", False),
    ("ConstantScaler", lambda **k: data.ConstantScaler(**k), "value", "number", False),
    ("train_test_split", lambda **k: data.train_test_split(np.zeros((10, 2)), np.arange(10) % 2, **k),
     "test_size", "number", False),
    *[(name, (lambda f: lambda **k: f(**k))(maker), "n", "int", False) for maker in data.GENERATED.values() for name in [maker.__name__]],
    *[(name, (lambda f: lambda **k: f(**k))(maker), "noise", "number", False)
      for maker in data.GENERATED.values() for name in [maker.__name__] if name != "make_blobs"],
    ("make_blobs", lambda **k: data.make_blobs(**k), "spread", "number", False),
    ("make_spirals", lambda **k: data.make_spirals(**k), "arms", "int", False),
    ("make_blobs", lambda **k: data.make_blobs(**k), "centers", "int", False),
    ("Perceptron", lambda **k: cr.Perceptron(**k), "lr", "number", False),
    ("Perceptron", lambda **k: cr.Perceptron(**k), "max_epochs", "int", False),
    ("Perceptron", lambda **k: cr.Perceptron(**k), "shuffle", "bool", None),
    ("SigmoidNeuron", lambda **k: cr.SigmoidNeuron(**k), "lr", "number", False),
    ("SigmoidNeuron", lambda **k: cr.SigmoidNeuron(**k), "epochs", "int", False),
]

X, Y = np.random.default_rng(0).normal(size=(8, 3)), np.arange(8) % 2


def fit(**k):
    model = cr.Sequential([cr.Dense(3, 2)], rng=0)
    return model.fit(X, Y, loss="cross_entropy", verbose=0, **{"epochs": 1, **k})


CASES += [
    ("fit", fit, "batch_size", "int", False),
    ("fit", fit, "epochs", "int", False),
    ("fit", fit, "validation_split", "number", False),
    ("fit", fit, "shuffle", "bool", None),
]


def bad_values(kind, negatives_allowed):
    """(value, the error it must raise) for one kind of argument."""
    if kind == "bool":
        return [("yes", TypeError), (1, TypeError), (None, TypeError)]
    if kind == "int":
        values = [(NAN, TypeError), (INF, TypeError), (2.5, TypeError), ("3", TypeError), (True, TypeError)]
        return values + ([] if negatives_allowed else [(-1, ValueError)])
    values = [(NAN, ValueError), (INF, ValueError), (-INF, ValueError), ("0.1", TypeError), (True, TypeError),
              (None, TypeError)]
    return values + ([] if negatives_allowed else [(-1.0, ValueError)])


NONE_MEANS_OFF = {"clipnorm"}  # clipnorm=None is "no clipping"

PARAMS = [pytest.param(owner, build, arg, value, error, id=f"{owner}-{arg}-{value!r}")
          for owner, build, arg, kind, negatives in CASES for value, error in bad_values(kind, negatives)
          if not (value is None and arg in NONE_MEANS_OFF)]


@pytest.mark.parametrize("owner, build, arg, value, error", PARAMS)
def test_a_bad_argument_is_refused_in_the_one_wording(owner, build, arg, value, error):
    with pytest.raises(error) as caught:
        build(**{arg: value})
    message = str(caught.value)
    assert re.fullmatch(rf"{re.escape(owner)}: {re.escape(arg)} must be .+; received {re.escape(repr(value))}",
                        message), message


@pytest.mark.parametrize("owner, build, arg, kind, negatives", CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_a_good_argument_is_accepted(owner, build, arg, kind, negatives):
    """The walk above would pass vacuously if nothing were accepted: each argument takes a sane value."""
    good = {"bool": True, "int": 3, "number": 0.25}[kind]
    if (owner, arg) in {("CosineDecay", "warmup_epochs"), ("fit", "validation_split")}:
        good = 0.25 if kind == "number" else 1
    build(**{arg: good})


def test_adam_betas_are_checked_one_by_one():
    with pytest.raises(ValueError, match=re.escape("Adam: betas[1] must be a finite number in [0, 1); received nan")):
        optim.Adam(betas=(0.9, math.nan))
