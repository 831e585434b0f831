"""Every chapter opens as a notebook (scripts/build_notebooks.py, jupytext) that runs end to end
in a real Jupyter kernel (nbclient, ipykernel) and prints, under each cell, what the chapter
shows."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest
from nbclient import NotebookClient  # the test extra installs jupytext, nbclient and ipykernel: a missing one fails

import chainrule

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(chainrule.__file__).resolve().parents[1]  # the chainrule under test, also in the kernel
spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)
CHAPTERS = build.chapters()


def normalise(text):
    return " ".join(text.split())


def printed(cell):
    """What a run cell showed: its printed text and the value of its last line, as text."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "execute_result":
            parts.append(output.data["text/plain"])
    return "".join(parts)


def test_every_chapter_has_a_notebook():
    assert [p.name for p in CHAPTERS] == [f"{n:02d}-{p.name[3:]}" for n, p in enumerate(CHAPTERS, 1)]
    assert len(CHAPTERS) == 8


def test_a_chapter_becomes_cells_without_prompts_or_outputs():
    text = "Text.\n\n```python\n>>> x = 2\n>>> for i in range(2):\n...     x += i\n>>> x\n3\n>>> y = x\n```\n\nEnd.\n"
    converted = build.to_jupytext_markdown(text)
    assert ">>>" not in converted and "..." not in converted
    assert "```python\nx = 2\nfor i in range(2):\n    x += i\nx\n```" in converted
    assert "```python\ny = x\n```" in converted  # the last statement shows nothing: its own cell
    assert "\n3\n" not in converted                 # the output is the notebook's to print


def test_notebooks_are_written(tmp_path):
    build.main(["--out", str(tmp_path)])
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.stem + ".ipynb" for p in CHAPTERS]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_runs_and_prints_what_the_chapter_shows(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    nb = build.notebook(chapter)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    expected = build.expected_outputs(chapter)
    assert len(code) == len(expected) > 0
    for cell, (want, raises) in zip(code, expected):
        if raises:
            errors = [o for o in cell.outputs if o.output_type == "error"]
            name = re.search(r"^(\w+):", want.splitlines()[-1]).group(1)
            assert errors and errors[0].ename == name, cell.source
        else:
            assert normalise(printed(cell)) == normalise(want), cell.source
