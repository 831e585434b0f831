"""Learning-rate schedules: ``schedule(epoch, base_lr) -> lr`` for epoch 0, 1, 2, ...

Use one with ``callbacks.LearningRateScheduler(schedule)``; the base rate is
the optimizer's ``lr`` when training starts. (Reduce-on-plateau depends on a
metric, so it is the callback ``callbacks.ReduceLROnPlateau``.)
"""

from __future__ import annotations

import math

from .validation import check_int, check_non_negative, check_number


class StepDecay:
    """lr = base_lr * gamma^floor(epoch / step_size)."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size = check_int(step_size, "step_size", "StepDecay", low=1)
        self.gamma = check_number(gamma, "gamma", "StepDecay", low=0, high=1, low_open=True)

    def __call__(self, epoch, base_lr):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay:
    """lr = base_lr * gamma^epoch."""

    def __init__(self, gamma):
        self.gamma = check_number(gamma, "gamma", "ExponentialDecay", low=0, high=1, low_open=True)

    def __call__(self, epoch, base_lr):
        return base_lr * self.gamma**epoch


class CosineDecay:
    """Linear warm-up from base_lr / warmup_epochs to base_lr over ``warmup_epochs``,
    then lr = min_lr + (base_lr - min_lr) (1 + cos(pi t)) / 2 with
    t = (epoch - warmup_epochs) / (total_epochs - warmup_epochs), so that the
    last epoch still learns a little and the rate would reach min_lr one epoch later."""

    def __init__(self, total_epochs, warmup_epochs=0, min_lr=0.0):
        self.total_epochs = check_int(total_epochs, "total_epochs", "CosineDecay", low=1)
        # at least one epoch after the warm-up, so that the cosine has a length
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs", "CosineDecay", low=0, high=self.total_epochs - 1)
        self.min_lr = check_non_negative(min_lr, "min_lr", "CosineDecay")

    def __call__(self, epoch, base_lr):
        if epoch < self.warmup_epochs:
            return base_lr * (epoch + 1) / self.warmup_epochs
        t = min((epoch - self.warmup_epochs) / (self.total_epochs - self.warmup_epochs), 1.0)
        return self.min_lr + (base_lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * t))
