"""chainrule explain: every number of one forward and backward pass."""

from __future__ import annotations

import argparse

from .arguments import integer, number
from .common import CommandError, write_text


OUTPUTS = ("identity", "sigmoid", "softmax")
# the losses an output layer of probabilities can feed: its loss then reads probabilities, not scores
ON_PROBABILITIES = {"sigmoid": ("bce", "binary_cross_entropy", "mse"),
                    "softmax": ("cross_entropy", "crossentropy", "mse")}


def add_parser(sub):
    parser = sub.add_parser("explain", help="print every number of one forward and backward pass",
                             formatter_class=argparse.RawDescriptionHelpFormatter,
                             epilog="example: chainrule explain --sizes 2 3 2 --activation tanh --samples 2")
    parser.add_argument("--sizes", type=integer(1, 64), nargs="+", default=[2, 3, 2],
                         help="layer widths n[0] n[1] ... n[L]")
    parser.add_argument("--activation", default="tanh", help="hidden activation")
    parser.add_argument("--output", choices=OUTPUTS, default="identity",
                        help="the output layer's activation g[L]: identity (the loss takes the scores, "
                             "softmax fused into cross-entropy), sigmoid (binary cross-entropy on its "
                             "probabilities, as the tutorial builds it) or softmax")
    parser.add_argument("--loss", default=argparse.SUPPRESS,
                        help="cross_entropy, mse or bce (default: cross_entropy; bce with --output sigmoid)")
    parser.add_argument("--samples", type=integer(1, 16), default=2, help="rows in the batch")
    parser.add_argument("--lr", type=number(0, low_open=True), default=0.1, help="alpha in the update step")
    parser.add_argument("--decimals", type=integer(0, 12), default=4, help="digits after the point")
    parser.add_argument("--seed", type=integer(0), default=0, help="fixes the weights and the batch")
    parser.add_argument("--markdown", metavar="FILE", help="also write the trace as Markdown to FILE")
    return parser


def run(args):
    import numpy as np

    from .. import Dense, Sequential
    from ..layers import activation
    from ..losses import BinaryCrossEntropy, CrossEntropy

    if len(args.sizes) < 2:
        raise CommandError(f"--sizes needs at least an input and an output width; received {args.sizes}")
    name = getattr(args, "loss", None) or ("bce" if args.output == "sigmoid" else "cross_entropy")
    loss = name
    if args.output != "identity":
        if name not in ON_PROBABILITIES[args.output]:
            raise CommandError(f"--loss {name} does not fit --output {args.output}; expected one of "
                               f"{', '.join(ON_PROBABILITIES[args.output])}")
        if name in ("bce", "binary_cross_entropy"):
            loss = BinaryCrossEntropy(from_logits=False)
        elif name != "mse":
            loss = CrossEntropy(from_logits=False)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(args.sizes[:-1], args.sizes[1:])):
        layers.append(Dense(n_in, n_out, init="glorot_uniform"))
        if i < len(args.sizes) - 2:
            layers.append(activation(args.activation))
    if args.output != "identity":
        layers.append(activation(args.output))
    model = Sequential(layers, rng=args.seed, dtype="float64")
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.samples, args.sizes[0])).round(2)
    k = args.sizes[-1]
    if name in ("cross_entropy", "crossentropy"):
        y = rng.integers(0, k, args.samples)
    elif name in ("bce", "binary_cross_entropy"):
        y = rng.integers(0, 2, (args.samples, k))
    else:
        y = rng.standard_normal((args.samples, k)).round(2)
    result = model.explain(X, y, loss=loss, lr=args.lr, decimals=args.decimals)
    if args.markdown:
        write_text(args.markdown, result.markdown() + "\n")
        print(f"\nMarkdown -> {args.markdown}")
    return 0
