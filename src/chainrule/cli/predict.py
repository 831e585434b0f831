"""chainrule predict: predictions for new rows or images, as CSV, saying what it did.

Output: an id column (the file name for images, the row number for tables), the
predicted label (the class name, or the number for regression), then one
probability column per class, named after the class.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import CommandError, load_model_or_run, write_text

EXAMPLES = """examples:
  chainrule predict runs/digits --input samples.csv          rows of features (no label column)
  chainrule predict runs/mnist --input drawing.png --resize  one image, resized to the model's input
  chainrule predict runs/flowers --input photos/ --output predictions.csv
"""


def add_parser(sub):
    parser = sub.add_parser("predict", help="predictions for new inputs (CSV, NPY, images or a folder; CSV out)",
                            epilog=EXAMPLES)
    parser.add_argument("model", help="a run directory or a .chainrule file")
    parser.add_argument("--input", required=True, nargs="+",
                        help="a .csv or .npy file of rows, image files (.png, .jpg) or a folder of images")
    parser.add_argument("--output", help="write the CSV here (default: standard output)")
    parser.add_argument("--resize", action="store_true", help="resize images of another size to the model's input")
    parser.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                        help="invert images (--invert) or never (--no-invert); default: invert, with a note, "
                             "those whose background is the opposite of the training images'")
    return parser


def run(args):
    import csv
    import io

    import numpy as np

    model, _ = load_model_or_run(args.model)
    ids, X = read_inputs(args.input, model, args.resize, args.invert)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if model.task == "regression":
        out = model.predict(X)
        names = ["prediction"] if out.shape[1] == 1 else [f"prediction{j}" for j in range(out.shape[1])]
        writer.writerow(["id", *names])
        writer.writerows([i, *(f"{v:.6g}" for v in row)] for i, row in zip(ids, out))
    else:
        proba = model.predict_proba(X)
        classes = model.classes_ if model.classes_ is not None else np.arange(proba.shape[1])
        labels = model.predict(X)
        writer.writerow(["id", "label", *(str(c) for c in classes)])
        writer.writerows([i, label, *(f"{p:.6f}" for p in row)] for i, label, row in zip(ids, labels.tolist(), proba))
    if args.output:
        write_text(args.output, buffer.getvalue())
        print(f"{len(X)} predictions -> {args.output}")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def read_inputs(paths, model, resize=False, invert=None):
    """(ids, X): the rows to predict from .csv (features only), .npy, image files and folders of images."""
    import numpy as np

    from ..data import load_csv
    from ..data.images import SUFFIXES, image_files

    files = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = image_files(path)
            if not found:
                raise CommandError(f"{path}: a folder with no images ({', '.join(SUFFIXES)})")
            files.extend(found)
        elif not path.is_file():
            raise CommandError(f"no input file at {path}")
        else:
            files.append(path)
    ids, rows = [], []
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            X, _ = load_csv(path, label=None)
        elif suffix == ".npy":
            X = read_npy(path, model)
        elif suffix in SUFFIXES:
            X = read_image_row(path, model, resize, invert)
        else:
            raise CommandError(f"{path}: expected a .csv or .npy file, or an image ({', '.join(SUFFIXES)}); "
                               f"received {suffix or 'no suffix'}")
        if model.n_inputs is not None and X.shape[1] != model.n_inputs:
            raise CommandError(f"{path}: rows of {X.shape[1]} values; the model expects {model.n_inputs}")
        if suffix in SUFFIXES:
            ids.append(path.name)
        else:
            prefix = f"{path.name}:" if len(files) > 1 else ""
            ids.extend(f"{prefix}{i}" for i in range(1, len(X) + 1))
        rows.append(X.astype(np.float32))
    return ids, np.concatenate(rows)


def read_npy(path, model):
    """The rows of a .npy file (one row per sample; a 1-D array is one row), or a sentence on what it is not."""
    import numpy as np

    expected = f"rows of {model.n_inputs} numbers" if model.n_inputs is not None else "rows of numbers"
    if path.stat().st_size == 0:
        raise CommandError(f"{path} is empty (0 bytes); expected a .npy array (numpy.save) of {expected}")
    try:
        X = np.load(path, allow_pickle=False)
    except (EOFError, OSError, ValueError):  # not the .npy format, cut short, or pickled objects (never loaded)
        raise CommandError(f"{path} is not a .npy array file (numpy.save); expected {expected}") from None
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "biuf":
        raise CommandError(f"{path} is not a .npy array of numbers; expected {expected}")
    if X.size == 0:
        raise CommandError(f"{path} holds an empty array (shape {X.shape}); expected {expected}")
    return X.reshape(len(X), -1) if X.ndim > 1 else X.reshape(1, -1)


def read_image_row(path, model, resize, invert):
    """An image as one row in the training images' scale, refusing (or resizing) another size and
    inverting one whose background is the opposite of the training images' (with a note)."""
    import math

    import numpy as np

    from ..data.images import read_image, size_text

    about = model.input_image_ or {}
    shape = about.get("shape")
    if shape is None:  # a model saved without image details: a square gray image of n_inputs pixels
        side = math.isqrt(model.n_inputs or 0)
        if side * side != model.n_inputs:
            raise CommandError(f"{path}: the model takes {model.n_inputs} inputs, not a square image")
        shape = [side, side]
    color = len(shape) == 3
    try:
        image = read_image(path, color=color)
        if list(image.shape) != list(shape):
            if not resize:
                raise CommandError(f"{path}: the image is {size_text(image.shape)}; the model takes {size_text(shape)} "
                                   "images: pass --resize to resize it")
            image = read_image(path, image_size=shape[:2], color=color)
    except ImportError as err:
        raise CommandError(str(err)) from None
    background = "dark" if np.median(_border(image)) < 127.5 else "light"
    trained = about.get("background")
    flip = invert if invert is not None else (trained is not None and background != trained)
    if flip:
        image = 255.0 - image
        if invert is None:
            print(f"chainrule predict: {path.name} has a {background} background but the training images have a "
                  f"{trained} one: inverted it (--no-invert keeps it as it is)", file=sys.stderr)
    return (image * (about.get("max", 255.0) / 255.0)).reshape(1, -1)


def _border(image):
    import numpy as np

    return np.concatenate([image[0].ravel(), image[-1].ravel(), image[:, 0].ravel(), image[:, -1].ravel()])

