"""``chainrule``: the command line.

Every command prints one clear line and exits non-zero on an error (a full
traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES = """examples:
  chainrule train --config configs/digits.toml            train a recipe into runs/digits
  chainrule train --dataset spirals --hidden 64 64 --epochs 200 --out runs/spirals
  chainrule train --resume runs/mnist                     continue an interrupted run
  chainrule evaluate runs/digits                          test metrics of a run
  chainrule predict runs/digits --input samples.csv       labels for new rows, as CSV
  chainrule summary runs/digits/model.chainrule
  chainrule gradcheck                                      check backprop layer by layer
  chainrule datasets                                       what data is available, and where
  chainrule explain --sizes 2 3 2                          every number of one forward and backward pass
  chainrule bench --vectorization                          loops against matrices, same numbers
"""


class CommandError(Exception):
    """A user-facing error: printed as one line."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="chainrule", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        description="A neural network from scratch in NumPy, where the code reads like the math.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    # --debug is accepted after the command too (chainrule train --debug ...)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parser = sub.add_parser
    sub.add_parser = lambda *a, **k: add_parser(*a, parents=[common], **k)

    train = sub.add_parser("train", help="train a network from a recipe or flags into a run directory",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="flags override the recipe's values; see configs/*.toml for recipes")
    train.add_argument("--config", help="a TOML recipe (configs/digits.toml, ...)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    train.add_argument("--out", help="the run directory (default runs/<dataset>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run directory's results")
    train.add_argument("--dataset", help="digits, mnist, fashion-mnist, csv, xor, spirals, moons, circles, blobs, sine")
    train.add_argument("--csv", dest="path", help="the CSV file for --dataset csv")
    train.add_argument("--label", help="the CSV label column (name or index)")
    train.add_argument("--data-dir", help="where the MNIST-family files are")
    train.add_argument("--samples", type=int, help="train on only this many rows")
    train.add_argument("--hidden", type=int, nargs="+", help="hidden layer widths, e.g. --hidden 256 128")
    train.add_argument("--activation", help="relu, tanh, sigmoid, leaky_relu, elu, gelu")
    train.add_argument("--dropout", type=float)
    train.add_argument("--optimizer", help="sgd, adagrad, rmsprop, adam, adamw")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--no-plots", action="store_true", help="do not write plots")
    train.add_argument("--quiet", action="store_true", help="print only the final result")
    train.add_argument("--plain", action="store_true", help="one line per epoch, with diagnostics (no progress bar)")

    evaluate = sub.add_parser("evaluate", help="metrics of a trained model on a run's test split or a CSV")
    evaluate.add_argument("model", help="a run directory or a .chainrule file")
    evaluate.add_argument("--csv", help="evaluate on this CSV instead (features and a label column)")
    evaluate.add_argument("--label", default="-1", help="the CSV label column (name or index; default last)")
    evaluate.add_argument("--data-dir", help="where the MNIST-family files are")

    predict = sub.add_parser("predict", help="predictions for new inputs (CSV, NPY or PNG in; CSV out)")
    predict.add_argument("model", help="a run directory or a .chainrule file")
    predict.add_argument("--input", required=True, nargs="+", help="a .csv or .npy file of rows, or .png images")
    predict.add_argument("--output", help="write the CSV here (default: standard output)")
    predict.add_argument("--invert", action="store_true", help="invert PNG images (dark ink on white paper)")

    summary = sub.add_parser("summary", help="the layers, shapes and parameter counts of a model")
    summary.add_argument("model", help="a run directory or a .chainrule file")

    gradcheck = sub.add_parser("gradcheck", help="compare backprop with finite differences, layer by layer")
    gradcheck.add_argument("model", nargs="?", help="a run directory or .chainrule file (default: a small test network)")
    gradcheck.add_argument("--samples", type=int, default=4, help="rows of random input (default 4)")
    gradcheck.add_argument("--seed", type=int, default=0)
    gradcheck.add_argument("--tolerance", type=float, default=1e-6, help="largest relative error that passes")

    sub.add_parser("datasets", help="the datasets chainrule knows, where they are, and their checksums")

    bench = sub.add_parser("bench", help="speed: chainrule beside PyTorch and scikit-learn, or loops vs matrices",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="examples:\n  chainrule bench --vectorization\n  chainrule bench --data-dir DIR --samples 20000")
    bench.add_argument("--vectorization", action="store_true",
                       help="time a loop-per-sample backprop against the vectorised one on the same data")
    bench.add_argument("--data-dir", help="where the MNIST files are (else synthetic data of the same shape)")
    bench.add_argument("--samples", type=int, default=20000, help="training rows per measurement (default 20000)")
    bench.add_argument("--epochs", type=int, default=1, help="epochs per measurement (default 1)")
    bench.add_argument("--repeats", type=int, default=None,
                       help="interleaved rounds per measurement; best and median are shown (default 3)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs")
    bench.add_argument("--time-to-accuracy", action="store_true", help="also time training to 98%% MNIST test accuracy")
    bench.add_argument("--json", help="write the results as JSON to this file")

    explain = sub.add_parser("explain", help="print every number of one forward and backward pass",
                             formatter_class=argparse.RawDescriptionHelpFormatter,
                             epilog="example: chainrule explain --sizes 2 3 2 --activation tanh --samples 2")
    explain.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 2],
                         help="layer widths n[0] n[1] ... n[L] (default 2 3 2)")
    explain.add_argument("--activation", default="tanh", help="hidden activation (default tanh)")
    explain.add_argument("--loss", default="cross_entropy", help="cross_entropy (default), mse or bce")
    explain.add_argument("--samples", type=int, default=2, help="rows in the batch (default 2, at most 16)")
    explain.add_argument("--lr", type=float, default=0.1, help="alpha in the update step (default 0.1)")
    explain.add_argument("--decimals", type=int, default=4, help="digits after the point (default 4)")
    explain.add_argument("--seed", type=int, default=0)
    explain.add_argument("--markdown", metavar="FILE", help="also write the trace as Markdown to FILE")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # one clear line, unless --debug
        if args.debug:
            raise
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return 1


# -- commands --------------------------------------------------------------------


def cmd_train(args):
    from ..training.config import TrainConfig
    from ..training.run import train_run

    verbose = 0 if args.quiet else (2 if args.plain else 1)
    plots = not args.no_plots
    log = (lambda message: print(message, file=sys.stderr)) if args.quiet else print  # --quiet: stdout holds only the result
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "checkpoint.chainrule").is_file():
            raise CommandError(f"{run_dir} has no checkpoint.chainrule to resume from")
        recipe_flags = ("config", "out", "dataset", "path", "label", "samples", "hidden", "activation", "dropout",
                        "optimizer", "lr", "epochs", "batch_size", "seed")
        given = [name for name in recipe_flags if getattr(args, name) is not None]
        if given:
            raise CommandError(f"--resume continues the run with its own config.toml; it does not take "
                               f"{', '.join('--' + g.replace('_', '-') for g in given)}")
        card = train_run(None, run_dir, resume=True, verbose=verbose, data_dir=args.data_dir, plots=plots, log=log)
    else:
        config = TrainConfig.from_toml(args.config) if args.config else TrainConfig()
        config = config.with_overrides("data", dataset=args.dataset, path=args.path, label=args.label,
                                       samples=args.samples, data_dir=args.data_dir)
        config = config.with_overrides("model", hidden=args.hidden, activation=args.activation, dropout=args.dropout)
        config = config.with_overrides("train", optimizer=args.optimizer, lr=args.lr, epochs=args.epochs,
                                       batch_size=args.batch_size, seed=args.seed)
        run_dir = Path(args.out or f"runs/{config.data.dataset}")
        if (run_dir / "model.chainrule").exists() or (run_dir / "checkpoint.chainrule").exists():
            if not args.overwrite:
                raise CommandError(f"{run_dir} already holds a run; pass --overwrite to replace it, "
                                   f"--resume {run_dir} to continue it, or --out for another directory")
            remove_run_outputs(run_dir)
        card = train_run(config, run_dir, verbose=verbose, data_dir=args.data_dir, plots=plots, log=log)
    test = card["test"]
    shown = "  ".join(f"{k} {v:.4f}" for k, v in test.items())
    epochs = f"{card['epochs_run']} epoch{'s' if card['epochs_run'] != 1 else ''}"
    print(f"{card['dataset']}: test {shown}  ({epochs}, {card['wall_time_seconds']:.1f}s) "
          f"-> {run_dir}")
    return 0


def remove_run_outputs(run_dir):
    """Clear what a previous run wrote (only chainrule's own files), so nothing stale survives --overwrite."""
    import shutil

    for name in ("checkpoint.chainrule", "model.chainrule", "history.csv", "history.json", "run.json"):
        (run_dir / name).unlink(missing_ok=True)
    for leftover in run_dir.glob(".*.tmp"):
        leftover.unlink()
    shutil.rmtree(run_dir / "plots", ignore_errors=True)


def _load(path):
    """A model from a run directory or a model file, and the run's config if there is one."""
    from .. import load
    from ..training.config import TrainConfig

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no run directory or model file at {path}")
    if path.is_dir():
        if not (path / "model.chainrule").is_file():
            raise CommandError(f"{path} holds no model.chainrule (is it a finished run directory?)")
        config = TrainConfig.from_toml(path / "config.toml") if (path / "config.toml").is_file() else None
        return load(path / "model.chainrule"), config
    return load(path), None


def cmd_evaluate(args):
    from ..data import load_csv
    from ..training.run import load_data

    model, config = _load(args.model)
    if args.csv:
        X, y = load_csv(args.csv, label=args.label)
        where = args.csv
    else:
        if config is None:
            raise CommandError("a model file alone has no test split: pass --csv FILE, or a run directory")
        data = load_data(config, args.data_dir)
        X, y, where = data["X_test"], data["y_test"], f"the {config.data.dataset} test split"
    metrics = ["accuracy", "top5_accuracy", "precision", "recall", "f1"] if model._task() != "regression" else ["mse", "mae", "r2"]
    if model.n_outputs is not None and model.n_outputs < 5:
        metrics = [m for m in metrics if m != "top5_accuracy"]
    result = model.evaluate(X, y, metrics=metrics)
    print(f"{len(X)} rows of {where}")
    for key, value in result.items():
        print(f"{key:>14}  {value:.4f}")
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


def cmd_predict(args):
    import csv
    import io

    model, _ = _load(args.model)
    first = next((layer.input_size() for layer in model.layers if layer.input_size()), None)
    X = read_inputs(args.input, first, args.invert)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if model._task() == "regression":
        out = model.predict(X)
        writer.writerow([f"output{j}" for j in range(out.shape[1])])
        writer.writerows(out.tolist())
    else:
        proba = model.predict_proba(X)
        writer.writerow(["label", *(f"p{j}" for j in range(proba.shape[1]))])
        for label, row in zip(proba.argmax(axis=1), proba):
            writer.writerow([int(label), *(f"{p:.6f}" for p in row)])
    if args.output:
        from ..io.atomic import atomic_write

        with atomic_write(args.output, "w") as f:
            f.write(buffer.getvalue())
        print(f"{len(X)} predictions -> {args.output}")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0


def cmd_summary(args):
    model, config = _load(args.model)
    print(model.summary())
    if model.loss is not None:
        print(f"loss: {model.loss!r}")
    if model.preprocessor is not None:
        print(f"preprocessing: {type(model.preprocessor).__name__} (fitted on the training data)")
    return 0


def cmd_gradcheck(args):
    import numpy as np

    from .. import Dense, Sequential, Tanh, gradient_report, losses

    rng = np.random.default_rng(args.seed)
    if args.model:
        model, _ = _load(args.model)
        model = model.copy("float64")
        n_in = next(layer.input_size() for layer in model.layers if layer.input_size())
        loss = model.loss or losses.MSE()
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
    for name, error in report.items():
        if name == "X":
            shape = X.shape
        else:
            layer_index, param = name[5:].split(".")
            shape = getattr(model.layers[int(layer_index)], param).shape
        ok = error < args.tolerance
        failed += not ok
        print(f"{'d' + name:<18}{str(shape):<14}{error:>16.2e}  {'pass' if ok else 'FAIL'}")
    print(f"{len(report) - failed} of {len(report)} gradients pass (relative error < {args.tolerance:g})")
    return 1 if failed else 0


def cmd_datasets(args):
    from ..data import mnist
    from ..data.idx import DataFileError

    print(f"{'dataset':<15}{'kind':<12}status")
    print(f"{'digits':<15}{'bundled':<12}ok (1,797 8x8 images inside the package)")
    for name in ("xor", "spirals", "moons", "circles", "blobs", "sine"):
        print(f"{name:<15}{'generated':<12}ok (made on demand from the seed)")
    for name in mnist.DATASETS:
        found, problems = [], []
        for stem in mnist.PARTS.values():
            path = mnist.find_file(name, stem)
            if path is None:
                problems.append(f"{stem} missing")
                continue
            try:
                mnist.verify(name, path)
                found.append(path)
            except DataFileError:
                problems.append(f"{path} checksum mismatch")
        if problems:
            status = "; ".join(problems) + " (downloaded into the cache on first use)"
        else:
            status = f"ok, checksums verified, in {found[0].parent}"
        print(f"{name:<15}{'IDX files':<12}{status}")
    print(f"search order: --data-dir, CHAINRULE_DATA, the cache ({mnist.cache_dir()}), then a download")
    return 0


def cmd_explain(args):
    import numpy as np

    from .. import Dense, Sequential
    from ..io.atomic import atomic_write
    from ..layers import activation

    if len(args.sizes) < 2:
        raise CommandError(f"--sizes needs at least an input and an output width; received {args.sizes}")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(args.sizes[:-1], args.sizes[1:])):
        layers.append(Dense(n_in, n_out, init="glorot_uniform"))
        if i < len(args.sizes) - 2:
            layers.append(activation(args.activation))
    model = Sequential(layers, rng=args.seed, dtype="float64")
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((args.samples, args.sizes[0])).round(2)
    k = args.sizes[-1]
    if args.loss in ("cross_entropy", "crossentropy"):
        y = rng.integers(0, k, args.samples)
    elif args.loss in ("bce", "binary_cross_entropy"):
        y = rng.integers(0, 2, (args.samples, k))
    else:
        y = rng.standard_normal((args.samples, k)).round(2)
    result = model.explain(X, y, loss=args.loss, lr=args.lr, decimals=args.decimals)
    if args.markdown:
        with atomic_write(args.markdown, "w") as f:
            f.write(result.markdown() + "\n")
        print(f"\nMarkdown -> {args.markdown}")
    return 0


def cmd_bench(args):
    if args.vectorization:
        from ..reference import vectorization_speedup

        result = vectorization_speedup()
        print("the same forward and backward pass of a 64-32-10 network on 64 samples:")
        print(f"  loops (one sample, one neuron at a time): {result['loop_seconds'] * 1e3:10.2f} ms")
        print(f"  matrices (whole mini-batch at once):      {result['vectorised_seconds'] * 1e3:10.2f} ms")
        print(f"  speed-up {result['speedup']:.0f}x, largest difference between the two "
              f"{result['max_abs_difference']:.1e}")
        return 0
    import json

    from ..benchmark import run_benchmark

    results = run_benchmark(data_dir=args.data_dir, samples=args.samples, epochs=args.epochs, quick=args.quick,
                            time_to_accuracy=args.time_to_accuracy, repeats=args.repeats)
    if args.json:
        from ..io.atomic import atomic_write

        with atomic_write(args.json, "w") as f:
            json.dump(results, f, indent=2, default=str)
    return 0


COMMANDS = {"bench": cmd_bench, "explain": cmd_explain, "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "summary": cmd_summary,
            "gradcheck": cmd_gradcheck, "datasets": cmd_datasets}


if __name__ == "__main__":
    sys.exit(main())
