"""chainrule evaluate: the metrics of a trained model on its run's test split or a CSV."""

from __future__ import annotations

from .common import CommandError, load_model_or_run


def add_parser(sub):
    parser = sub.add_parser("evaluate", help="metrics of a trained model on a run's test split or a CSV")
    parser.add_argument("model", help="a run directory or a .chainrule file")
    parser.add_argument("--csv", help="evaluate on this CSV instead (features and a label column)")
    parser.add_argument("--label", default="-1", help="the CSV label column (name or index; default last)")
    parser.add_argument("--data-dir", help="where the MNIST-family files are")
    return parser


def run(args):
    from ..data import load_csv
    from ..training.run import load_data

    model, config = load_model_or_run(args.model)
    if args.csv:
        X, y = load_csv(args.csv, label=args.label)
        where = args.csv
    else:
        if config is None:
            raise CommandError("a model file alone has no test split: pass --csv FILE, or a run directory")
        data = load_data(config, args.data_dir)
        X, y, where = data["X_test"], data["y_test"], f"the {config.data.dataset} test split"
        if data["classes"] is not None and model.classes_ is not None:  # the model speaks in original labels
            y = data["classes"][y]
    metrics = ["accuracy", "top5_accuracy", "precision", "recall", "f1"] if model.task != "regression" else ["mse", "mae", "r2"]
    if model.n_outputs is not None and model.n_outputs < 5:
        metrics = [m for m in metrics if m != "top5_accuracy"]
    result = model.evaluate(X, y, metrics=metrics)
    print(f"{len(X)} rows of {where}")
    for key, value in result.items():
        print(f"{key:>14}  {value:.4f}")
    return 0
