"""examples/*.py: every script runs as a program (in a temporary folder), prints what its chapter
shows, and writes real, non-blank PNGs into --out; with only the core installed (no matplotlib) it
prints the same, skips the pictures with a one-line hint and exits 0."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg  # the test extra installs matplotlib: a missing one fails, not skips
import pytest

import chainrule

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SRC = Path(chainrule.__file__).resolve().parents[1]  # the chainrule under test, also in the subprocesses
HINT = '(pictures skipped: pip install "chainrule[plot]" to draw them)'

# python -c WITHOUT_MATPLOTLIB script args: runs the script as __main__ where `import matplotlib`
# (and any matplotlib.*) fails as if only the core were installed.
WITHOUT_MATPLOTLIB = """
import os, runpy, sys

class NoMatplotlib:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoMatplotlib())
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))  # as `python script` sets it
runpy.run_path(sys.argv[0], run_name="__main__")
"""

# script: (text the output must contain, PNG files it must write into --out)
EXPECTED = {
    "01_learning.py": (["learnt w = 3.000000", "the cost fell from 42.0", "Dense(1, 1)"],
                       ["01_cost_by_hand.png", "01_cost_surface.png"]),
    "02_matrices_and_derivatives.py": (["2*1 + 3*5 + 2*2 = 2 + 15 + 4 = 21", "A (3, 2) @ B (2, 3) -> C (3, 3)",
                                        "2x =  6.00000", "autograd (Value.backward)", "vectorised (model.backward)",
                                        "the same gradients"], []),
    "03_perceptron.py": (["AND: labels [0, 0, 0, 1]", "converged: True", "OR: labels [0, 1, 1, 1]",
                          "converged: False", "did not converge", "not linearly separable",
                          "predictions [0, 1, 1, 0] (targets [0, 1, 1, 0])", "A SIGMOID NEURON on AND",
                          "predictions [0, 0, 0, 1]"],
                         ["03_perceptron_lines.png", "03_xor_two_layer.png", "03_cost_surface.png"]),
    "04_notation.py": (["W[1]    (4, 3)", "b[1]    (3,)", "W[2]    (3, 2)", "b[2]    (2,)",
                        "model.num_params = 23", "the same numbers: True"],
                       ["04_network.png", "04_network_digits.png"]),
    "05_feedforward.py": (["the same: True", "equal to model.forward (to rounding): True", "times faster"], []),
    "06_cost.py": (["= 0.625", "-log 0.7870 = 0.2395", "-log 0.1065 = 2.2395", "P = [nan, 0.0]",
                    "P = [1.0, 0.0]", "true class 0 -> 0.0, true class 1 -> 1000.0"], []),
    "07_backprop.py": (["FORWARD PASS", "BACKWARD PASS", "dW[1] = A[0].T @ dZ[1]", "finite differences",
                        "UPDATE (gradient descent)", "backpropagation is correct"], []),
    "08_training.py": (["the bundled digits", "test accuracy"],
                       ["08_history.png", "08_confusion.png", "08_misclassified.png"]),
}


def run(script, cwd, *args, matplotlib=True):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, str(script)] if matplotlib else [sys.executable, "-c", WITHOUT_MATPLOTLIB, str(script)]
    result = subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr
    assert "Warning" not in result.stderr, result.stderr  # e.g. an overflow in NumPy
    return result.stdout


def check_png(path):
    """A real PNG with something drawn on it."""
    assert path.is_file(), f"{path.name} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, image.shape
    assert image[..., :3].std() > 0.05, f"{path.name} looks blank"


def test_every_script_is_expected_and_every_chapter_has_one():
    assert [s.name for s in SCRIPTS] == sorted(EXPECTED)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_is_a_documented_program(script):
    source = script.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    chapter = int(script.name[:2])
    assert docstring and f"Chapter {chapter}," in docstring, "the docstring names its chapter"
    assert 'if __name__ == "__main__":' in source
    assert "argparse" in source and "--out" in source
    assert not re.search(r"(/w[o]rk/|/home/|/tmp/|C:\\)", source), "no machine paths"
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    private = [name for name in imported if name.startswith("chainrule") and "._" in name]
    assert not private, f"only the public chainrule API: {private}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_runs_and_shows_its_chapter(script, tmp_path):
    texts, pngs = EXPECTED[script.name]
    out = tmp_path / "out"
    stdout = run(script, tmp_path, "--out", str(out))
    for text in texts:
        assert text in stdout, f"{script.name}: {text!r} not in the output:\n{stdout}"
    for name in pngs:
        check_png(out / name)
    if script.name == "08_training.py":
        accuracy = float(re.search(r"test accuracy ([\d.]+)%", stdout).group(1))
        assert accuracy > 90, stdout
    if not pngs:
        assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_runs_with_only_the_core_installed(script, tmp_path):
    texts, pngs = EXPECTED[script.name]
    out = tmp_path / "out"
    stdout = run(script, tmp_path, "--out", str(out), matplotlib=False)
    for text in texts:
        assert text in stdout, f"{script.name}: {text!r} not in the output:\n{stdout}"
    assert stdout.count(HINT) == (1 if pngs else 0), stdout
    assert "pictures:" not in stdout and not out.exists()  # nothing drawn, not even an empty folder


def test_pictures_go_to_examples_out_by_default(tmp_path):
    run(EXAMPLES / "04_notation.py", tmp_path)
    check_png(tmp_path / "examples_out" / "04_network.png")
