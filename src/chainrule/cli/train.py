"""chainrule train: a recipe or flags into a run directory, or --resume one."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from .common import CommandError


#: the flags that set a key of the recipe, by section: --resume refuses them but --epochs (the run keeps its recipe)
RECIPE_FLAGS = {"data": ("dataset", "path", "label", "header", "task", "image_size", "color", "samples"), "model": ("hidden", "activation", "dropout"),
                "train": ("optimizer", "lr", "epochs", "batch_size", "seed")}


def add_parser(sub):
    from ..layers import ACTIVATIONS
    from ..optim import OPTIMIZERS
    from ..training.config import DATASETS

    parser = sub.add_parser("train", help="train a network from a recipe or flags into a run directory",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="flags override the recipe's values (default None: the recipe's); see configs/*.toml for recipes")
    parser.add_argument("--config", help="a TOML recipe (configs/digits.toml, ...)")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue the run in RUN_DIR from its last checkpoint; with --epochs N, continue a "
                             "finished or stopped run to N epochs in all")
    parser.add_argument("--out", help="the run directory (default runs/<dataset>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing run directory's results (kept until the new run's first checkpoint)")
    parser.add_argument("--accept-changed-data", action="store_true",
                        help="with --resume: continue even though the training data changed since the run started")
    parser.add_argument("--dataset", help=", ".join(DATASETS))
    parser.add_argument("--csv", dest="path", help="a CSV file to train on (implies --dataset csv)")
    parser.add_argument("--label", help="the CSV label column, a name or an index (recipe default: the last)")
    parser.add_argument("--header", choices=("auto", "yes", "no"),
                        help="is the CSV's first row a header? (recipe default auto: yes if every cell is text)")
    parser.add_argument("--task", choices=("auto", "classification", "regression"),
                        help="classes or numbers (recipe default auto: text, or <= 50 distinct whole numbers, "
                             "are classes)")
    parser.add_argument("--images", help="a folder DIR/train/<class>/*.png (and DIR/test/<class>/) or "
                                         "DIR/<class>/*.png (implies --dataset images)")
    parser.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), help="resize every image to H x W")
    parser.add_argument("--color", action="store_true", default=None, help="keep colour (default: gray levels)")
    parser.add_argument("--data-dir", help="where the MNIST-family files are")
    parser.add_argument("--samples", type=int, help="train on only this many rows")
    parser.add_argument("--hidden", type=int, nargs="+", help="hidden layer widths, e.g. --hidden 256 128")
    parser.add_argument("--activation", help=", ".join(ACTIVATIONS))
    parser.add_argument("--dropout", type=float, help="drop probability after each hidden layer")
    parser.add_argument("--optimizer", help=", ".join(OPTIMIZERS))
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--epochs", type=int, help="passes over the training rows")
    parser.add_argument("--batch-size", type=int, help="rows per gradient step")
    parser.add_argument("--seed", type=int, help="fixes the split, the weights and the batch order")
    parser.add_argument("--no-plots", action="store_true", help="do not write plots")
    parser.add_argument("--quiet", action="store_true", help="print only the final result")
    parser.add_argument("--plain", action="store_true", help="one line per epoch, with diagnostics (no progress bar)")
    parser.add_argument("--log-every", type=int, metavar="K", default=1,
                        help="print every K-th epoch's line, and the first and the last")
    parser.add_argument("--distributed", action="store_true",
                        help="data parallel over MPI: mpirun -n N python -m mpi4py -m chainrule train ... --distributed")
    parser.add_argument("--packed", metavar="DIR", help="train from a packed dataset (chainrule data pack SRC DIR)")
    parser.add_argument("--memory-budget", type=float, metavar="MiB", help="with --packed: the most data held in memory")
    return parser


def run(args):
    """Train (or resume); Ctrl-C or SIGTERM keeps the last finished epoch's checkpoint and exits 130."""
    import signal

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        return _run(args)
    except KeyboardInterrupt:
        run_dir = Path(args.resume or args.out or "")
        if args.resume or (args.out and (run_dir / "checkpoint.chainrule").is_file()):
            print(f"chainrule train: interrupted; the checkpoint of the last finished epoch is kept. Continue with:\n"
                  f"  chainrule train --resume {shlex.quote(str(run_dir))}", file=sys.stderr)
        else:
            print("chainrule train: interrupted before the first epoch finished; nothing was kept "
                  "(an --overwrite'n run is back as it was)", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args):
    from ..training.config import TrainConfig
    from ..training.run import train_run

    verbose = 0 if args.quiet else (2 if args.plain else 1)
    log_every = check_log_every(args)
    log = (lambda message: print(message, file=sys.stderr)) if args.quiet else print  # --quiet: stdout holds only the result
    if args.packed or args.memory_budget is not None or _is_packed_run(args.resume):
        return _run_packed(args, verbose, log)
    strategy = _strategy(args)
    root = strategy is None or strategy.is_root  # with MPI, rank 0 prints and writes
    plots = not args.no_plots and root
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "checkpoint.chainrule").is_file():
            raise CommandError(f"{run_dir} has no checkpoint.chainrule to resume from")
        recipe_flags = ("config", "out", *(flag for flags in RECIPE_FLAGS.values() for flag in flags))
        given = [name for name in recipe_flags if name != "epochs" and getattr(args, name) is not None]
        if given:
            raise CommandError(f"--resume continues the run with its own config.toml; it does not take "
                               f"{', '.join('--' + g.replace('_', '-') for g in given)} (only --epochs)")
        card = train_run(None, run_dir, resume=True, verbose=verbose, data_dir=args.data_dir, log=log,
                         accept_changed_data=args.accept_changed_data, strategy=strategy, epochs=args.epochs,
                         log_every=log_every)
    else:
        config = TrainConfig.from_toml(args.config) if args.config else TrainConfig()
        resolve_data_flags(args)
        for section, flags in RECIPE_FLAGS.items():
            config = config.with_overrides(section, **{flag: getattr(args, flag) for flag in flags})
        config = config.with_overrides("data", data_dir=args.data_dir)
        check_data_flags(args, config.data.dataset)
        run_dir = Path(args.out or f"runs/{config.data.dataset}")
        args.out = str(run_dir)
        if (run_dir / "model.chainrule").exists() or (run_dir / "checkpoint.chainrule").exists():
            if not args.overwrite:
                raise CommandError(f"{run_dir} already holds a run; pass --overwrite to replace it, "
                                   f"--resume {run_dir} to continue it, or --out for another directory")
        card = train_run(config, run_dir, verbose=verbose, data_dir=args.data_dir, log=log, overwrite=args.overwrite,
                         strategy=strategy, log_every=log_every)
    if plots:  # drawn here, not in training/: viz sits above training
        from ..training.rundir import outside_link
        from ..viz.run_plots import plot_run

        target = outside_link(run_dir, "plots")
        if target is not None:
            log(f"not drawing plots: {run_dir / 'plots'} is a symbolic link (to {target}); chainrule writes "
                "only inside the run directory")
        else:
            plot_run(run_dir, data_dir=args.data_dir, log=log)
    if not root:
        return 0
    test = card["test"]
    shown = "  ".join(f"{k} {v:.4f}" for k, v in test.items())
    epochs = f"{card['epochs_run']} epoch{'s' if card['epochs_run'] != 1 else ''}"
    print(f"{card['dataset']}: test {shown}  ({epochs}, {card['wall_time_seconds']:.1f}s) "
          f"-> {run_dir}")
    return 0


def _run_packed(args, verbose, log):
    """--packed: the recipe's model and training, the data streamed from the packed folder."""
    from ..training.config import TrainConfig
    from ..training.stream import train_packed

    if args.resume and _is_packed_run(args.resume):
        return _resume_packed(args, verbose, log)
    if not args.packed:
        raise CommandError("--memory-budget needs --packed DIR (a dataset made by chainrule data pack)")
    clashes = [flag for flag in ("resume", "dataset", "path", "samples") if getattr(args, flag)]
    clashes += ["log_every"] if args.log_every != 1 else []
    if clashes:
        raise CommandError(f"--packed takes its data from {args.packed}; it does not take "
                           f"{', '.join('--' + ('csv' if c == 'path' else c.replace('_', '-')) for c in clashes)}")
    config = TrainConfig.from_toml(args.config) if args.config else TrainConfig()
    for section, flags in RECIPE_FLAGS.items():
        config = config.with_overrides(section, **{f: getattr(args, f) for f in flags if f not in ("dataset", "path")})
    run_dir = Path(args.out or f"runs/{Path(args.packed).name}")
    if (run_dir / "model.chainrule").exists() and not args.overwrite:
        raise CommandError(f"{run_dir} already holds a run; pass --overwrite to replace it, or --out for another directory")
    strategy = _strategy(args)
    card = train_packed(config, run_dir, args.packed, args.memory_budget, verbose=verbose, log=log, strategy=strategy)
    return _print_card(card, run_dir, strategy)


def _print_card(card, run_dir, strategy=None):
    if strategy is not None and not strategy.is_root:  # with MPI, rank 0 alone prints
        return 0
    shown = "  ".join(f"{k} {v:.4f}" for k, v in card["test"].items()) or "(no test split)"
    print(f"{card['dataset']}: test {shown}  ({card['epochs_run']} epochs, {card['wall_time_seconds']:.1f}s) -> {run_dir}")
    return 0


def _is_packed_run(run_dir):
    from ..training.stream import PACKED_RECORD

    return bool(run_dir) and (Path(run_dir) / PACKED_RECORD).is_file()


def _resume_packed(args, verbose, log):
    """--resume of a --packed run: its own recipe and packed folder, from its checkpoint."""
    from ..training.stream import train_packed

    run_dir = Path(args.resume)
    if not (run_dir / "checkpoint.chainrule").is_file():
        raise CommandError(f"{run_dir} has no checkpoint.chainrule to resume from")
    recipe_flags = ("config", "out", "packed", "memory_budget", *(f for flags in RECIPE_FLAGS.values() for f in flags))
    given = [name for name in recipe_flags if getattr(args, name, None) is not None]
    if given:
        raise CommandError(f"--resume continues the packed run {run_dir} with its own config.toml and packed folder; "
                           f"it does not take {', '.join('--' + g.replace('_', '-') for g in given)}")
    strategy = _strategy(args)  # with --distributed: on any number of ranks, as the run's checkpoint is whole
    card = train_packed(None, run_dir, verbose=verbose, log=log, resume=True, strategy=strategy)
    return _print_card(card, run_dir, strategy)


def check_log_every(args):
    """--log-every K: K >= 1, and only where epoch lines are printed."""
    if args.log_every < 1:
        raise CommandError(f"--log-every must be an integer >= 1; received {args.log_every}")
    if args.quiet and args.log_every != 1:
        raise CommandError("--log-every thins the epoch lines; --quiet prints none (pass one of them)")
    return args.log_every


def _strategy(args):
    if not args.distributed:
        return None
    from ..distributed import DataParallel

    return DataParallel()


#: the data flags that only some datasets use
DATASET_FLAGS = {"label": ("csv",), "header": ("csv",), "image_size": ("images",), "color": ("images",),
                 "data_dir": ("mnist", "fashion-mnist")}


def resolve_data_flags(args):
    """--csv FILE alone means --dataset csv, --images DIR --dataset images (with path DIR)."""
    if args.images is not None:
        if args.path is not None:
            raise CommandError("--csv and --images name two datasets; pass one of them")
        if args.dataset not in (None, "images"):
            raise CommandError(f"--images trains on an image folder; it does not go with --dataset {args.dataset}")
        args.dataset, args.path = "images", args.images
    elif args.path is not None:
        if args.dataset not in (None, "csv"):
            raise CommandError(f"--csv trains on a CSV file; it does not go with --dataset {args.dataset}")
        args.dataset = "csv"


def check_data_flags(args, dataset):
    """A flag the chosen dataset does not use is an error, never silently ignored."""
    for name, datasets in DATASET_FLAGS.items():
        if getattr(args, name) is not None and dataset not in datasets:
            flag = "--" + name.replace("_", "-")
            raise CommandError(f"{flag} is for the {' or '.join(datasets)} dataset; the dataset is {dataset}")

