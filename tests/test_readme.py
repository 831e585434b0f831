"""The README's Python examples run as written (in a temporary folder)."""

import re
from pathlib import Path


README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["cr"].gradcheck(namespace["model"], namespace["X_train"][:8], namespace["y_train"][:8],
                                     namespace["loss"]) < 1e-6
    assert (tmp_path / "digits.chainrule").exists()
