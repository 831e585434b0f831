"""chainrule bench: speed beside PyTorch and scikit-learn, or loops against matrices."""

from __future__ import annotations

import argparse

from .arguments import integer
from .common import CommandError, write_text


def add_parser(sub):
    parser = sub.add_parser("bench", help="speed: chainrule beside PyTorch and scikit-learn, or loops vs matrices",
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="examples:\n  chainrule bench --vectorization\n  chainrule bench --data-dir DIR --samples 20000\n"
                                  "  chainrule bench --distributed --scaling strong --batch-size 512 --repeats 5")
    parser.add_argument("--vectorization", action="store_true",
                       help="time a loop-per-sample backprop against the vectorised one on the same data")
    parser.add_argument("--data-dir", help="where the MNIST files are (else synthetic data of the same shape)")
    parser.add_argument("--samples", type=integer(1), default=20000, help="training rows per measurement")
    parser.add_argument("--epochs", type=integer(1), default=1, help="epochs per measurement")
    parser.add_argument("--repeats", type=int, default=None,
                       help="interleaved rounds per measurement; best and median are shown")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs")
    parser.add_argument("--time-to-accuracy", action="store_true", help="also time training to 98%% MNIST test accuracy")
    parser.add_argument("--distributed", action="store_true",
                       help="data-parallel scaling over MPI (N = 1, 2, 4 ranks) and a model on paper for 8-64 nodes")
    parser.add_argument("--batch-size", type=integer(4), default=None,
                       help="with --distributed: the rows per rank (weak) or per global batch (strong); 128 if not given")
    parser.add_argument("--scaling", choices=("weak", "strong", "both"), default=None,
                       help="with --distributed: weak (each rank computes --batch-size rows), strong (N ranks "
                            "share one global batch of --batch-size rows), or both (if not given)")
    parser.add_argument("--json", help="write the results as JSON to this file")
    return parser


def run(args):
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
    from pathlib import Path

    if args.distributed:
        from ..benchmark.distributed import SCALINGS, run_distributed_benchmark

        results = run_distributed_benchmark(samples=args.samples, epochs=args.epochs, quick=args.quick,
                                            batch=args.batch_size or 128, repeats=args.repeats or 3,
                                            scalings=SCALINGS if args.scaling in (None, "both") else (args.scaling,))
        if args.json:
            write_text(args.json, json.dumps(results, indent=2))
        return 0
    if args.batch_size is not None or args.scaling is not None:
        raise CommandError("--batch-size and --scaling are for --distributed; the comparison with PyTorch and scikit-learn "
                           "runs its own batch sizes (32, 128 and 512)")
    from ..benchmark import run_benchmark

    if args.data_dir and not Path(args.data_dir).is_dir():  # never a silent fallback to synthetic data
        raise CommandError(f"--data-dir {args.data_dir} is not a folder; name the folder holding the MNIST files, "
                           "or leave --data-dir out for synthetic data of the same shape")

    results = run_benchmark(data_dir=args.data_dir, samples=args.samples, epochs=args.epochs, quick=args.quick,
                            time_to_accuracy=args.time_to_accuracy, repeats=args.repeats)
    if args.json:
        write_text(args.json, json.dumps(results, indent=2, default=str))
    return 0
