"""Side-by-side speed benchmark: chainrule against PyTorch and scikit-learn on the CPU.

    python benchmarks/run.py --data-dir path/to/mnist [--samples 20000] [--epochs 1]
                             [--time-to-accuracy] [--json results.json] [--quick]

MNIST is looked for in --data-dir, then in the CHAINRULE_DATA environment
variable, then in chainrule's cache; it is never downloaded. Without it the
benchmark runs on synthetic random data of the same shape and says so.
See chainrule.benchmark for what is measured and how.
"""

from __future__ import annotations

import argparse
import json
import sys

from chainrule.benchmark import SYSTEMS, run_benchmark


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None,
                        help="a folder holding the MNIST files (default: CHAINRULE_DATA, then the cache)")
    parser.add_argument("--samples", type=int, default=20000, help="training rows (default 20000)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per throughput measurement (default 1)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds per measurement; best and median are shown (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny networks and data: a smoke test")
    parser.add_argument("--time-to-accuracy", action="store_true",
                        help="also time chainrule and PyTorch to 98%% MNIST test accuracy")
    parser.add_argument("--include", nargs="+", choices=SYSTEMS, default=list(SYSTEMS),
                        help="the systems to run (default: all)")
    parser.add_argument("--json", metavar="OUT", default=None, help="also write the results as JSON to OUT")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.epochs < 1:
        parser.error("--samples and --epochs must be >= 1")

    results = run_benchmark(data_dir=args.data_dir, samples=args.samples, epochs=args.epochs, quick=args.quick,
                            include=tuple(args.include), time_to_accuracy=args.time_to_accuracy,
                            repeats=args.repeats, stream=sys.stdout)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
