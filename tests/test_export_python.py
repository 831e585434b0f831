"""to_python and ``chainrule export``: predict.py, NumPy alone, prints what ``chainrule predict`` prints.

The expected text is always taken from running ``chainrule predict`` on the same rows, so that
this test follows that command's format wherever it goes."""

import ast
import importlib.util
from pathlib import Path
import subprocess
import sys
import venv

import numpy as np
import pytest

from chainrule.cli.main import main
from chainrule.export import to_python
from test_export_models import SEEDS, random_model, raw_rows


def chainrule_predict(capsys, model_file, rows):
    capsys.readouterr()
    assert main(["predict", str(model_file), "--input", str(rows)]) == 0
    return capsys.readouterr().out


def write_rows(path, X, header=True):
    lines = ([",".join(f"x{j}" for j in range(X.shape[1]))] if header else []) + \
            [",".join(repr(float(v)) for v in row) for row in X]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_script(python, script, rows):
    result = subprocess.run([str(python), str(script), str(rows)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def exported(tmp_path, capsys, seed, m=23):
    """(predict.py written by `chainrule export`, the rows file, chainrule predict's output)."""
    model = random_model(seed)
    model.save(tmp_path / "model.chainrule")
    rows = write_rows(tmp_path / "rows.csv", raw_rows(model, m, seed), header=seed % 2 == 0)
    capsys.readouterr()
    assert main(["export", str(tmp_path / "model.chainrule"), "--python", str(tmp_path / "out")]) == 0
    assert "predict.py and weights.npz" in capsys.readouterr().out
    return tmp_path / "out" / "predict.py", rows, chainrule_predict(capsys, tmp_path / "model.chainrule", rows)


@pytest.mark.parametrize("seed", SEEDS)
def test_predict_py_prints_what_chainrule_predict_prints(tmp_path, capsys, seed):
    script, rows, expected = exported(tmp_path, capsys, seed)
    assert run_script(sys.executable, script, rows) == expected


def test_predict_py_is_short_numpy_only_and_in_the_tutorials_notation(tmp_path):
    script = to_python(random_model(0), tmp_path)
    source = script.read_text()
    # at most 120: the forward pass (float32 erf included), reading rows, printing as chainrule predict
    assert len(source.splitlines()) <= 120
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module)])}
    assert imported == {"csv", "math", "sys", "pathlib", "numpy"}
    assert "Z[l] = A[l-1] @ W[l] + b[l]" in source
    weights = np.load(tmp_path / "weights.npz", allow_pickle=False)  # no object arrays inside
    assert {"W[1]", "b[1]", "layers", "task", "offset", "scale"} <= set(weights.files)


def test_export_needs_a_target(tmp_path, capsys):
    random_model(1).save(tmp_path / "m.chainrule")
    assert main(["export", str(tmp_path / "m.chainrule")]) == 1
    assert "--onnx model.onnx, --python DIR" in capsys.readouterr().err


def test_export_onnx_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("onnx")
    random_model(2).save(tmp_path / "m.chainrule")
    assert main(["export", str(tmp_path / "m.chainrule"), "--onnx", str(tmp_path / "m.onnx")]) == 0
    assert "opset 17" in capsys.readouterr().out and (tmp_path / "m.onnx").stat().st_size > 0


@pytest.fixture(scope="module")
def numpy_only_python(tmp_path_factory):
    """A fresh virtual environment with NumPy alone (the same version as here, from pip's cache or PyPI)."""
    where = tmp_path_factory.mktemp("venv")
    venv.create(where, with_pip=False)  # this interpreter's pip installs into it: quicker than ensurepip
    python = where / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                              "--disable-pip-version-check", f"numpy=={np.__version__}"],
                             capture_output=True, text=True, timeout=300)
    if install.returncode != 0:
        pytest.skip(f"could not install NumPy into a fresh virtual environment: {install.stderr[-300:]}")
    listed = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                             "print(sorted(d.metadata['Name'].lower() for d in m.distributions()))"],
                            capture_output=True, text=True)
    assert listed.stdout.strip() == "['numpy']", listed.stdout + listed.stderr
    return python


@pytest.mark.parametrize("seed", [0, 3, 4])  # classes with a scaler, binary with Flatten, regression
def test_predict_py_runs_where_only_numpy_is_installed(tmp_path, capsys, numpy_only_python, seed):
    script, rows, expected = exported(tmp_path, capsys, seed)
    assert run_script(numpy_only_python, script, rows) == expected


def test_predict_py_has_chainrules_float32_erf():
    """predict.py carries its own copy of erf_float32's coefficients (it imports NumPy alone): the same numbers."""
    from chainrule import functional as F

    path = Path(importlib.util.find_spec("chainrule.export.predict_script").origin)  # read, not imported
    tree = ast.parse(path.read_text())
    values = [ast.literal_eval(node.value) for node in tree.body
              if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "ERF32"]
    assert values == [(F._ERF32_P, F._ERF32_Q)]
