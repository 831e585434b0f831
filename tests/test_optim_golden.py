"""Every optimizer gives bit for bit the numbers it gave before the rewrite of ``optim``.

The fixture ``tests/data/optim_20_steps.npz`` holds the parameters and state
after 20 steps of every configuration below, as computed by the code of commit
a3a5c70 (optim.py before the executor was split out; Adam's moments were then
saved as ``m`` and ``v``, renamed in the fixture to ``m_scaled`` and ``v_scaled``,
which is what they always held). The large model (threaded slices; the fused
numba pass for Adam) is stored as SHA-256 digests of the arrays' bytes.

The "model" is a flat parameter vector with an elementwise gradient,
g = 0.5 p + noise_t, the noise drawn from a seeded generator and rounded to
eighths: only IEEE-exact operations (no BLAS, no libm), so the fixture holds on
any machine; with clipping the gradient is the noise alone, whose squared norm
then sums exactly in any order (BLAS's dot).

Regenerate it, only on purpose (a change of the numbers is a change of the
library), with ``PYTHONPATH=src python tests/test_optim_golden.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from chainrule import optim

FIXTURE = Path(__file__).parent / "data" / "optim_20_steps.npz"
STEPS = 20
SMALL, LARGE = 101, (1 << 20) + 4321

# name: (optimizer class, keyword arguments)
CONFIGS = {
    "sgd": (optim.SGD, dict(lr=0.1)),
    "sgd-weight-decay": (optim.SGD, dict(lr=0.1, weight_decay=0.05)),
    "sgd-momentum": (optim.SGD, dict(lr=0.1, momentum=0.9)),
    "sgd-nesterov": (optim.SGD, dict(lr=0.1, momentum=0.8, nesterov=True)),
    "sgd-momentum-weight-decay": (optim.SGD, dict(lr=0.1, momentum=0.5, weight_decay=0.05)),
    "sgd-clipnorm": (optim.SGD, dict(lr=0.1, momentum=0.9, clipnorm=2.0)),
    "adagrad": (optim.Adagrad, dict(lr=0.05)),
    "adagrad-weight-decay": (optim.Adagrad, dict(lr=0.05, weight_decay=0.1)),
    "rmsprop": (optim.RMSProp, dict(lr=0.01)),
    "rmsprop-momentum": (optim.RMSProp, dict(lr=0.01, alpha=0.9, momentum=0.7, weight_decay=0.01)),
    "adam": (optim.Adam, dict(lr=0.05)),
    "adam-betas-eps": (optim.Adam, dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3)),
    "adam-weight-decay": (optim.Adam, dict(lr=0.05, weight_decay=0.1)),
    "adamw": (optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
    "adam-clipnorm": (optim.Adam, dict(lr=0.05, clipnorm=2.0)),
}
LARGE_CONFIGS = ["sgd-nesterov", "sgd-momentum-weight-decay", "adagrad", "rmsprop-momentum",
                 "adam", "adam-weight-decay", "adamw"]
ADAMS = [name for name, (cls, _) in CONFIGS.items() if issubclass(cls, optim.Adam)]


class FlatModel:
    """What ``Optimizer.step`` reads: the flat parameters and their gradients."""

    def __init__(self, size, dtype):
        self.params_ = np.random.default_rng(1).standard_normal(size, dtype=dtype)
        self.grads_ = np.empty_like(self.params_)


def run(name, size, dtype, **extra):
    """The model and optimizer after STEPS steps of configuration ``name``."""
    cls, kwargs = CONFIGS[name]
    opt = cls(**kwargs, **extra)
    model, noise = FlatModel(size, dtype), np.random.default_rng(2)
    curvature = 0.0 if kwargs.get("clipnorm") else 0.5
    for _ in range(STEPS):
        np.multiply(model.params_, curvature, out=model.grads_)
        model.grads_ += np.round(noise.standard_normal(size, dtype=dtype) * 8) / 8
        opt.step(model)
    return model, opt


def arrays(model, opt):
    return {"params": model.params_, **{f"state.{k}": v for k, v in opt.state.items()}}


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def compute():
    """Everything the fixture holds, computed by the code at hand."""
    out = {}
    for dtype in ("float32", "float64"):
        for name in CONFIGS:
            for key, a in arrays(*run(name, SMALL, dtype)).items():
                out[f"small.{dtype}.{name}.{key}"] = a
    for name in LARGE_CONFIGS:
        extra = {"fused": False} if name in ADAMS else {}  # the NumPy pass; the test checks the fused one
        for key, a in arrays(*run(name, LARGE, "float32", **extra)).items():
            out[f"large.float32.{name}.{key}"] = np.array(sha256(a))
    return out


@pytest.fixture(scope="module")
def golden():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return dict(f)


def expect(golden, prefix, model, opt):
    found = arrays(model, opt)
    keys = sorted(k[len(prefix):] for k in golden if k.startswith(prefix))
    assert sorted(found) == keys
    return found


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", CONFIGS)
def test_small_model_is_bit_identical_to_the_fixture(golden, name, dtype):
    prefix = f"small.{dtype}.{name}."
    for key, a in expect(golden, prefix, *run(name, SMALL, dtype)).items():
        assert a.dtype == np.dtype(dtype)
        assert np.array_equal(a, golden[prefix + key]), key


@pytest.mark.parametrize("name", ADAMS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_small_model_fused_adam_is_bit_identical_to_the_fixture(golden, name, dtype):
    pytest.importorskip("numba")
    prefix = f"small.{dtype}.{name}."
    for key, a in expect(golden, prefix, *run(name, SMALL, dtype, fused=True)).items():
        assert np.array_equal(a, golden[prefix + key]), key


def large_cases():
    for name in LARGE_CONFIGS:
        if name in ADAMS:
            yield name, False  # the NumPy passes, as the fixture holds them
            yield name, True  # the fused pass
        else:
            yield name, None


@pytest.mark.parametrize("name, fused", list(large_cases()))
def test_large_model_is_bit_identical_to_the_fixture(golden, name, fused):
    """Over a million parameters: updated on slices in threads (or by the fused pass)."""
    if fused:
        pytest.importorskip("numba")
    extra = {} if fused is None else {"fused": fused}
    prefix = f"large.float32.{name}."
    for key, a in expect(golden, prefix, *run(name, LARGE, "float32", **extra)).items():
        assert sha256(a) == str(golden[prefix + key]), key


if __name__ == "__main__":
    FIXTURE.parent.mkdir(exist_ok=True)
    np.savez_compressed(FIXTURE, **compute())
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size:,} bytes)")
