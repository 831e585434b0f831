"""The systems the benchmark compares, one adapter each: chainrule, PyTorch, scikit-learn.

PyTorch and scikit-learn are imported only when their adapter is made
(``get_system``); a peer that is not installed raises PeerMissing and is
reported as ``"missing"``, never faked.
"""

from __future__ import annotations

import itertools

from .base import LEARNING_RATE, PeerMissing, System, check_sizes
from .chainrule_system import ChainruleSystem
from .sklearn_system import SklearnSystem
from .torch_system import TorchSystem

ADAPTERS = {"chainrule": ChainruleSystem, "pytorch": TorchSystem, "sklearn": SklearnSystem}
SYSTEMS = tuple(ADAPTERS)

#: the module each peer needs
PEER_MODULES = {name: adapter.module for name, adapter in ADAPTERS.items() if adapter.module}

__all__ = [
    "LEARNING_RATE", "PEER_MODULES", "SYSTEMS", "PeerMissing", "System", "check_sizes", "check_system",
    "count_parameters", "get_system", "peer_status",
]


def check_system(system):
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")


def get_system(system):
    """The adapter of ``system``; PeerMissing if its library is not installed."""
    check_system(system)
    return ADAPTERS[system]()


def peer_status(system):
    """'ok' if the system can be benchmarked here, else 'missing'."""
    try:
        get_system(system)
    except PeerMissing:
        return "missing"
    return "ok"


def count_parameters(sizes):
    """Weights and biases of the Dense stack ``sizes`` (784-256-128-10: 235,146)."""
    sizes = check_sizes(sizes)
    return sum(a * b + b for a, b in itertools.pairwise(sizes))
