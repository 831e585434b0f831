"""``chainrule``: the command line. One module per command, each with ``add_parser`` and ``run``.

Every command prints one clear line and exits non-zero on an error (a full
traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import sys

from . import bench, data, datasets, evaluate, explain, gradcheck, predict, summary, train
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
"""

#: every command by name, in the order of ``chainrule --help``
COMMANDS = {module.__name__.rsplit(".", 1)[1]: module
            for module in (train, evaluate, predict, summary, gradcheck, datasets, data, explain, bench)}

__all__ = ["main", "build_parser", "CommandError", "COMMANDS"]


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
    except Exception as err:  # one clear line, unless --debug
        if args.debug:
            raise
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
