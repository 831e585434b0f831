"""The chapters in docs/ (each also runs as a doctest, through --doctest-glob): their numbers agree
with the README, and their links lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "docs").glob("[0-9][0-9]-*.md"))
README = (ROOT / "README.md").read_text()
CODE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def prose(path):
    """A chapter without its code blocks: what it says rather than what its code prints."""
    return CODE.sub("", path.read_text())


def results_table():
    """The README's measured Results table: {recipe: test accuracy as written, e.g. "98.55%"}."""
    section = README.split("## Results", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(configs/[\w.-]+)`[^|]*\| [^|]+\| ([\d.]+%) \|", section, flags=re.M)
    return dict(rows)


def test_results_table_is_read():
    assert results_table()["configs/mnist.toml"].endswith("%")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_percentage_in_the_prose_is_the_readmes_measured_one(chapter):
    """A figure written in the text (not printed by a doctest) is taken from the README's table."""
    measured = set(results_table().values())
    for figure in re.findall(r"\d+(?:\.\d+)?%", prose(chapter)):
        assert figure in measured, f"{chapter.name} says {figure}, which the README's Results table does not"


def test_chapter_8_quotes_mnist_from_the_results_table():
    assert results_table()["configs/mnist.toml"] in prose(ROOT / "docs" / "08-training.md")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_links_lead_to_files(chapter):
    targets = re.findall(r"\]\((\.\./[^)#]+)\)", chapter.read_text())  # the relative links: ../src/...
    assert targets, f"{chapter.name} links to no code"
    for target in targets:
        assert (chapter.parent / target).exists(), f"{chapter.name} links to {target}, which is missing"


def test_readme_learn_table_lists_every_chapter():
    for chapter in CHAPTERS:
        assert f"(docs/{chapter.name})" in README, chapter.name
