"""scikit-learn: MLPClassifier with the same network and Adam; ``fit`` trains, ``predict_proba`` infers."""

from __future__ import annotations

import warnings

import numpy as np

from .base import LEARNING_RATE, System, batches, import_peer


class SklearnSystem(System):
    name = "sklearn"
    module = "sklearn.neural_network"

    def __init__(self):
        self.nn = import_peer(self.name, self.module)

    def build(self, sizes, seed):
        # no penalty, no early stop: exactly max_iter epochs of Adam (set by the trainer)
        return self.nn.MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="adam",
                                     alpha=0.0, learning_rate_init=LEARNING_RATE, max_iter=1, shuffle=True, tol=0,
                                     n_iter_no_change=10**9, random_state=seed)

    def trainer(self, model, batch_size, seed):
        # fit starts afresh from random_state every time: a warm-up fit leaves nothing behind
        from sklearn.exceptions import ConvergenceWarning

        def train(X, y, epochs, after_epoch=None):
            if after_epoch is not None:
                raise ValueError("scikit-learn's fit has no hook after every epoch")
            model.set_params(batch_size=batch_size, max_iter=epochs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)

        return train

    def inference_model(self, sizes, X, seed):
        """Fitted for one epoch on a few rows with every class, so that it can predict."""
        k = min(len(X), max(sizes[-1], 64))
        model = self.build(sizes, seed)
        self.trainer(model, min(k, 200), seed)(X[:k], np.arange(k) % sizes[-1], 1)
        return model

    def infer(self, model, X, batch_size):
        # scikit-learn has no logits-only predict: predict_proba applies its softmax
        return np.concatenate([model.predict_proba(xb) for xb in batches(X, batch_size)])

    def layer_shapes(self, model):
        shapes = [tuple(W.shape) for W in model.coefs_]
        return shapes, int(sum(W.size for W in model.coefs_) + sum(b.size for b in model.intercepts_))
