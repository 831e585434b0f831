"""chainrule summary: the layers, shapes and parameter counts of a model."""

from __future__ import annotations

from .common import load_model_or_run


def add_parser(sub):
    parser = sub.add_parser("summary", help="the layers, shapes and parameter counts of a model")
    parser.add_argument("model", help="a run directory or a .chainrule file")
    return parser


def run(args):
    model, config = load_model_or_run(args.model)
    print(model.summary())
    if model.loss is not None:
        print(f"loss: {model.loss!r}")
    if model.preprocessor is not None:
        print(f"preprocessing: {type(model.preprocessor).__name__} (fitted on the training data)")
    return 0
