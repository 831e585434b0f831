"""Every argument of the optimizers and the learning-rate schedules is checked, in the library's
one wording: ``Owner: name must be ...; received ...``, ValueError out of range, TypeError for the
wrong kind."""

import re

import pytest

from chainrule import optim, schedules

NAN, INF = float("nan"), float("inf")

# (constructor, keyword arguments, error, the message after "Owner: ")
BAD = [
    (optim.SGD, dict(lr=-1), ValueError, "lr must be a finite number > 0; received -1"),
    (optim.SGD, dict(lr="0.1"), TypeError, "lr must be a finite number > 0; received '0.1'"),
    (optim.SGD, dict(momentum=1.0), ValueError, "momentum must be a finite number in [0, 1); received 1.0"),
    (optim.SGD, dict(momentum=NAN), ValueError, "momentum must be a finite number in [0, 1); received nan"),
    (optim.SGD, dict(momentum=0.9, nesterov="yes"), TypeError, "nesterov must be True or False; received 'yes'"),
    (optim.SGD, dict(nesterov=True), ValueError,
     "momentum (with nesterov=True) must be a finite number > 0; received 0.0"),
    (optim.SGD, dict(weight_decay=-0.1), ValueError, "weight_decay must be a finite number >= 0; received -0.1"),
    (optim.SGD, dict(weight_decay=INF), ValueError, "weight_decay must be a finite number >= 0; received inf"),
    (optim.SGD, dict(clipnorm=NAN), ValueError, "clipnorm must be a finite number > 0; received nan"),
    (optim.SGD, dict(clipnorm=0), ValueError, "clipnorm must be a finite number > 0; received 0"),
    (optim.Adagrad, dict(eps=0), ValueError, "eps must be a finite number > 0; received 0"),
    (optim.Adagrad, dict(weight_decay=True), TypeError, "weight_decay must be a finite number >= 0; received True"),
    (optim.RMSProp, dict(alpha=1), ValueError, "alpha must be a finite number in [0, 1); received 1"),
    (optim.RMSProp, dict(eps=-1e-8), ValueError, "eps must be a finite number > 0; received -1e-08"),
    (optim.RMSProp, dict(momentum=-0.5), ValueError, "momentum must be a finite number in [0, 1); received -0.5"),
    (optim.Adam, dict(eps=NAN), ValueError, "eps must be a finite number > 0; received nan"),
    (optim.Adam, dict(eps=0.0), ValueError, "eps must be a finite number > 0; received 0.0"),
    (optim.Adam, dict(betas=0.9), TypeError, "betas must be a pair (beta1, beta2); received 0.9"),
    (optim.Adam, dict(betas=(0.9, 0.99, 0.9)), TypeError,
     "betas must be a pair (beta1, beta2); received (0.9, 0.99, 0.9)"),
    (optim.Adam, dict(betas=(1.0, 0.999)), ValueError, "betas[0] must be a finite number in [0, 1); received 1.0"),
    (optim.Adam, dict(betas=(0.9, NAN)), ValueError, "betas[1] must be a finite number in [0, 1); received nan"),
    (optim.AdamW, dict(betas=(0.9, "0.999")), TypeError,
     "betas[1] must be a finite number in [0, 1); received '0.999'"),
    (optim.AdamW, dict(weight_decay=-0.01), ValueError, "weight_decay must be a finite number >= 0; received -0.01"),
    (optim.AdamW, dict(fused="auto"), TypeError, "fused must be True or False; received 'auto'"),
    (optim.AdamW, dict(clipnorm=-1), ValueError, "clipnorm must be a finite number > 0; received -1"),
    (schedules.StepDecay, dict(step_size=0), ValueError, "step_size must be an integer >= 1; received 0"),
    (schedules.StepDecay, dict(step_size=2.5), TypeError, "step_size must be an integer >= 1; received 2.5"),
    (schedules.StepDecay, dict(step_size=2, gamma=0), ValueError,
     "gamma must be a finite number in (0, 1]; received 0"),
    (schedules.StepDecay, dict(step_size=2, gamma=NAN), ValueError,
     "gamma must be a finite number in (0, 1]; received nan"),
    (schedules.ExponentialDecay, dict(gamma="0.9"), TypeError,
     "gamma must be a finite number in (0, 1]; received '0.9'"),
    (schedules.CosineDecay, dict(total_epochs=0), ValueError, "total_epochs must be an integer >= 1; received 0"),
    (schedules.CosineDecay, dict(total_epochs=5, warmup_epochs=-1), ValueError,
     "warmup_epochs must be an integer from 0 to 4; received -1"),
    (schedules.CosineDecay, dict(total_epochs=5, min_lr=-1e-3), ValueError,
     "min_lr must be a finite number >= 0; received -0.001"),
]


@pytest.mark.parametrize("cls, kwargs, error, message", BAD, ids=lambda x: str(x) if isinstance(x, dict) else None)
def test_bad_argument_is_refused_in_the_one_wording(cls, kwargs, error, message):
    with pytest.raises(error, match=f"^{re.escape(f'{cls.__name__}: {message}')}$"):
        cls(**kwargs)


def test_good_arguments_are_kept_as_python_numbers():
    import numpy as np

    opt = optim.Adam(lr=np.float32(0.5), betas=[0, np.float64(0.5)], eps=1, clipnorm=2, fused=np.bool_(True))
    assert opt.get_config() == {"lr": 0.5, "weight_decay": 0.0, "clipnorm": 2.0, "betas": [0.0, 0.5], "eps": 1.0,
                                "fused": True}
    assert type(opt.clipnorm) is float and type(opt.fused) is bool
    assert optim.SGD(momentum=0.5, nesterov=True).get_config()["nesterov"] is True
    assert optim.RMSProp(alpha=0).alpha == 0.0
    assert schedules.StepDecay(np.int64(3), gamma=1).step_size == 3
    cosine = schedules.CosineDecay(5, warmup_epochs=4, min_lr=0)
    assert (cosine.total_epochs, cosine.warmup_epochs, cosine.min_lr) == (5, 4, 0.0)
    optim.AdamW(**optim.AdamW(fused=False).get_config())  # a config builds the same optimizer again
