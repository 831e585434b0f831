"""Your own data through the command line: CSV targets of every kind, image folders, predict, the CLI basics."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli.main import COMMANDS, build_parser, main
from test_own_data import image_folder

SRC = Path(__file__).resolve().parents[1] / "src"


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def table(path, X, y, header=None):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        if header:
            writer.writerow(header)
        writer.writerows([*row, label] for row, label in zip(X.tolist(), y.tolist()))
    return path


def train(capsys, tmp_path, *flags):
    out_dir = tmp_path / "run"
    code, out, err = cli(capsys, "train", *flags, "--out", out_dir, "--no-plots", "--quiet", "--overwrite")
    assert code == 0, err
    return out_dir, out, err


def test_whole_number_targets_train_a_regression(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).round(3)
    y = np.round(150 + 40 * X[:, 0]).astype(float)  # written as 151.0, like scikit-learn's diabetes table
    path = table(tmp_path / "reg.csv", X, y, header=["a", "b", "c", "target"])
    run_dir, out, err = train(capsys, tmp_path, "--csv", path, "--epochs", "2")
    assert "task: regression (the targets are whole numbers with" in err and "more than 50" in err
    card = json.loads((run_dir / "run.json").read_text())
    assert card["task"]["task"] == "regression" and set(card["test"]) == {"loss", "mse", "mae", "r2"}
    np.savetxt(tmp_path / "x.csv", X[:3], delimiter=",")
    code, out, err = cli(capsys, "predict", run_dir, "--input", tmp_path / "x.csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == ["id", "prediction"] and [r[0] for r in rows[1:]] == ["1", "2", "3"]
    float(rows[1][1])
    code, out, _ = cli(capsys, "evaluate", run_dir)
    assert code == 0 and "r2" in out


def test_the_task_can_be_asked_for(tmp_path, capsys):
    X = np.arange(40, dtype=float).reshape(20, 2)
    path = table(tmp_path / "t.csv", X, np.arange(20) % 2)
    _, _, err = train(capsys, tmp_path, "--csv", path, "--epochs", "1", "--task", "regression")
    assert "task: regression (asked for" in err


@pytest.mark.parametrize("labels", [["iris-setosa", "iris-virginica"], [-1, 1], [3, 7, 9]])
def test_labels_of_any_kind_come_back_from_predict(tmp_path, capsys, labels):
    rng = np.random.default_rng(1)
    k = len(labels)
    index = np.arange(120) % k
    X = (index[:, None] * 3.0 + rng.normal(0, 0.3, (120, 2))).round(3)
    y = np.array(labels, dtype=object)[index]
    path = table(tmp_path / "labels.csv", X, y)
    run_dir, _, err = train(capsys, tmp_path, "--csv", path, "--epochs", "40", "--lr", "0.01")
    assert "task: classification" in err
    np.savetxt(tmp_path / "x.csv", X[:k], delimiter=",")
    code, out, err = cli(capsys, "predict", run_dir, "--input", tmp_path / "x.csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == ["id", "label", *(str(c) for c in sorted(labels))]
    assert [r[1] for r in rows[1:]] == [str(c) for c in labels]
    code, out, _ = cli(capsys, "evaluate", run_dir, "--csv", path)
    assert code == 0 and "accuracy" in out


def test_a_typo_in_the_first_row_is_an_error_not_a_header(tmp_path, capsys):
    path = tmp_path / "typo.csv"
    path.write_text("1,O,3\n4,5,6\n7,8,9\n")
    code, _, err = cli(capsys, "train", "--csv", path, "--out", tmp_path / "run", "--no-plots")
    assert code == 1 and f"{path}, line 1, column 2: 'O' is not a number" in err


def test_image_folders_of_two_sizes(tmp_path, capsys):
    pytest.importorskip("PIL")
    root = tmp_path / "shapes"
    image_folder(root / "train", [8, 10])
    code, _, err = cli(capsys, "train", "--images", root, "--out", tmp_path / "run", "--no-plots")
    assert code == 1 and "an image of 10x10" in err and "--image-size H W" in err
    run_dir, _, err = train(capsys, tmp_path, "--images", root, "--image-size", "8", "8", "--epochs", "30",
                            "--lr", "0.01")
    assert "task: classification" in err
    from PIL import Image

    square = np.full((8, 8), 10, np.uint8)
    square[2:6, 2:6] = 250
    Image.fromarray(square).save(tmp_path / "square.png")
    Image.fromarray(255 - square).save(tmp_path / "paper.png")  # dark ink on white paper
    Image.fromarray(np.kron(square, np.ones((2, 2), np.uint8))).save(tmp_path / "big.png")
    code, out, err = cli(capsys, "predict", run_dir, "--input", tmp_path / "square.png", tmp_path / "paper.png")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == ["id", "label", "bar", "square"]
    assert [r[:2] for r in rows[1:]] == [["square.png", "square"], ["paper.png", "square"]]
    assert "paper.png has a light background but the training images have a dark one: inverted" in err
    code, _, err = cli(capsys, "predict", run_dir, "--input", tmp_path / "big.png")
    assert code == 1 and "the image is 16x16; the model takes 8x8 images: pass --resize" in err
    code, out, _ = cli(capsys, "predict", run_dir, "--input", tmp_path / "big.png", "--resize")
    assert code == 0 and out.splitlines()[1].startswith("big.png,")


def test_a_flag_the_dataset_does_not_use_is_an_error(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "--label", "price", "--out", tmp_path / "run")
    assert code == 1 and "--label is for the csv dataset; the dataset is digits" in err
    code, _, err = cli(capsys, "train", "--csv", tmp_path / "x.csv", "--dataset", "spirals")
    assert code == 1 and "does not go with --dataset spirals" in err


def test_version_and_every_help_shows_defaults_and_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("chainrule ")
    parser = build_parser()
    for name in COMMANDS:
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        text = capsys.readouterr().out
        command = parser._subparsers._group_actions[0].choices[name]
        flags = [a for a in command._actions if a.option_strings and a.dest not in ("help", "debug")]
        assert text.count("default") >= len(flags) and "example" in text and f"chainrule {name}" in text, name


def test_output_piped_into_head_ends_quietly(tmp_path):
    rows = tmp_path / "rows.csv"
    np.savetxt(rows, np.zeros((20000, 64)), delimiter=",", fmt="%d")
    model_dir = tmp_path / "run"
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "chainrule", "train", "--epochs", "1", "--out", str(model_dir),
                    "--no-plots", "--quiet"], check=True, env=env, capture_output=True)
    done = subprocess.run(f"{sys.executable} -m chainrule predict {model_dir} --input {rows} | head -1",
                          shell=True, env=env, capture_output=True, text=True)
    assert done.stdout.startswith("id,label") and done.stderr == ""
