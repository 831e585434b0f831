"""``chainrule``: the command line. One module per command, each with ``add_parser`` and ``run``.

Every command prints one clear line and exits non-zero on an error (a full
traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import bench, data, datasets, evaluate, explain, export, gradcheck, playground, predict, summary, train
from .common import CommandError

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
  chainrule playground                                     watch a network learn in the browser
"""

#: every command by name, in the order of ``chainrule --help``
COMMANDS = {module.__name__.rsplit(".", 1)[1]: module
            for module in (train, evaluate, predict, export, summary, gradcheck, datasets, data, explain, bench,
                           playground)}

#: an example for each command's --help (added below any epilog the command gives itself)
COMMAND_EXAMPLES = {
    "train": "  chainrule train --csv my.csv --label price --task regression\n"
             "  chainrule train --images photos --image-size 32 32 --epochs 20\n"
             "  chainrule train --resume runs/digits --epochs 40 --log-every 5",
    "evaluate": "  chainrule evaluate runs/digits\n  chainrule evaluate runs/my/model.chainrule --csv test.csv",
    "summary": "  chainrule summary runs/digits",
    "gradcheck": "  chainrule gradcheck --sizes 4 5 3",
    "datasets": "  chainrule datasets --data-dir ~/data",
    "explain": "  chainrule explain --sizes 2 3 2",
    "export": "  chainrule export runs/digits --onnx digits.onnx\n  chainrule export runs/digits --python predictor/",
    "data": "  chainrule data pack ~/data/mnist packed/mnist\n  chainrule train --packed packed/mnist --memory-budget 256",
    "playground": "  chainrule playground\n  chainrule playground --port 8001 --model runs/digits --no-browser",
}

__all__ = ["main", "build_parser", "CommandError", "COMMANDS"]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every flag's default in its help, and the epilog's examples as written."""


def _add_command(add_parser, common):
    def add(name, **kwargs):
        epilog = kwargs.pop("epilog", None) or ""
        if "example" not in epilog and name in COMMAND_EXAMPLES:
            epilog = f"{epilog}\n\nexamples:\n{COMMAND_EXAMPLES[name]}".strip()
        kwargs["formatter_class"] = HelpFormatter
        return add_parser(name, parents=[common], epilog=epilog, **kwargs)
    return add


def build_parser():
    parser = argparse.ArgumentParser(
        prog="chainrule", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        description="A neural network from scratch in NumPy, where the code reads like the math.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    # --debug is accepted after the command too (chainrule train --debug ...)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser = _add_command(sub.add_parser, common)
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (chainrule predict ... | head): end quietly
        _silence_stdout()
        return 0
    except Exception as err:  # one clear line, unless --debug
        if args.debug:
            raise
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return 1


def _silence_stdout():
    """Point stdout at devnull so that Python's flush at exit does not fail on the closed pipe again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass


if __name__ == "__main__":
    sys.exit(main())
