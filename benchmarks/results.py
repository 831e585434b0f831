"""Train the ready recipes and print the results recorded in the README.

    python benchmarks/results.py --data-dir DIR [--out runs/results] [--only mnist spirals]

DIR holds the MNIST and Fashion-MNIST IDX files (or set CHAINRULE_DATA; without
either they are downloaded into the cache). Each recipe trains into its own run
directory; the table gives test accuracy, final training accuracy, epochs and
wall time, and the spirals decision boundary is copied to docs/images/.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from chainrule.training.config import TrainConfig
from chainrule.training.run import train_run

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ["spirals", "digits", "mnist", "fashion-mnist"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="where the MNIST-family files are")
    parser.add_argument("--out", default="runs/results", help="parent folder of the run directories")
    parser.add_argument("--only", nargs="+", choices=RECIPES, default=RECIPES)
    args = parser.parse_args(argv)
    rows = []
    for name in args.only:
        config = TrainConfig.from_toml(ROOT / "configs" / f"{name}.toml")
        run_dir = Path(args.out) / name
        card = train_run(config, run_dir, verbose=2, data_dir=args.data_dir)
        rows.append((name, card))
        if name == "spirals":
            shutil.copy(run_dir / "plots" / "decision_boundary.png", ROOT / "docs" / "images" / "spirals.png")
    print("\n| recipe | test accuracy | final training accuracy | epochs | wall time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, card in rows:
        print(f"| `configs/{name}.toml` | {card['test']['accuracy']:.2%} | {card['final']['accuracy']:.2%} | "
              f"{card['epochs_run']} | {card['wall_time_seconds']:.0f} s |")


if __name__ == "__main__":
    main()
