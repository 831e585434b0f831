"""Build a Jupyter notebook for every chapter docs/NN-*.md, from the chapter itself.

The chapters are the one text to maintain: they run as doctests, and this script turns each
into a notebook. Every ```python block becomes code cells: the `>>> ` and `... ` prompts are
dropped, and so are the outputs, which the notebook prints when it runs. A block is cut after
each statement whose output the chapter shows, so that every such output appears under its
own cell. jupytext (the `test` extra, or `pip install jupytext`) writes the notebooks.

    python scripts/build_notebooks.py [--out notebooks]

The notebooks go into ./notebooks (a sibling of docs/, so the chapters' links to ../src still
work). Open them with `jupyter lab notebooks/` (pip install jupyterlab), VS Code or any
notebook viewer.
"""

from __future__ import annotations

import argparse
import doctest
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```\n", flags=re.S | re.M)
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def cells(block):
    """The code cells of one doctest block: a list of (source, expected output, raises)."""
    out, source = [], []
    for example in doctest.DocTestParser().get_examples(block):
        source.append(example.source.rstrip("\n"))
        if example.want or example.exc_msg:
            out.append(("\n".join(source), example.want, example.exc_msg is not None))
            source = []
    if source:
        out.append(("\n".join(source), "", False))
    return out


def chapter_cells(text):
    """Every cell of a chapter, in order: ("markdown", text) or ("code", (source, want, raises))."""
    result, start = [], 0
    for match in BLOCK.finditer(text):
        result.append(("markdown", text[start:match.start()]))
        result.extend(("code", cell) for cell in cells(match.group(1)))
        start = match.end()
    result.append(("markdown", text[start:]))
    return [(kind, value) for kind, value in result if kind == "code" or value.strip()]


def to_jupytext_markdown(text):
    """The chapter rewritten as jupytext Markdown: plain code blocks, one per notebook cell."""
    parts = []
    for kind, value in chapter_cells(text):
        if kind == "markdown":
            parts.append(value.strip("\n") + "\n")
        else:
            source, _, raises = value
            fence = '```python tags=["raises-exception"]' if raises else "```python"
            parts.append(f"{fence}\n{source}\n```\n")
    return "\n".join(parts)


def notebook(path):
    """The notebook (an nbformat NotebookNode) of the chapter at ``path``."""
    import jupytext  # the test extra; imported here so that --help works without it

    nb = jupytext.reads(to_jupytext_markdown(Path(path).read_text()), fmt="md")
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata.pop("jupytext", None)  # a plain notebook, not paired with a file
    return nb


def expected_outputs(path):
    """For each code cell of the chapter, in order: (expected output, raises)."""
    return [value[1:] for kind, value in chapter_cells(Path(path).read_text()) if kind == "code"]


def chapters():
    return sorted(DOCS.glob("[0-9][0-9]-*.md"))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build a Jupyter notebook for every chapter in docs/.")
    parser.add_argument("--out", type=Path, default=ROOT / "notebooks", help="folder for the notebooks")
    args = parser.parse_args(argv)
    try:
        import jupytext
    except ImportError:
        sys.exit('build_notebooks: jupytext is needed; pip install jupytext (or ".[test]")')
    args.out.mkdir(parents=True, exist_ok=True)
    for path in chapters():
        target = args.out / (path.stem + ".ipynb")
        jupytext.write(notebook(path), target, fmt="ipynb")
        print(target)


if __name__ == "__main__":
    main()
