"""Learning-rate schedules: ``schedule(epoch, base_lr) -> lr`` for epoch 0, 1, 2, ...

Use one with ``callbacks.LearningRateScheduler(schedule)``; the base rate is
the optimizer's ``lr`` when training starts. (Reduce-on-plateau depends on a
metric, so it is the callback ``callbacks.ReduceLROnPlateau``.)
"""

from __future__ import annotations

import math


class StepDecay:
    """lr = base_lr * gamma^floor(epoch / step_size)."""

    def __init__(self, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepDecay: step_size must be >= 1; received {step_size!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def __call__(self, epoch, base_lr):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay:
    """lr = base_lr * gamma^epoch."""

    def __init__(self, gamma):
        if not 0 < gamma <= 1:
            raise ValueError(f"ExponentialDecay: gamma must be in (0, 1]; received {gamma!r}")
        self.gamma = float(gamma)

    def __call__(self, epoch, base_lr):
        return base_lr * self.gamma**epoch


class CosineDecay:
    """Linear warm-up from base_lr / warmup_epochs to base_lr over ``warmup_epochs``,
    then lr = min_lr + (base_lr - min_lr) (1 + cos(pi t)) / 2 with
    t = (epoch - warmup_epochs) / (total_epochs - warmup_epochs), so that the
    last epoch still learns a little and the rate would reach min_lr one epoch later."""

    def __init__(self, total_epochs, warmup_epochs=0, min_lr=0.0):
        if total_epochs < 1 or not 0 <= warmup_epochs < total_epochs:
            raise ValueError(f"CosineDecay: need total_epochs >= 1 and 0 <= warmup_epochs < total_epochs; "
                             f"received total_epochs={total_epochs!r}, warmup_epochs={warmup_epochs!r}")
        self.total_epochs, self.warmup_epochs, self.min_lr = int(total_epochs), int(warmup_epochs), float(min_lr)

    def __call__(self, epoch, base_lr):
        if epoch < self.warmup_epochs:
            return base_lr * (epoch + 1) / self.warmup_epochs
        t = min((epoch - self.warmup_epochs) / (self.total_epochs - self.warmup_epochs), 1.0)
        return self.min_lr + (base_lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * t))
