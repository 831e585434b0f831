"""``chainrule``: the command-line entry point."""

from __future__ import annotations

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="A neural network from scratch in NumPy, where the code reads like the math.",
        epilog="example: chainrule demo   (train on the bundled 8x8 digits and print the test accuracy)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train a network on the bundled digits and print its test accuracy")
    demo.add_argument("--epochs", type=int, default=40, help="passes over the training data (default 40)")
    demo.add_argument("--seed", type=int, default=0, help="seed for the split, the weights and the batches")
    demo.add_argument("--quiet", action="store_true", help="print only the result")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from ..demo import train_digits

        model, accuracy, seconds = train_digits(epochs=args.epochs, seed=args.seed, verbose=0 if args.quiet else 1)
        if not args.quiet:
            print(model.summary())
        print(f"digits test accuracy: {accuracy:.2%} (360 held-out images, trained in {seconds:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
