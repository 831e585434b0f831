"""chainrule export: a trained model as an ONNX graph or a NumPy-only predict.py."""

from __future__ import annotations

from .common import CommandError, load_model_or_run


def add_parser(sub):
    parser = sub.add_parser("export", help="a model as ONNX (--onnx) or a NumPy-only predict.py (--python)")
    parser.add_argument("model", help="a run directory or a .chainrule file")
    parser.add_argument("--onnx", metavar="FILE", help="write the model, scaler included, as an ONNX graph here")
    parser.add_argument("--python", metavar="DIR", help="write predict.py and weights.npz into this directory")
    return parser


def run(args):
    if not args.onnx and not args.python:
        raise CommandError("say what to write: --onnx model.onnx, --python DIR, or both")
    model, _ = load_model_or_run(args.model)
    if args.onnx:
        from ..export.onnx import OPSET, to_onnx

        to_onnx(model, args.onnx)
        print(f"ONNX graph (opset {OPSET}, input X of shape (batch, {model.n_inputs})) -> {args.onnx}")
    if args.python:
        from ..export.python import to_python

        script = to_python(model, args.python)
        print(f"predict.py and weights.npz -> {args.python}  (run: python {script} rows.csv)")
    return 0
