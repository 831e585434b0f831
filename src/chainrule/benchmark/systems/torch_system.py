"""PyTorch: the same network as torch.nn.Sequential, its training loop and inference written once."""

from __future__ import annotations

import contextlib

from ..machine import blas_threads
from .base import LEARNING_RATE, System, batches, dense_stack, import_peer


class TorchSystem(System):
    name = "pytorch"
    module = "torch"

    def __init__(self):
        self.torch = import_peer(self.name, self.module)

    @contextlib.contextmanager
    def threads(self):
        """torch.set_num_threads(<NumPy's BLAS threads>) for the duration of the block."""
        previous = self.torch.get_num_threads()
        self.torch.set_num_threads(blas_threads())
        try:
            yield
        finally:
            self.torch.set_num_threads(previous)

    def native(self, array):
        return self.torch.from_numpy(array)

    def build(self, sizes, seed):
        nn = self.torch.nn
        self.torch.manual_seed(seed)
        return nn.Sequential(*dense_stack(sizes, nn.Linear, nn.ReLU)).float()

    def trainer(self, model, batch_size, seed):
        torch = self.torch
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        loss_fn = torch.nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(seed)

        def train(X, y, epochs, after_epoch=None):
            for epoch in range(epochs):
                model.train()
                order = torch.randperm(len(X), generator=gen)
                for idx in batches(order, batch_size):
                    optimizer.zero_grad(set_to_none=True)
                    loss_fn(model(X[idx]), y[idx]).backward()
                    optimizer.step()
                if after_epoch is not None and after_epoch(epoch):
                    break

        return train

    def infer(self, model, X, batch_size):
        model.eval()
        with self.torch.inference_mode():
            return self.torch.cat([model(xb) for xb in batches(X, batch_size)])

    def layer_shapes(self, model):
        shapes = [(m.in_features, m.out_features) for m in model if hasattr(m, "in_features")]
        return shapes, int(sum(p.numel() for p in model.parameters()))
