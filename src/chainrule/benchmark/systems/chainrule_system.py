"""chainrule itself: ``Sequential.fit`` with Adam, ``predict_output`` for the logits."""

from __future__ import annotations

from ...layers import Dense, ReLU
from ...model import Sequential
from ...optim import Adam
from ...training.callbacks import Callback
from .base import LEARNING_RATE, System, dense_stack


class _AfterEpoch(Callback):
    """Calls ``after_epoch(epoch)`` at the end of every epoch; True from it stops training."""

    def __init__(self, after_epoch):
        self.after_epoch = after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.after_epoch(epoch):
            self.model.stop_training = True


class ChainruleSystem(System):
    name = "chainrule"

    def build(self, sizes, seed):
        # compiled: a classifier whose outputs are logits; fit would compile it the same way
        return Sequential(dense_stack(sizes, Dense, ReLU), rng=seed, dtype="float32").compile("cross_entropy")

    def trainer(self, model, batch_size, seed):
        # the shuffling comes from the model's rng, made from the seed it was built with
        settings = {"loss": "cross_entropy", "optimizer": Adam(LEARNING_RATE), "batch_size": batch_size,
                    "shuffle": True, "verbose": 0, "metrics": []}

        def train(X, y, epochs, after_epoch=None):
            callbacks = [] if after_epoch is None else [_AfterEpoch(after_epoch)]
            model.fit(X, y, epochs=epochs, callbacks=callbacks, **settings)

        return train

    def infer(self, model, X, batch_size):
        return model.predict_output(X, batch_size)

    def layer_shapes(self, model):
        shapes = [tuple(layer.W.shape) for layer in model.layers if "W" in layer.param_names]
        return shapes, int(model.num_params)
