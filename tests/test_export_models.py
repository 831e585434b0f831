"""Random trained-looking models for the export tests: every layer type, every task, scalers.

``random_model(seed)`` draws an architecture (Flatten, Dense, BatchNorm with non-trivial running
statistics, each activation with GELU in both forms, Dropout, a Softmax or Sigmoid head or raw
outputs) and, for some seeds, a fitted scaler; ``SEEDS`` together cover every layer type, which
the test here checks.
"""

import numpy as np

import chainrule as cr

KINDS = [lambda: cr.ReLU(), lambda: cr.Sigmoid(), lambda: cr.Tanh(), lambda: cr.Identity(),
         lambda: cr.LeakyReLU(0.1), lambda: cr.ELU(0.7), lambda: cr.GELU(), lambda: cr.GELU("tanh")]
HEADS = ["logits", "softmax", "binary_logit", "sigmoid", "regression"]
SEEDS = range(10)


def random_model(seed, dtype="float32"):
    """A model with random weights and state; its ``loss`` says what its outputs mean."""
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(3, 9))
    head = HEADS[seed % len(HEADS)]
    n_out = 1 if head in ("binary_logit", "sigmoid") else int(rng.integers(2, 5))
    if head == "regression" and seed % 2:
        n_out = 1
    layers = [cr.Flatten()] if seed % 3 == 0 else []
    size = n_in
    for h in range(int(rng.integers(1, 4))):
        width = int(rng.integers(2, 10))
        layers.append(cr.Dense(size, width))
        if rng.random() < 0.5:
            layers.append(cr.BatchNorm(width))
        layers.append(KINDS[(seed + 3 * h) % len(KINDS)]())
        if rng.random() < 0.4:
            layers.append(cr.Dropout(0.3))
        size = width
    layers.append(cr.Dense(size, n_out))
    layers += {"softmax": [cr.Softmax()], "sigmoid": [cr.Sigmoid()]}.get(head, [])
    model = cr.Sequential(layers, rng=seed, dtype=dtype)
    for layer in model.layers:
        if isinstance(layer, cr.Dense):
            layer.b = rng.normal(size=layer.b.shape)
        if isinstance(layer, cr.BatchNorm):
            layer.gamma, layer.beta = rng.uniform(0.5, 2, layer.features), rng.normal(size=layer.features)
            layer.running_mean = rng.normal(size=layer.features)
            layer.running_var = rng.uniform(0.2, 3, layer.features)
    model.compile({"logits": cr.losses.CrossEntropy(), "softmax": cr.losses.CrossEntropy(from_logits=False),
                   "binary_logit": cr.losses.BinaryCrossEntropy(),
                   "sigmoid": cr.losses.BinaryCrossEntropy(from_logits=False), "regression": "mse"}[head])
    if seed % 2 == 0:
        model.preprocessor = cr.data.Standardizer().fit(rng.normal(3, 5, size=(50, n_in)))
    return model


def raw_rows(model, m=17, seed=0):
    """Raw input rows, on the scale the model's scaler expects if it has one."""
    rng = np.random.default_rng(seed)
    scale = (3, 5) if model.preprocessor is not None else (0, 1.5)
    return rng.normal(*scale, size=(m, model.n_inputs)).astype(np.float32)


def test_the_random_models_cover_every_layer_type_and_task():
    models = [random_model(seed) for seed in SEEDS]
    kinds = {type(layer).__name__ + (layer.approximate if isinstance(layer, cr.GELU) else "")
             for model in models for layer in model.layers}
    assert kinds == {*cr.layers.LAYERS, "GELUnone", "GELUtanh"} - {"GELU"}
    assert {model.task for model in models} == {"multiclass", "binary", "regression"}
    assert any(m.preprocessor is not None for m in models) and any(m.preprocessor is None for m in models)
