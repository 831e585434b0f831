"""chainrule predict: predictions for new rows or images, as CSV."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import CommandError, load_model_or_run, write_text


def add_parser(sub):
    parser = sub.add_parser("predict", help="predictions for new inputs (CSV, NPY or PNG in; CSV out)")
    parser.add_argument("model", help="a run directory or a .chainrule file")
    parser.add_argument("--input", required=True, nargs="+", help="a .csv or .npy file of rows, or .png images")
    parser.add_argument("--output", help="write the CSV here (default: standard output)")
    parser.add_argument("--invert", action="store_true", help="invert PNG images (dark ink on white paper)")
    return parser


def run(args):
    import csv
    import io

    model, _ = load_model_or_run(args.model)
    first = next((layer.input_size() for layer in model.layers if layer.input_size()), None)
    X = read_inputs(args.input, first, args.invert)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if model.task == "regression":
        out = model.predict(X)
        writer.writerow([f"output{j}" for j in range(out.shape[1])])
        writer.writerows(out.tolist())
    else:
        proba = model.predict_proba(X)
        writer.writerow(["label", *(f"p{j}" for j in range(proba.shape[1]))])
        for label, row in zip(proba.argmax(axis=1), proba):
            writer.writerow([int(label), *(f"{p:.6f}" for p in row)])
    if args.output:
        write_text(args.output, buffer.getvalue())
        print(f"{len(X)} predictions -> {args.output}")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def read_inputs(paths, n_features, invert=False):
    """Rows to predict from .csv (features only), .npy or .png files."""
    import numpy as np

    from ..data import load_csv

    rows = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"no input file at {path}")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            X, _ = load_csv(path, label=None)
        elif suffix == ".npy":
            X = np.load(path, allow_pickle=False)
            X = X.reshape(len(X), -1) if X.ndim > 1 else X.reshape(1, -1)
        elif suffix == ".png":
            X = read_png(path, n_features, invert)
        else:
            raise CommandError(f"{path}: expected a .csv, .npy or .png file; received {suffix or 'no suffix'}")
        if X.shape[1] != n_features:
            raise CommandError(f"{path}: rows of {X.shape[1]} values; the model expects {n_features}")
        rows.append(X.astype(np.float32))
    return np.concatenate(rows)


def read_png(path, n_features, invert):
    """A PNG as one row of gray levels 0..255, resized to the model's square input (needs Pillow)."""
    import math

    import numpy as np

    try:
        from PIL import Image
    except ImportError:
        raise CommandError('reading PNG images needs Pillow: pip install "chainrule[image]"') from None
    side = math.isqrt(n_features)
    if side * side != n_features:
        raise CommandError(f"the model takes {n_features} inputs, not a square image")
    image = np.asarray(Image.open(path).convert("L").resize((side, side)), dtype=np.float32)
    return (255 - image if invert else image).reshape(1, -1)
