"""The package's layers (README, Layout): module-level imports point only downward, checked by
import-linter against the contract in pyproject.toml; and every source file reads in one sitting."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "chainrule"


def lint_imports(config):
    command = shutil.which("lint-imports")
    assert command, 'lint-imports is missing: pip install -e ".[test]" installs import-linter'
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": str(Path(sys.executable).parent)}
    return subprocess.run([command, "--config", str(config), "--no-cache"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_layers_contract_is_kept():
    result = lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_the_contract_catches_an_upward_import(tmp_path):
    """The same contract without the listed upward delegations fails, naming one of them."""
    text = (ROOT / "pyproject.toml").read_text()
    start = text.index("ignore_imports = [")
    broken = text[:start] + "ignore_imports = []\n" + text[text.index("]", start) + 1:]
    config = tmp_path / "pyproject.toml"
    config.write_text(broken)
    result = lint_imports(config)
    assert result.returncode != 0 and "chainrule.model is not allowed to import chainrule." in result.stdout


@pytest.mark.parametrize("path", sorted(SOURCE.rglob("*.py")), ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_source_file_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400
