"""chainrule gradcheck: backprop against finite differences, parameter by parameter."""

from __future__ import annotations

from .arguments import integer, number
from .common import load_model_or_run


def add_parser(sub):
    parser = sub.add_parser("gradcheck", help="compare backprop with finite differences, layer by layer")
    parser.add_argument("model", nargs="?", help="a run directory or .chainrule file (default: a small test network)")
    parser.add_argument("--samples", type=integer(1, 10000), default=4, help="rows of random input")
    parser.add_argument("--seed", type=integer(0), default=0)
    parser.add_argument("--tolerance", type=number(0, low_open=True), default=1e-6, help="largest relative error that passes")
    return parser


def run(args):
    import numpy as np

    from .. import Dense, Sequential, Tanh, gradient_report, losses

    rng = np.random.default_rng(args.seed)
    if args.model:
        model, _ = load_model_or_run(args.model)
        model = model.copy("float64")
        n_in, loss = model.n_inputs, model.default_loss()
    else:
        model = Sequential([Dense(5, 8), Tanh(), Dense(8, 6), Tanh(), Dense(6, 3)], rng=args.seed, dtype="float64")
        n_in, loss = 5, losses.CrossEntropy()
        print("a small test network (no model named):")
    X = rng.standard_normal((args.samples, n_in))
    out = model.forward(X)
    if isinstance(loss, losses.CrossEntropy):
        y = rng.integers(0, out.shape[1], args.samples)
    elif isinstance(loss, losses.BinaryCrossEntropy):
        y = rng.integers(0, 2, out.shape).astype(np.float64)
    else:
        y = rng.standard_normal(out.shape)
    report = gradient_report(model, X, y, loss)
    print(f"{'gradient':<18}{'shape':<14}{'relative error':>16}  result")
    failed = 0
    shapes = {label: getattr(layer, name).shape for label, layer, name in model.parameter_names()}
    for name, error in report.items():
        shape = X.shape if name == "X" else shapes[name]
        ok = error < args.tolerance
        failed += not ok
        print(f"{'d' + name:<18}{str(shape):<14}{error:>16.2e}  {'pass' if ok else 'FAIL'}")
    print(f"{len(report) - failed} of {len(report)} gradients pass (relative error < {args.tolerance:g})")
    return 1 if failed else 0
